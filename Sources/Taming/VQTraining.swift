import Foundation
import NN
import Tensors

/// How a VQ autoencoder is trained in chapter 02 (and retrained on demand by later chapters).
public struct VQTrainingConfig: Codable, Equatable, Sendable {
    public enum Reconstruction: String, Codable, Sendable { case l1, l2 }

    public var learningRate: Float
    /// Adam's betas; the reference uses (0.5, 0.9) for the autoencoder.
    public var beta1: Float
    public var beta2: Float
    public var batchSize: Int
    /// Per-pixel reconstruction loss: L1 as the reference, or L2 as the VQ-VAE paper.
    public var reconstruction: Reconstruction
    public var codebook: CodebookOptions
    /// Cosine decay of the learning rate to `finalLearningRateFraction` of its start over the run.
    public var finalLearningRateFraction: Float

    public init(learningRate: Float = 1e-3, beta1: Float = 0.5, beta2: Float = 0.9, batchSize: Int = 16,
                reconstruction: Reconstruction = .l1, codebook: CodebookOptions = CodebookOptions(),
                finalLearningRateFraction: Float = 0.1) {
        self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.batchSize = batchSize
        self.reconstruction = reconstruction; self.codebook = codebook
        self.finalLearningRateFraction = finalLearningRateFraction
    }
}

/// The numbers of one training step.
public struct VQStepLosses: Codable, Equatable, Sendable {
    public var step: Int
    public var reconstruction: Float
    public var codebook: Float
    public var commitment: Float
    /// Fraction of the codebook chosen in this batch, and the perplexity of the batch's codes.
    public var batchUsage: Float
    public var perplexity: Float
}

/// One optimisation step of a VQ-VAE: reconstruct, add the quantiser's loss, step Adam, then let
/// the codebook maintainer initialise, update or restart codes.
///
///     L = |x − D(z_q)| + ‖sg[ẑ] − z_q‖² + β‖ẑ − sg[z_q]‖²        (Eq. 4, with an L1 pixel term)
public final class VQTrainer {
    public let model: VQModel
    public let config: VQTrainingConfig
    public let optimizer: Adam
    public let maintainer: CodebookMaintainer
    private var rng: RandomGenerator

    public init(model: VQModel, config: VQTrainingConfig, seed: UInt64) {
        self.model = model
        self.config = config
        if config.codebook.ema { model.quantize.embedding.weight.requiresGrad = false }
        optimizer = Adam(namedParameters: model.namedParameters(), lr: config.learningRate,
                         betas: (config.beta1, config.beta2))
        maintainer = CodebookMaintainer(options: config.codebook, codebookSize: model.quantize.codebookSize,
                                        dimension: model.quantize.dimension)
        rng = RandomGenerator(seed: seed)
    }

    /// Continuing a saved run: the codebook was already initialised.
    public func resume() { maintainer.skipInitialization() }

    /// Sets the learning rate for `step` of `totalSteps` (cosine decay; constant when unknown).
    public func scheduleLearningRate(step: Int, totalSteps: Int?) {
        guard let total = totalSteps, total > 1 else { optimizer.lr = config.learningRate; return }
        scheduleLearningRate(progress: Double(min(step, total)) / Double(total))
    }

