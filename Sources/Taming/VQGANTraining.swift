import Foundation
import NN
import Tensors

/// The loss settings of a VQGAN, the reference's `VQLPIPSWithDiscriminator` arguments.
public struct VQGANLossConfig: Codable, Equatable, Sendable {
    /// Weight of the perceptual distance in the reconstruction loss (`perceptual_weight`, 1.0).
    public var perceptualWeight: Float
    /// Multiplies the adaptive weight λ (`disc_weight`: 0.8 in the reference's configs).
    public var discriminatorWeight: Float
    /// The GAN terms' weight once they are on (`disc_factor`, 1.0).
    public var discriminatorFactor: Float
    /// The first step with the GAN terms on (`disc_start`). Before it the discriminator is neither
    /// consulted nor trained, as in the reference, whose gate sets both terms to zero.
    public var discriminatorStart: Int
    /// The discriminator's objective (`disc_loss`: hinge in the reference).
    public var ganLoss: GANLoss
    /// The discriminator's learning rate; nil for the autoencoder's, as the reference.
    public var discriminatorLearningRate: Float?

    public init(perceptualWeight: Float = 1, discriminatorWeight: Float = 0.8, discriminatorFactor: Float = 1,
                discriminatorStart: Int = 0, ganLoss: GANLoss = .hinge, discriminatorLearningRate: Float? = nil) {
        self.perceptualWeight = perceptualWeight; self.discriminatorWeight = discriminatorWeight
        self.discriminatorFactor = discriminatorFactor; self.discriminatorStart = discriminatorStart
        self.ganLoss = ganLoss; self.discriminatorLearningRate = discriminatorLearningRate
    }
}

/// The numbers of one VQGAN training step. The GAN values are nil before `discriminatorStart`.
public struct VQGANStepLosses: Codable, Equatable, Sendable {
    public var step: Int
    /// mean |x − x̂| (or the squared error with an L2 config).
    public var reconstruction: Float
    /// The mean perceptual distance between x and x̂ (0 without a perceptual loss).
    public var perceptual: Float
    public var codebook: Float
    public var commitment: Float
    /// The generator's loss L_G = −mean D(x̂).
    public var generator: Float?
    /// λ of Eq. (7), already multiplied by `discriminatorWeight`.
    public var adaptiveWeight: Float?
    /// The discriminator's loss on this batch (before its update).
    public var discriminator: Float?
    /// The mean logit D gave real images and reconstructions in its own step.
    public var logitsReal: Float?
    public var logitsFake: Float?
    /// Fraction of the codebook chosen in this batch, and the perplexity of the batch's codes.
    public var batchUsage: Float
    public var perplexity: Float
}

/// One optimisation step of a VQGAN, as the reference's `VQModel.training_step` with its two
/// optimizers (§3.1, Eq. (5)–(7)):
///
///     autoencoder:   L = |x − x̂| + w_p·d(x, x̂) + L_VQ + λ·f·L_G,   L_G = −mean D(x̂),
///                    λ = w_d · ‖∇_{G_L} L_rec‖ / (‖∇_{G_L} L_G‖ + 10⁻⁴)   (G_L: decoder.conv_out.weight)
///     discriminator: L_D = f · ½(mean relu(1 − D(x)) + mean relu(1 + D(sg[x̂])))   (hinge)
///
/// with d the perceptual distance, L_rec = |x − x̂| + w_p·d(x, x̂), and f = `discriminatorFactor`
/// from `discriminatorStart` on and 0 before (then D is neither run nor trained). Both optimizers
/// are Adam with the training config's betas, (0.5, 0.9) as the reference.
///
/// The autoencoder half — forward pass, Adam step, codebook initialisation and restarts, the
/// learning-rate schedule — is a `VQTrainer`'s, so a VQGAN and a VQ-VAE differ here only by the
/// extra loss terms and the discriminator's step.
///
/// Two savings over a literal transcription, neither changing the autoencoder's update: λ and the
/// update use the two losses' gradients at x̂, taken once each (the perceptual network and D are
/// each crossed backwards once, not twice); and where the reference redoes the forward pass for
/// the discriminator's step (with the autoencoder just updated), this step gives D the
/// reconstructions the autoencoder's half made.
public final class VQGANTrainer {
    public let model: VQGAN
    /// The autoencoder's optimizer, codebook maintenance and learning-rate schedule.
    public let autoencoder: VQTrainer
    public let discriminatorOptimizer: Adam
    /// The perceptual distance d, frozen; nil for a GAN with an L1 reconstruction loss only.
    public let perceptual: PerceptualLoss?
    /// The loss settings. `discriminatorStart` may be moved between steps (a run on a time
    /// budget turns D on when a fraction of its time is spent); the rest is read at init.
    public var loss: VQGANLossConfig
    private let discriminatorParameters: [Tensor]
    private let discriminatorLearningRate: Float

    public init(model: VQGAN, training: VQTrainingConfig, loss: VQGANLossConfig = VQGANLossConfig(),
                perceptual: PerceptualLoss?, seed: UInt64) {
        self.model = model
        self.loss = loss
        self.perceptual = perceptual
        autoencoder = VQTrainer(model: model.autoencoder, config: training, seed: seed)
        discriminatorParameters = model.discriminator.parameters()
        discriminatorLearningRate = loss.discriminatorLearningRate ?? training.learningRate
        discriminatorOptimizer = Adam(namedParameters: model.discriminator.namedParameters(),
                                      lr: discriminatorLearningRate, betas: (training.beta1, training.beta2))
    }

