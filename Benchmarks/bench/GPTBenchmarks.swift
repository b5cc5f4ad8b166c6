import NN
import Taming
import Tensors

/// Whole-model benchmarks of the GPT (issue 7): one AdamW training step at the config, and
/// sampling with the key-value cache.
///
/// - `gpt.train.step` (the fused hand-written step) and `gpt.train.step.autodiff` (the same
///   maths through the tape): 8 layers, 8 heads, 256 wide, vocabulary 512, batch 8 × 255 tokens
///   (6.6 M parameters): forward, cross-entropy, backward, AdamW (0.9, 0.95; decay on Linear
///   weights), zeroing the gradients. PyTorch 2 takes 0.77–0.82 s per step on the 2-core
///   reference machine with 2 threads. Nominal flops: 2 per weight per token for the matrix
///   products, plus 4·B·T²·C per layer for attention (Q·Kᵀ and P·V over the full square, as our
///   kernel computes it), forward; backward counts twice the forward.
/// - `gpt.sample.kvcache.b1` and `.b8`: 1 or 8 sequences of 256 tokens from a start token, one
///   token per step through the KV cache, top-k 100 sampling. Tokens per second =
///   rows · 256 / (ms / 1000). One sequence at a time reads every weight once per token, so it
///   is bound by memory bandwidth; eight share each read.
enum GPTBenchmarks {
    static let config = GPTConfig(vocabularySize: 512, blockSize: 256, layers: 8, heads: 8, embeddingDim: 256)
    static let batch = 8, steps = 255, sampledTokens = 256

    static var all: [Benchmark] {
        let c = Double(config.embeddingDim), l = Double(config.layers)
        let tokens = Double(batch * steps)
        let matrixWeights = l * 12 * c * c + c * Double(config.vocabularySize)
        let forward = 2 * matrixWeights * tokens + 4 * Double(batch) * Double(steps * steps) * c * l
        let sampleFlops = (1...sampledTokens).reduce(0.0) { sum, s in
            sum + 2 * matrixWeights + 4 * Double(s) * c * l
        }
        return [("gpt.train.step", true), ("gpt.train.step.autodiff", false)].map { name, fused in
            Benchmark(name, "8L 8H 256C V512, 8×255 tok", flops: 3 * forward) {
                var rng = RandomGenerator(seed: 7)
                let model = GPT(config, rng: &rng)
                let optimizer = model.makeOptimizer(lr: 3e-4)
                let sequences = (0..<batch).map { _ in
                    (0...steps).map { _ in rng.int(below: config.vocabularySize) }
                }
                return {
                    var unused = RandomGenerator(seed: 0)
                    _ = model.accumulateGradients(sequences: sequences, fused: fused, rng: &unused)
                    optimizer.step()
                    optimizer.zeroGrad()
                }
            }
        } + [1, 8].map { rows in
            Benchmark("gpt.sample.kvcache.b\(rows)", "8L 8H 256C V512, \(rows)×\(sampledTokens) tok/run",
                      flops: Double(rows) * sampleFlops, items: (Double(rows * sampledTokens), "tok")) {
                var rng = RandomGenerator(seed: 8)
                let model = GPT(config, rng: &rng)
                let sampler = TokenSampler(topK: 100)
                var run: UInt64 = 0
                return {
                    run += 1
                    var draw = RandomGenerator(seed: run)
                    _ = model.generate(prefix: Array(repeating: [0], count: rows), count: sampledTokens - 1,
                                       sampler: sampler, useCache: true, rng: &draw)
                }
            }
        }
    }
}