    /// Sets the learning rate for a run that has spent `progress` ∈ [0, 1] of its budget (of
    /// steps or of seconds): a cosine from the full rate down to `finalLearningRateFraction` of it.
    public func scheduleLearningRate(progress: Double) {
        let floor = config.finalLearningRateFraction
        let p = Float(min(max(progress, 0), 1))
        optimizer.lr = config.learningRate * (floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * p)))
    }

    /// Trains on one batch of images [B, C, H, W] in [-1, 1].
    public func step(_ images: Tensor, step: Int) -> VQStepLosses {
        let pass = forward(images)
        let rec = pixelLoss(pass.reconstruction, images)
        let usage = update(pass, loss: rec + pass.quantized.loss)
        return VQStepLosses(step: step, reconstruction: rec.item, codebook: pass.quantized.codebookLoss,
                            commitment: pass.quantized.commitmentLoss, batchUsage: Float(usage.usage),
                            perplexity: Float(usage.perplexity))
    }

    // The two halves of a step, for trainers that add terms to the loss (the VQGAN's).

    /// The forward half of a step, in training mode: encode, quantise, decode.
    public func forward(_ images: Tensor) -> VQForwardPass {
        model.train()
        let latents = model.encodeContinuous(images)                 // ẑ [B, D, h, w]
        let q = model.quantize(latents)
        return VQForwardPass(latents: latents, quantized: q, reconstruction: model.decode(q.quantized))
    }

    /// The per-pixel reconstruction loss, mean |x − x̂| (or mean (x − x̂)² with `.l2`).
    public func pixelLoss(_ reconstruction: Tensor, _ images: Tensor) -> Tensor {
        config.reconstruction == .l1 ? l1Loss(reconstruction, images) : mseLoss(reconstruction, images)
    }

    /// The update half of a step: backpropagates `loss` (built on `pass`) into the autoencoder,
    /// steps Adam, then lets the maintainer initialise or restart codes. Returns the batch's
    /// codebook usage.
    @discardableResult
    public func update(_ pass: VQForwardPass, loss: Tensor) -> CodebookUsage {
        model.zeroGrad()
        loss.backward()
        optimizer.step()
        let d = model.quantize.dimension
        let vectors = pass.latents.detached().permuted([0, 2, 3, 1]).reshaped([-1, d])
        withNoGrad { maintainer.update(model.quantize, vectors: vectors, indices: pass.quantized.indices, rng: &rng) }
        return CodebookUsage(indices: pass.quantized.indices, codebookSize: model.quantize.codebookSize)
    }
}

/// What the forward half of a VQ training step computed.
public struct VQForwardPass {
    /// The continuous latents ẑ [B, D, h, w].
    public var latents: Tensor
    /// The quantiser's output: z_q (straight-through), its loss and the code indices.
    public var quantized: VectorQuantizer.Output
    /// x̂ [B, C, H, W].
    public var reconstruction: Tensor
}

/// How well a VQ autoencoder reconstructs held-out images, and how it uses its codebook.
public struct VQEvaluation: Codable, Equatable, Sendable {
    public var psnr: Double
    public var ssim: Double
    public var l1: Double
    public var codebookUsage: Double
    public var perplexity: Double
    /// Bits to store one image's code sequence: h·w·log2(K).
    public var bitsPerImage: Double
    public var usageCounts: [Int]
}

extension VQModel {
    /// Reconstructs `images` [N, C, H, W] in batches without recording gradients.
    public func reconstruct(_ images: Tensor, batchSize: Int = 32) -> (images: Tensor, indices: [Int]) {
        eval()
        defer { train() }
        return withNoGrad {
            var outs: [Tensor] = [], indices: [Int] = []
            let n = images.shape[0]
            for start in stride(from: 0, to: n, by: batchSize) {
                let x = images.slice(axis: 0, start..<min(n, start + batchSize))
                let q = encode(x)
                outs.append(decode(q.quantized))
                indices += q.indices
            }
            return (concat(outs, axis: 0), indices)
        }
    }

    /// PSNR, SSIM, L1 and codebook statistics on held-out images.
    public func evaluate(_ images: Tensor) -> VQEvaluation {
        let (reconstructed, indices) = reconstruct(images)
        let usage = CodebookUsage(indices: indices, codebookSize: quantize.codebookSize)
        let latent = indices.count / max(images.shape[0], 1)
        return VQEvaluation(psnr: ImageMetrics.psnr(reconstructed, images), ssim: ImageMetrics.ssim(reconstructed, images),
                            l1: ImageMetrics.l1(reconstructed, images), codebookUsage: usage.usage,
                            perplexity: usage.perplexity,
                            bitsPerImage: Double(latent) * log2(Double(quantize.codebookSize)),
                            usageCounts: usage.counts)
    }
}