    /// Continuing a saved run: the codebook was already initialised.
    public func resume() { autoencoder.resume() }

    /// Whether the GAN terms are on at `step` (from `discriminatorStart`).
    public func discriminatorIsOn(at step: Int) -> Bool { step >= loss.discriminatorStart }

    /// Sets both learning rates for a run that has spent `progress` ∈ [0, 1] of its budget: the
    /// autoencoder's cosine (see `VQTrainer`), and the discriminator's scaled by the same factor.
    public func scheduleLearningRate(progress: Double) {
        autoencoder.scheduleLearningRate(progress: progress)
        discriminatorOptimizer.lr = discriminatorLearningRate * autoencoder.optimizer.lr / autoencoder.config.learningRate
    }

    /// Trains on one batch of images [B, C, H, W] in [-1, 1]: the autoencoder, then (from
    /// `discriminatorStart` on) the discriminator.
    public func step(_ images: Tensor, step: Int) -> VQGANStepLosses {
        var (losses, reconstruction) = autoencoderStep(images, step: step)
        if discriminatorIsOn(at: step) {
            let d = discriminatorStep(real: images, fake: reconstruction)
            losses.discriminator = d.loss
            losses.logitsReal = d.logitsReal
            losses.logitsFake = d.logitsFake
        }
        return losses
    }

    /// The autoencoder's half of a step: its losses, and the reconstructions x̂ [B, C, H, W] it
    /// made (before its update), still attached to the graph.
    public func autoencoderStep(_ images: Tensor, step: Int) -> (losses: VQGANStepLosses, reconstruction: Tensor) {
        let pass = autoencoder.forward(images)
        let x̂ = pass.reconstruction
        let pixel = autoencoder.pixelLoss(x̂, images)
        let distance = perceptual.map { $0(images, x̂) }
        let reconstructionLoss = distance.map { pixel + $0 * loss.perceptualWeight } ?? pixel
        var total = reconstructionLoss + pass.quantized.loss
        var generator: Float?, lambda: Float?
        if discriminatorIsOn(at: step) {
            // D is a fixed judge in this half: no gradients for its weights, only through it.
            for p in discriminatorParameters { p.requiresGrad = false }
            model.discriminator.train()
            let g = GANLoss.generatorLoss(fake: model.discriminator(x̂))
            // Both losses reach the decoder's weights only through x̂: take their gradients at x̂
            // once (through the perceptual network and D), then ∇_W L = ∇_W ⟨x̂, sg[∂L/∂x̂]⟩.
            let recAtOutput = reconstructionLoss.gradients(with: [x̂])[0]     // [B, C, H, W]
            let ganAtOutput = g.gradients(with: [x̂])[0]
            let weight = adaptiveWeight(reconstructionGradient: recAtOutput, generatorGradient: ganAtOutput,
                                        output: x̂, lastLayer: model.autoencoder.lastLayerWeight,
                                        discriminatorWeight: loss.discriminatorWeight)
            // The same gradients as L_rec + λ·f·L_G + L_VQ, without a second pass through P and D.
            let atOutput = (recAtOutput + ganAtOutput * (weight * loss.discriminatorFactor)).detached()
            total = (x̂ * atOutput).sum() + pass.quantized.loss
            generator = g.item
            lambda = weight
        }
        let usage = autoencoder.update(pass, loss: total)
        for p in discriminatorParameters { p.requiresGrad = true }
        let losses = VQGANStepLosses(
            step: step, reconstruction: pixel.item, perceptual: distance?.item ?? 0,
            codebook: pass.quantized.codebookLoss, commitment: pass.quantized.commitmentLoss,
            generator: generator, adaptiveWeight: lambda, batchUsage: Float(usage.usage),
            perplexity: Float(usage.perplexity))
        return (losses, x̂)
    }

    /// The discriminator's half of a step: one Adam step on its loss between real images and
    /// reconstructions [B, C, H, W]. It detaches `fake`, so no gradient reaches the autoencoder.
    /// Returns the loss and the mean logits (before the update).
    @discardableResult
    public func discriminatorStep(real: Tensor, fake: Tensor) -> (loss: Float, logitsReal: Float, logitsFake: Float) {
        let d = model.discriminator
        d.train()
        let logitsReal = d(real.detached())       // [B, 1, h, w]
        let logitsFake = d(fake.detached())
        let objective = loss.ganLoss.discriminatorLoss(real: logitsReal, fake: logitsFake) * loss.discriminatorFactor
        d.zeroGrad()
        objective.backward()
        discriminatorOptimizer.step()
        return (objective.item, logitsReal.mean().item, logitsFake.mean().item)
    }
}

/// The adaptive weight of Eq. (7) from the two losses' gradients at the decoder's output x̂
/// [B, C, H, W] instead of from the losses: since both reach the last layer's weight W only
/// through x̂, ∇_W L = ∇_W ⟨x̂, sg[∂L/∂x̂]⟩, a backward pass through the last layer alone. The same
/// λ as `adaptiveWeight(reconstructionLoss:generatorLoss:lastLayer:discriminatorWeight:)`.
public func adaptiveWeight(reconstructionGradient: Tensor, generatorGradient: Tensor, output: Tensor,
                           lastLayer: Tensor, discriminatorWeight: Float = 0.8) -> Float {
    adaptiveWeight(reconstructionLoss: (output * reconstructionGradient.detached()).sum(),
                   generatorLoss: (output * generatorGradient.detached()).sum(),
                   lastLayer: lastLayer, discriminatorWeight: discriminatorWeight)
}
