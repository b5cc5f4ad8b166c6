/// The hyperparameters of the VQGAN autoencoder (the reference's `ddconfig` plus the quantizer's
/// size), with the authors' names in the comments.
public struct AutoencoderConfig: Codable, Equatable, Sendable {
    /// Base channel count (`ch`).
    public var channels: Int
    /// Channel multiplier per resolution level (`ch_mult`); f = 2^(levels − 1).
    public var channelMultipliers: [Int]
    /// ResnetBlocks per level in the encoder (`num_res_blocks`); the decoder has one more.
    public var resBlocksPerLevel: Int
    /// Resolutions at which an AttnBlock follows each ResnetBlock (`attn_resolutions`).
    public var attentionResolutions: [Int]
    /// Channels of the encoder's output and the decoder's input (`z_channels`).
    public var zChannels: Int
    /// Dimension of each codebook vector (`embed_dim`).
    public var embedDim: Int
    /// Number of codebook vectors (`n_embed`).
    public var codebookSize: Int
    /// Training image side (`resolution`); only used to place attention.
    public var resolution: Int
    /// Image channels in and out (`in_channels`, `out_ch`): 3 for RGB, n_labels for one-hot maps.
    public var inChannels: Int
    public var outChannels: Int
    /// Dropout inside ResnetBlocks (`dropout`; 0 in every VQGAN config).
    public var dropout: Float
    /// Most groups of every GroupNorm (32 in the reference; see `Normalize`).
    public var normGroups: Int
    /// A linear path around each network (not in the reference): the encoder adds an f×f,
    /// stride-f convolution of the pixels to its output, and the decoder adds a 3×3 convolution
    /// of its input to C·f² channels, each latent cell's channels laid out as its f×f block of
    /// pixels. Colours and patterns the deep path never saw still pass through linearly; see
    /// `Encoder` and `Decoder`.
    public var patchShortcut: Bool

    public init(channels: Int, channelMultipliers: [Int], resBlocksPerLevel: Int,
                attentionResolutions: [Int], zChannels: Int, embedDim: Int, codebookSize: Int,
                resolution: Int, inChannels: Int = 3, outChannels: Int = 3, dropout: Float = 0,
                normGroups: Int = 32, patchShortcut: Bool = false) {
        self.channels = channels; self.channelMultipliers = channelMultipliers
        self.resBlocksPerLevel = resBlocksPerLevel; self.attentionResolutions = attentionResolutions
        self.zChannels = zChannels; self.embedDim = embedDim; self.codebookSize = codebookSize
        self.resolution = resolution; self.inChannels = inChannels; self.outChannels = outChannels
        self.dropout = dropout; self.normGroups = normGroups; self.patchShortcut = patchShortcut
    }

    /// The downsampling factor f: each level but the last halves the resolution.
    public var downsamplingFactor: Int { 1 << (channelMultipliers.count - 1) }

    /// The side of the latent grid for an image of side `resolution`.
    public var latentResolution: Int { resolution / downsamplingFactor }

    /// The reference's ImageNet f16 VQGAN (configs/imagenet_vqgan.yaml): 72.1 M parameters.
    public static let imagenetF16 = AutoencoderConfig(
        channels: 128, channelMultipliers: [1, 1, 2, 2, 4], resBlocksPerLevel: 2,
        attentionResolutions: [16], zChannels: 256, embedDim: 256, codebookSize: 1024, resolution: 256)
}
