/// A whole recipe for training a VQ autoencoder — architecture and optimisation together — so that
/// the authors' settings and the workbook's can be trained side by side and compared for the same
/// time (issue 12: quality per CPU-minute).
public struct VQRecipe: Codable, Equatable, Sendable {
    public enum Name: String, Codable, Sendable, CaseIterable {
        /// The authors' VQ autoencoder as configured for small images.
        case reference
        /// What this workbook measured to learn more per CPU-second.
        case workbook
    }

    public var name: Name
    public var autoencoder: AutoencoderConfig
    public var training: VQTrainingConfig

    public init(name: Name, autoencoder: AutoencoderConfig, training: VQTrainingConfig) {
        self.name = name; self.autoencoder = autoencoder; self.training = training
    }

    /// The recipe for `resolution`² images at downsampling factor `f` (a power of two) with `codes`
    /// codebook entries and batches of `batch`.
    ///
    /// - reference: ch 64, ch_mult 1,2,…,2 (f = 2^(levels − 1)), one ResnetBlock per level,
    ///   attention at the latent resolution, z = embed_dim = 64, codes uniform in ±1/K and never
    ///   restarted, β = 0.25 on the commitment term, L1 + codebook loss, Adam 2e-4 (0.5, 0.9) at a
    ///   constant rate.
    /// - workbook: what chapter 02 measured to learn more per CPU-second on photo patches —
    ///   a quarter of the channels (ch 16, z = embed_dim = 16: about a tenth of the arithmetic
    ///   per step, for the same quality per step early in training); GroupNorm over all channels
    ///   at once (`normGroups` 1) instead of 32 groups, which on 16 or 32 channels normalise
    ///   every feature map per image and so erase the colour of flat patches; a linear patch
    ///   shortcut around encoder and decoder (`AutoencoderConfig.patchShortcut`), so colours
    ///   and patterns the training pictures lacked still come through; the codebook
    ///   initialised by k-means on the first batch's encoder outputs and dead codes restarted
    ///   after 100 idle steps; a squared-error pixel loss (PSNR is a squared-error measure); and
    ///   a ten times larger learning rate decayed along a cosine to a tenth.
    public static func named(_ name: Name, resolution: Int = 32, downsampling f: Int = 4, codes: Int = 512,
                             batch: Int = 16) -> VQRecipe {
        let levels = f.trailingZeroBitCount + 1
        let multipliers = [1] + Array(repeating: 2, count: levels - 1)
        let latent = resolution / f
        switch name {
        case .reference:
            return VQRecipe(
                name: name,
                autoencoder: AutoencoderConfig(channels: 64, channelMultipliers: multipliers, resBlocksPerLevel: 1,
                                               attentionResolutions: [latent], zChannels: 64, embedDim: 64,
                                               codebookSize: codes, resolution: resolution),
                training: VQTrainingConfig(learningRate: 2e-4, batchSize: batch, codebook: .reference,
                                           finalLearningRateFraction: 1))
        case .workbook:
            return VQRecipe(
                name: name,
                autoencoder: AutoencoderConfig(channels: 16, channelMultipliers: multipliers, resBlocksPerLevel: 1,
                                               attentionResolutions: [latent], zChannels: 16, embedDim: 16,
                                               codebookSize: codes, resolution: resolution, normGroups: 1,
                                               patchShortcut: true),
                training: VQTrainingConfig(learningRate: 2e-3, batchSize: batch, reconstruction: .l2,
                                           codebook: CodebookOptions(), finalLearningRateFraction: 0.1))
        }
    }
}
