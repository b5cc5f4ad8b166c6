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

/// The sliding window of chapter 06 at the reference's scale (issue #10): a GPT of 8 layers,
/// width 256 (6.6 M parameters), a 16 × 16 window with 256 conditioning codes in front (a
/// 512-token block), on the 64 × 64 code grid of a 1024² picture at f = 16.
/// - `sliding.faithful`: the reference's algorithm, one full 511-token pass per code; a run
///   draws 16 codes of an interior row (every code costs the same pass).
/// - `sliding.strided8`: the cache-aware sampler, runs of 8 columns; a run draws four whole
///   interior rows, 256 codes, whose runs go in waves (a run waits for its left neighbour and
///   for the row above up to its window's right edge; the runs of a wave share one batch). Rows
///   near the top read shorter prefixes and rows near the bottom longer ones, in equal measure,
///   so interior rows give the grid's rate; a whole grid has more runs per wave and goes faster.
/// Seconds for a whole 1024² picture = 4096 / (tokens per second). PyTorch 2 on this machine:
/// 0.12–0.14 s per token for the faithful algorithm (issue #10).
enum SlidingWindowBenchmarks {
    static let imageCodes = 256, conditionValues = 256, side = 16, gridSide = 64

    static var all: [Benchmark] {
        let layout = TokenLayout(codebookSize: imageCodes, conditioningValues: conditionValues,
                                 prefixLength: side * side, imageLength: side * side)
        let config = TwoStageModel.transformerConfig(layout: layout, layers: 8, heads: 8, embeddingDim: 256)
        let c = Double(config.embeddingDim), l = Double(config.layers)
        let weights = l * 12 * c * c + c * Double(config.vocabularySize)
        let block = Double(layout.blockSize)
        let fullPass = 2 * weights * block + 4 * block * block * c * l
        // Rows from 20 of 64: interior rows (their windows 8 rows up, 8 down).
        let row = 20 * gridSide
        let cases: [(String, SlidingWindowMethod, Range<Int>)] = [
            ("sliding.faithful", .faithful, (row + 24)..<(row + 40)),
            ("sliding.strided8", .strided(8), row..<(row + 4 * gridSide)),
        ]
        return cases.map { name, method, positions in
            let tokens = positions.count
            return Benchmark(name, "8L 8H 256C, 16×16 window + 256 cond, \(tokens) tok/run",
                             flops: name == "sliding.faithful" ? Double(tokens) * fullPass : nil,
                             items: (Double(tokens), "tok")) {
                var rng = RandomGenerator(seed: 9)
                let gpt = GPT(config, rng: &rng)
                var tokenizerRNG = RandomGenerator(seed: 10)
                let firstStage = CodeTokenizer(autoencoder: VQModel(
                    AutoencoderConfig(channels: 8, channelMultipliers: [1, 2], resBlocksPerLevel: 1, attentionResolutions: [],
                                      zChannels: 4, embedDim: 4, codebookSize: imageCodes, resolution: 32),
                    rng: &tokenizerRNG))
                let model = TwoStageModel(firstStage: firstStage, transformer: gpt, layout: layout, grid: (side, side))
                let cells = gridSide * gridSide
                let given = [(0..<cells).map { _ in rng.int(below: imageCodes) }]
                let conditioning = [GridConditioning.spatial((0..<cells).map { _ in rng.int(below: conditionValues) })]
                let sampler = TokenSampler(topK: 100)
                var run: UInt64 = 0
                return {
                    run += 1
                    _ = model.sampleGrid(height: gridSide, width: gridSide, conditioning: conditioning, method: method,
                                         sampler: sampler, seed: run, given: given, positions: positions)
                }
            }
        }
    }
}
