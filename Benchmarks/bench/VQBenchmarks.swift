import NN
import Taming
import Tensors

/// Whole-model benchmarks of the VQ autoencoder (issues 5 and 12): one training step — encode,
/// quantise, decode, L1 + codebook loss, backward, Adam, codebook maintenance — on a batch of 16
/// random 32×32 images.
///
/// - `vq.train.step.recipe`: issue 12's reference recipe (ch 64, ch_mult 1,2,2 so f = 4, one res
///   block, attention at 8×8, z 64, 512 codes). PyTorch 2 does 601 such steps in 300 s on the
///   2-core reference machine with 2 threads (about 0.50 s per step, crops included).
/// - `vq.train.step.ch32`: ch 32, z 32, a quarter of the convolution work.
/// - `vq.train.step.workbook`: chapter 02's own recipe (ch 16, z 16, GroupNorm over all channels).
///
/// No flop count is given: the step mixes convolutions, norms and attention.
enum VQBenchmarks {
    static let batch = 16, side = 32

    static func config(channels: Int, z: Int) -> AutoencoderConfig {
        AutoencoderConfig(channels: channels, channelMultipliers: [1, 2, 2], resBlocksPerLevel: 1,
                          attentionResolutions: [side / 4], zChannels: z, embedDim: z, codebookSize: 512,
                          resolution: side)
    }

    static var all: [Benchmark] {
        [("recipe", VQRecipe.named(.reference).autoencoder), ("ch32", config(channels: 32, z: 32)),
         ("workbook", VQRecipe.named(.workbook).autoencoder)].map { name, config in
            Benchmark("vq.train.step.\(name)", "ch \(config.channels), z \(config.zChannels), 16×3×32×32", flops: nil) {
                var rng = RandomGenerator(seed: 11)
                let model = VQModel(config, rng: &rng)
                let trainer = VQTrainer(model: model, config: VQTrainingConfig(learningRate: 2e-4), seed: 12)
                let images = Tensor.uniform([batch, 3, side, side], low: -1, high: 1, rng: &rng)
                var step = 0
                return {
                    _ = trainer.step(images, step: step)
                    step += 1
                }
            }
        }
    }
}
