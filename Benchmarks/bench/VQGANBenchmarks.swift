import NN
import Taming
import Tensors

/// One whole VQGAN training step at issue 6's reference configuration: ch 64, ch_mult 1,2,2,4
/// (f = 8), one res block, attention at 8×8, z 64, 512 codes, a batch of 8 random 64×64 images,
/// and the PatchGAN of the reference (ndf 64, 3 layers). 13.0 M + 2.8 M parameters.
///
/// The step is the reference's with the perceptual term left out: the autoencoder's update on
/// L1 + codebook loss + λ·L_G (λ from the two gradient norms at decoder.conv_out.weight), then the
/// discriminator's update on the hinge loss (its BatchNorm in training mode), judging the
/// reconstructions the autoencoder's half made. The 270 GFLOP and PyTorch's 1.66–1.77 s
/// count one more autoencoder forward pass: the reference (and ../shared/bench/torch_reference.py)
/// reconstructs the batch again for the discriminator's half. `vqgan.forward` times that pass, so
/// step + forward is the twin's work. FLOP counts are nominal: 2 per multiply–add, a backward pass
/// twice its forward.
///
/// `vqgan.train.step.workbook` is chapter 03's step, to compare with `vq.train.step.workbook`
/// (its VQ-VAE, chapter 02's recipe): batch 16 of 32×32, the perceptual loss on the chapter's
/// small loss network (widths 16, 32, 64, 64; pictures extended by 4 edge pixels), a PatchGAN of
/// ndf 32 with 2 layers, the discriminator on from the first step.
enum VQGANBenchmarks {
    static let batch = 8, side = 64

    static var all: [Benchmark] { [forward, reference, chapter] }

    static let referenceConfig = AutoencoderConfig(
        channels: 64, channelMultipliers: [1, 2, 2, 4], resBlocksPerLevel: 1, attentionResolutions: [8],
        zChannels: 64, embedDim: 64, codebookSize: 512, resolution: side)
    static let referenceDiscriminator = DiscriminatorConfig(ndf: 64, layers: 3)

    /// Multiply–adds of the reference step: the autoencoder forward and backward (3 passes' worth),
    /// and the discriminator 8 passes' worth (forward on x̂ and back to x̂ for L_G; forward on real
    /// and fake, and backward for its weights and inner activations, for its own update).
    static var referenceStepMultiplyAdds: Double {
        Double(batch) * (3 * referenceConfig.multiplyAddsPerImage
                         + 8 * referenceDiscriminator.multiplyAddsPerImage(side: side))
    }

    /// The reference autoencoder's forward pass alone, without gradients: PyTorch's
    /// `vqgan_fwd_s` in ../shared/bench/torch_reference.py.
    static var forward: Benchmark {
        Benchmark("vqgan.forward", "ch 64, mult 1,2,2,4, 8×3×64×64, no grad",
                  flops: 2 * Double(batch) * referenceConfig.multiplyAddsPerImage) {
            var rng = RandomGenerator(seed: 21)
            let model = VQModel(referenceConfig, rng: &rng)
            let images = Tensor.uniform([batch, 3, side, side], low: -1, high: 1, rng: &rng)
            return { withNoGrad { _ = model(images) } }
        }
    }

    static var chapter: Benchmark {
        let recipe = VQRecipe.named(.workbook)
        return Benchmark("vqgan.train.step.workbook", "ch \(recipe.autoencoder.channels), D ndf 32 ×2, perceptual, 16×3×32×32",
                         flops: nil) {
            var rng = RandomGenerator(seed: 23)
            let model = VQGAN(recipe.autoencoder, discriminator: DiscriminatorConfig(ndf: 32, layers: 2), rng: &rng)
            let network = FeatureNetwork(.init(widths: [16, 32, 64, 64]), rng: &rng)
            let perceptual = PerceptualLoss(backbone: EdgePaddedBackbone(network, margin: 4))
            let trainer = VQGANTrainer(model: model, training: recipe.training,
                                       loss: VQGANLossConfig(discriminatorStart: 0), perceptual: perceptual, seed: 24)
            let images = Tensor.uniform([VQBenchmarks.batch, 3, VQBenchmarks.side, VQBenchmarks.side],
                                        low: -1, high: 1, rng: &rng)
            var step = 0
            return {
                _ = trainer.step(images, step: step)
                step += 1
            }
        }
    }

    static var reference: Benchmark {
        Benchmark("vqgan.train.step", "ch 64, mult 1,2,2,4, D ndf 64 ×3, 8×3×64×64",
                  flops: 2 * referenceStepMultiplyAdds) {
            var rng = RandomGenerator(seed: 21)
            let model = VQGAN(referenceConfig, discriminator: referenceDiscriminator, rng: &rng)
            let trainer = VQGANTrainer(
                model: model, training: VQTrainingConfig(learningRate: 4.5e-6 * Float(batch), batchSize: batch,
                                                         codebook: .reference),
                loss: VQGANLossConfig(discriminatorStart: 0), perceptual: nil, seed: 22)
            let images = Tensor.uniform([batch, 3, side, side], low: -1, high: 1, rng: &rng)
            var step = 0
            return {
                _ = trainer.step(images, step: step)
                step += 1
            }
        }
    }
}
