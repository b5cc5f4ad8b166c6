import Datasets
import Foundation
import Imaging
import NN
import Taming
import Tensors
import Workbook

//: # 01 · Pixels, one at a time
//:
//: **What this chapter builds.** An autoregressive transformer that paints a picture one pixel at
//: a time, each pixel a token, as Image GPT did (Chen et al., 2020) and as the paper's second stage
//: will do with codes. We train it on small landscapes, sample from it, and then measure what the
//: same model costs as the pictures grow. The measurement is the reason the rest of the book exists.
//:
//: **Paper.** Esser, Rombach & Ommer, *Taming Transformers for High-Resolution Image Synthesis*
//: (CVPR 2021): the introduction and §3 on why transformers on pixels do not scale, and §3.2 on the
//: transformer itself, which models a sequence s of tokens as
//: p(s) = Π_i p(s_i | s_<i) (Eq. 7) and is trained to minimise L = E[−log p(s)] (Eq. 8).
//: In the paper s is a grid of codebook indices; here s is the pixels themselves.
//:
//: **Builds on.** The shared library: tensors with reverse-mode autodiff (`Tensors`), layers and
//: AdamW (`NN`), the procedural landscapes (`Datasets`). The GPT, its sampler and its KV cache
//: live in `Taming` and come back in chapter 4.
//:
//: **Writes** into `Figures/01-pixels/`: the raster order, the palette, the GPT's diagram, the
//: training curve, samples and completions, the cost charts, and `summary.json` with the held-out
//: bits per pixel, the sampling times and the cost table.
//:
//: Run it with `swift run -c release 01-pixels` (three to five minutes on two cores; `--quick`
//: takes seconds, `--data DIR` trains on your own PNGs).

let chapter = Chapter(number: 1, title: "Pixels, one at a time", folder: "01-pixels")
let options = chapter.options

//: The knobs of the whole chapter sit in one place. A `--quick` run shrinks everything so that the
//: tests can run the chapter end to end in seconds.

struct Settings {
    var side = 16                 // pictures are side × side pixels
    var trainCount = 4000
    var validationCount = 200
    var colors = 32               // palette size K (Image GPT: 512)
    var layers = 4, heads = 4, width = 128
    var batchSize = 8
    var steps = 800
    var learningRate: Float = 1e-3
    var sampleCount = 32
    var costSides = [8, 16, 32, 48, 64]
    /// Reference (uncached) sampling is measured only while it is predicted to take less.
    var referenceSamplingCap = 12.0

    static let quick = Settings(side: 8, trainCount: 256, validationCount: 32, colors: 16, layers: 2,
                                heads: 2, width: 32, batchSize: 8, steps: 30, sampleCount: 8,
                                costSides: [4, 8, 12, 16], referenceSamplingCap: 1)
}

let settings = options.quick ? Settings.quick : Settings()
let side = settings.side, tokensPerImage = side * side

// MARK: - Data

//: ## Images as sequences
//:
//: A transformer reads a sequence. To make a picture one, read its pixels the way we read text:
//: row by row, left to right (raster order). Pixel i is then predicted from pixels 0 … i−1 —
//: everything above it, and everything to its left on its own row. A 16 × 16 picture becomes a
//: sequence of 256 tokens; a 256 × 256 photograph would be 65,536.

let (trainImages, validationImages) = chapter.cell(
    "Images as sequences", "Procedural landscapes (or --data), read in raster order."
) { () throws -> (Tensor, Tensor) in
    let train: any Dataset, validation: any Dataset
    if let folder = options.data {
        // Your own pictures: random crops and mirror images of them for training (as many as
        // the procedural set would give), the largest centred crop of each for validation.
        let all = try ImageFolderDataset(folder: folder, width: side, height: side)
        if let valFolder = options.valData {
            train = all
            validation = try ImageFolderDataset(folder: valFolder, width: side, height: side,
                                                augmentation: .none)
        } else {
            guard all.count >= 2 else {
                throw WorkbookError("--data \(folder): one usable picture cannot be split into training and "
                                    + "held-out pictures; add pictures or pass --val-data")
            }
            (train, validation) = try all.split(validationFraction: 0.1, seed: options.seed)
        }
    } else {
        train = try ProceduralDataset(seed: options.seed, count: settings.trainCount,
                                      width: side, height: side)
        validation = try ProceduralDataset(seed: options.seed, count: settings.validationCount,
                                           width: side, height: side, split: .validation)
    }
    let images = (stack(examples: train, count: max(train.count, settings.trainCount)),
                  stack(examples: validation, count: validation.count))
    print("  \(images.0.shape[0]) training pictures (from \(train.count)) and \(validation.count) held-out ones, "
          + "\(side)×\(side)")
    try writeRasterFigure(images.0)
    return images
}

//: ![The raster order, for three training pictures: the pixels read so far in full colour, the one to predict next in red, the rest faded.](Figures/01-pixels/raster.png)

// MARK: - Palette

//: ## A palette of colours
//:
//: A pixel has 256³ possible colours: far too many classes for a softmax. Image GPT clusters
//: the colours of its training set with k-means and calls each pixel by its nearest cluster
//: centre, so a pixel becomes one of K tokens. We do the same with K = 32 (Image GPT used 512).
//: An extra token, K, starts every sequence, so that the first pixel is predicted too (the
//: reference's start-of-sequence token).

let palette = chapter.cell("A palette of colours", "k-means on RGB values, as Image GPT.") {
    var rng = RandomGenerator(seed: options.seed &+ 1)
    let palette = PixelPalette.fit(images: trainImages, count: settings.colors, rng: &rng)
    let shown = min(8, trainImages.shape[0])
    let originals = (0..<shown).map { upscaled(image(trainImages, $0), by: 8) }
    let quantized = palette.quantized(trainImages.slice(axis: 0, 0..<shown))
    let rows = originals + (0..<shown).map { upscaled(image(quantized, $0), by: 8) }
    try PNGImage.write(ImageGrid(columns: shown).compose(rows),
                       to: try chapter.figurePath("quantized.png").path)
    let swatches = (0..<palette.count).map { k in
        Tensor.make([3, 24, 24]) { out in
            for c in 0..<3 { for i in 0..<576 { out[c * 576 + i] = palette.colors[3 * k + c] } }
        }
    }
    try PNGImage.write(ImageGrid(columns: 16).compose(swatches),
                       to: try chapter.figurePath("palette.png").path)
    let psnr = ImageMetrics.psnr(palette.quantized(validationImages), validationImages)
    print(String(format: "  %d colours; quantised held-out pictures keep %.1f dB PSNR",
                 palette.count, psnr))
    chapter.record("palette_colors", palette.count)
    chapter.record("palette_psnr_db", psnr)
    return palette
}

//: ![The palette, dark to light.](Figures/01-pixels/palette.png)
//:
//: ![Top: training pictures. Bottom: the same pictures in the palette's colours — what the model actually sees.](Figures/01-pixels/quantized.png)
//:
//: Each picture is now a sequence: the start token, then 256 palette indices.

let startToken = palette.count
let vocabulary = palette.count + 1
func sequences(_ images: Tensor) -> [[Int]] {
    palette.indices(of: images).map { [startToken] + $0 }
}
let trainSequences = sequences(trainImages)
let validationSequences = sequences(validationImages)

//: How hard is the task? A model that knows nothing spends log₂ K = 5 bits per pixel. One that
//: knows only how often each colour occurs spends the entropy of those frequencies. The
//: transformer has to beat both by using the context.

let frequencyBits: Double = {
    var counts = [Double](repeating: 0, count: vocabulary)
    for s in trainSequences { for t in s.dropFirst() { counts[t] += 1 } }
    let total = counts.reduce(0, +)
    return -counts.filter { $0 > 0 }.map { $0 / total * log2($0 / total) }.reduce(0, +)
}()
let uniformBits = log2(Double(palette.count))
print(String(format: "uniform guess: %.2f bits/pixel; colour frequencies alone: %.2f bits/pixel",
             uniformBits, frequencyBits))
chapter.record("uniform_bits_per_pixel", uniformBits)
chapter.record("frequency_bits_per_pixel", frequencyBits)

// MARK: - The GPT

//: ## The GPT
//:
//: The transformer is minGPT as the reference ships it (`Sources/Taming/GPT.swift`): a token
//: embedding plus a learned position embedding (starting at zero), a stack of pre-LayerNorm
//: blocks — causal multi-head self-attention, then a 4× MLP with GELU, each added back to the
//: residual stream — a final LayerNorm, and a linear head without bias that gives a logit for
//: each token of the vocabulary. Weights start N(0, 0.02). The block size is the number of
//: positions: one per pixel.

let config = GPTConfig(vocabularySize: vocabulary, blockSize: tokensPerImage,
                       layers: settings.layers, heads: settings.heads, embeddingDim: settings.width)

chapter.cell("The GPT", "Diagram generated from the model itself.") {
    var rng = RandomGenerator(seed: options.seed &+ 2)
    let model = GPT(config, rng: &rng)
    let (_, shapes) = model.recordingShapes { withNoGrad { model([Array(trainSequences[0].dropLast())]) } }
    try chapter.diagram(model, name: "gpt", title: "GPT on \(side)×\(side) pixels", maxDepth: 2,
                        inputShape: [1, tokensPerImage], shapes: shapes)
    print("  \(config.layers) layers, \(config.heads) heads, width \(config.embeddingDim): "
          + "\(model.parameterCount) parameters")
    chapter.record("parameters", model.parameterCount)
}

//: ![The GPT, drawn from its module tree with the shapes of one forward pass.](Figures/01-pixels/gpt.png)

// MARK: - Training

//: ## Training
//:
//: Training is next-token prediction: the input is the sequence without its last token, the
//: target the sequence without its first, and the loss is the cross-entropy of Eq. 8. We report
//: it in bits per pixel (nats ÷ ln 2): the length of the shortest code for a held-out picture
//: that the model could give us. AdamW uses the reference's settings — betas (0.9, 0.95), weight
//: decay 0.01 on the weights of linear layers only — with a warm-up and a cosine decay.
//:
//: `accumulateGradients` runs the step through `GPTFusedStep.swift`, the same forward and
//: backward pass written out by hand in the manner of llm.c (one buffer per activation, the
//: three projections as one matrix product, the causal attention in row blocks that skip the
//: masked triangle). The tests hold its loss and gradients to those of the autodiff model in
//: `GPT.swift`, which stays the readable version; the hand-written one is about 1.6 times faster.

let budget = chapter.budget(steps: settings.steps, quick: settings.steps)
let plannedSteps: Int = { if case .steps(let n) = budget { return n } else { return settings.steps } }()
let modelName = "01-pixels-gpt-\(side)px-k\(palette.count)-\(palette.fingerprint)"
let historyURL = chapter.cache.url(for: modelName, budget: budget).deletingPathExtension()
    .appendingPathExtension("history.json")
var history = TrainingHistory()

let model = chapter.cell("Training", "Next-pixel prediction on \(side)×\(side) landscapes.") {
    try chapter.cache.loadOrTrain(modelName, budget: budget, estimatedSeconds: nil, make: { () -> GPT in
        var rng = RandomGenerator(seed: options.seed &+ 2)
        return GPT(config, rng: &rng)
    }) { model, session in
        let optimizer = model.makeOptimizer(lr: settings.learningRate)
        try session.include(optimizer, as: "gpt")
        let schedule = WarmupCosineSchedule(peak: settings.learningRate,
                                            minimum: settings.learningRate / 10,
                                            warmupSteps: plannedSteps / 20, totalSteps: plannedSteps)
        history = (session.isResuming ? TrainingHistory.load(from: historyURL) : nil) ?? TrainingHistory()
        history.truncate(at: session.start.step)
        let evaluateEvery = max(plannedSteps / 10, 1)
        try session.run { step in
            // Each step's batch depends only on the seed and the step: a resumed run sees the
            // same batches as an uninterrupted one.
            var rng = RandomGenerator(seed: options.seed &+ 1000 &+ UInt64(step))
            let batch = (0..<settings.batchSize).map { _ in
                trainSequences[rng.int(below: trainSequences.count)]
            }
            optimizer.lr = schedule(step)
            let nats = model.accumulateGradients(sequences: batch, rng: &rng)
            try guardFinite(nats, step: step)
            clipGradNorm(model.parameters(), maxNorm: 1)
            optimizer.step()
            optimizer.zeroGrad()
            let bits = Double(nats) / log(2)
            history.trainSteps.append(step + 1)
            history.trainBitsPerPixel.append(bits)
            if (step + 1) % evaluateEvery == 0 {
                history.validationSteps.append(step + 1)
                history.validationBitsPerPixel.append(
                    model.evaluate(sequences: Array(validationSequences.prefix(64))) / log(2))
                try history.save(to: historyURL)
            }
            return ["bits/px": Float(bits)]
        }
        try history.save(to: historyURL)
    }
}

//: The held-out pictures were never trained on; their bits per pixel say how well the model
//: generalises.

let validationBits = chapter.cell("Held-out bits per pixel") { () throws -> Double in
    let bits = model.evaluate(sequences: validationSequences) / log(2)
    print(String(format: "  %.3f bits/pixel on %d held-out pictures (uniform %.2f, frequencies %.2f)",
                 bits, validationSequences.count, uniformBits, frequencyBits))
    chapter.record("validation_bits_per_pixel", bits)
    let saved = TrainingHistory.load(from: historyURL) ?? history
    guard !saved.trainSteps.isEmpty else {
        print("  (no training curve recorded for this cached model)")
        return bits
    }
    let smoothed = movingAverage(saved.trainBitsPerPixel, window: 25)
    let last = Double(saved.trainSteps.last!)
    let chart = LineChart(
        title: "Bits per pixel while training", subtitle: "\(side)×\(side) landscapes, K = \(palette.count) colours",
        xLabel: "step", yLabel: "bits per pixel",
        series: [
            .init(name: "training batches", x: saved.trainSteps.map(Double.init), y: smoothed),
            .init(name: "held-out", x: saved.validationSteps.map(Double.init), y: saved.validationBitsPerPixel,
                  dashed: true),
            .init(name: "colour frequencies only", x: [1, last], y: [frequencyBits, frequencyBits], dashed: true),
            .init(name: "uniform guess", x: [1, last], y: [uniformBits, uniformBits], dashed: true),
        ])
    try chart.write(to: try chapter.figurePath("loss.svg").path)
    return bits
}

//: ![Bits per pixel on training batches (a moving average) and on the held-out pictures, against the two baselines.](Figures/01-pixels/loss.svg)

// MARK: - Samples

//: ## Samples
//:
//: To paint a picture, start from the start token, draw pixel 0 from the model's distribution,
//: append it, draw pixel 1, and so on: 256 draws for one picture. The reference recomputes the
//: whole sequence at every draw. A *key-value cache* keeps each layer's keys and values of the
//: positions already seen, so that each draw only computes the newest position
//: (`LayerCache` in `GPT.swift`). Both must give the same pictures; we check that, and time both.

let sampler = TokenSampler(temperature: 1, tokenLimit: palette.count)   // never the start token

chapter.cell("Samples", "Drawing pixels one by one, with and without the KV cache.") {
    var rng = RandomGenerator(seed: options.seed &+ 3)
    let progress = Workbook.Progress("sampling", total: tokensPerImage)
    var start = Date()
    let tokens = model.generate(prefix: Array(repeating: [startToken], count: settings.sampleCount),
                                count: tokensPerImage, sampler: sampler, rng: &rng) {
        progress.update(step: $0)
    }
    progress.finish()
    let cachedSeconds = Date().timeIntervalSince(start)
    let samples = palette.images(from: tokens, height: side, width: side)
    try PNGImage.write(ImageGrid(columns: 8).compose(batch: upscaled(samples, by: 6)),
                       to: try chapter.figurePath("samples.png").path)
    // The reference's way: the full sequence at every step, for a few of the same pictures.
    let few = min(2, settings.sampleCount)
    var again = RandomGenerator(seed: options.seed &+ 4), same = again
    start = Date()
    let cached = model.generate(prefix: Array(repeating: [startToken], count: few), count: tokensPerImage,
                                sampler: sampler, useCache: true, rng: &again)
    let fewCachedSeconds = Date().timeIntervalSince(start)
    start = Date()
    let recomputed = model.generate(prefix: Array(repeating: [startToken], count: few),
                                    count: tokensPerImage, sampler: sampler, useCache: false, rng: &same)
    let fewRecomputedSeconds = Date().timeIntervalSince(start)
    let agree = zip(cached, recomputed).map { zip($0, $1).filter { $0 == $1 }.count }.reduce(0, +)
    print(String(format: "  %d pictures with the KV cache in %.2f s (%.0f tokens/s)", settings.sampleCount,
                 cachedSeconds, Double(settings.sampleCount * tokensPerImage) / cachedSeconds))
    print(String(format: "  %d pictures: %.2f s with the cache, %.2f s recomputing (%.1f× slower); "
                 + "%d of %d tokens identical", few, fewCachedSeconds, fewRecomputedSeconds,
                 fewRecomputedSeconds / fewCachedSeconds, agree, few * tokensPerImage))
    chapter.record("sample_seconds", cachedSeconds)
    chapter.record("sample_count", settings.sampleCount)
    chapter.record("sample_tokens_per_second", Double(settings.sampleCount * tokensPerImage) / cachedSeconds)
    chapter.record("reference_sampling_slowdown", fewRecomputedSeconds / fewCachedSeconds)
    chapter.record("cached_and_recomputed_tokens_agree", Double(agree) / Double(few * tokensPerImage))
}

//: ![Samples at temperature 1, no top-k: the model's own idea of a landscape.](Figures/01-pixels/samples.png)
//:
//: A model of p(s_i | s_<i) can also *complete* a picture: give it the top half of a held-out
//: landscape and let it paint the bottom half, three times.

chapter.cell("Completions", "The top half is given; the model paints the rest.") {
    var rng = RandomGenerator(seed: options.seed &+ 5)
    let pictures = min(6, validationSequences.count), tries = 3
    let half = tokensPerImage / 2
    let prefixes = (0..<pictures).flatMap { i in
        Array(repeating: Array(validationSequences[i].prefix(1 + half)), count: tries)
    }
    let drawn = model.generate(prefix: prefixes, count: tokensPerImage - half, sampler: sampler, rng: &rng)
    var cells: [Tensor] = []
    for i in 0..<pictures {
        let truth = Array(validationSequences[i].dropFirst())
        var given = truth
        for p in half..<tokensPerImage { given[p] = -1 }
        cells.append(maskedPicture(given))
        for j in 0..<tries {
            cells.append(maskedPicture(Array(truth.prefix(half)) + drawn[i * tries + j]))
        }
        cells.append(maskedPicture(truth))
    }
    try PNGImage.write(ImageGrid(columns: tries + 2).compose(cells.map { upscaled($0, by: 6) }),
                       to: try chapter.figurePath("completions.png").path)
}

//: ![Each row: the given top half, three completions, and the true picture.](Figures/01-pixels/completions.png)

// MARK: - The cost

//: ## What it costs
//:
//: Now the question of the chapter. The same model — same layers, same width — on larger
//: pictures needs only a longer position table, but every layer's attention compares every
//: position with every earlier one: T²/2 pairs for T = H·W pixels. We measure, on this machine,
//: one training step (forward, backward and AdamW on one picture) and the sampling of one
//: picture, with and without the KV cache, at growing sizes. Time is wall-clock; memory is the
//: most the step held at once beyond what was already allocated, read from the kernel's
//: high-water mark of resident memory (reset before each measurement: `PeakMemory` in
//: `Support.swift`).

struct CostRow {
    var side: Int
    var tokens: Int
    var trainSeconds: Double
    var trainBytes: Int?
    var sampleSeconds: Double
    var sampleBytes: Int?
    var referenceSampleSeconds: Double?
}

let costRows = chapter.cell("What it costs", "One training step and one sampled picture at "
                            + settings.costSides.map { "\($0)²" }.joined(separator: ", ") + " pixels.") {
    () -> [CostRow] in
    var rows: [CostRow] = []
    let progress = Workbook.Progress("measuring", total: settings.costSides.count)
    for s in settings.costSides {
        let t = s * s
        var rng = RandomGenerator(seed: options.seed &+ 6)
        var sizeConfig = config
        sizeConfig.blockSize = t
        let gpt = GPT(sizeConfig, rng: &rng)
        let optimizer = gpt.makeOptimizer(lr: 1e-4)
        let sequence = [[startToken] + (0..<t).map { _ in rng.int(below: palette.count) }]
        func trainStep() {
            var unused = RandomGenerator(seed: 0)
            _ = gpt.accumulateGradients(sequences: sequence, rng: &unused)
            optimizer.step()
            optimizer.zeroGrad()
        }
        func sample(cached: Bool) {
            var r = RandomGenerator(seed: 1)
            _ = gpt.generate(prefix: [[startToken]], count: t, sampler: sampler, useCache: cached, rng: &r)
        }
        trainStep()                                      // warm-up: first-touch allocations
        let train = (0..<(t <= 1024 ? 3 : 1)).map { _ in PeakMemory.measure(trainStep) }
        let cached = PeakMemory.measure { sample(cached: true) }
        var row = CostRow(side: s, tokens: t, trainSeconds: median(train.map(\.seconds)),
                          trainBytes: train[0].peakBytes, sampleSeconds: cached.seconds,
                          sampleBytes: cached.peakBytes)
        // Recomputing the prefix at every step costs ~T³: measure it only while it is cheap.
        if ReferenceSamplingCost(rows)?.predict(t) ?? 0 < settings.referenceSamplingCap {
            row.referenceSampleSeconds = PeakMemory.measure { sample(cached: false) }.seconds
        }
        rows.append(row)
        progress.update(step: rows.count)
    }
    progress.finish()
    return rows
}

//: The table, and power laws fitted to the three largest sizes, where attention dominates (at
//: small sizes the parts that grow like T — the projections and the MLP — still weigh in).
//: Recomputing sampling is too slow to measure beyond the smallest sizes; its larger entries
//: are extrapolated from the measured ones with time ≈ a·T² + b·T³, the sum over T prefixes of
//: a forward pass costing a′·t + b′·t².

chapter.cell("The bill", "Fitted exponents, and where this machine gives up.") {
    let large = Array(costRows.suffix(3))
    let trainFit = PowerLaw(large.map { (Double($0.tokens), $0.trainSeconds) })!  // invariant: ≥ 3 sizes
    let memoryFit = PowerLaw(large.compactMap { r in r.trainBytes.map { (Double(r.tokens), Double($0)) } })
    let sampleFit = PowerLaw(large.map { (Double($0.tokens), $0.sampleSeconds) })!  // invariant: ≥ 3 sizes
    let referenceFit = ReferenceSamplingCost(costRows)
    print("  side  tokens   train step  train memory  sample (cache)  sample (recomputing)")
    for r in costRows {
        let reference = r.referenceSampleSeconds.map(formatSeconds)
            ?? referenceFit.map { "≈ " + formatSeconds($0.predict(r.tokens)) + " (extrapolated)" } ?? "-"
        print("  " + pad("\(r.side)", 4) + pad("\(r.tokens)", 8) + pad(formatSeconds(r.trainSeconds), 13)
              + pad(r.trainBytes.map { formatBytes(Double($0)) } ?? "-", 14)
              + pad(formatSeconds(r.sampleSeconds), 16) + "  " + reference)
    }
    print(String(format: "  fitted: training step ∝ T^%.2f, its memory ∝ T^%.2f, cached sampling ∝ T^%.2f",
                 trainFit.exponent, memoryFit?.exponent ?? .nan, sampleFit.exponent))
    // Where the machine gives up, by extrapolating the fits.
    let memory = Double(ProcessInfo.processInfo.physicalMemory)
    var limits: [String: JSONValue] = ["physical_memory_bytes": .number(memory)]
    if let tokens = memoryFit?.solve(for: memory) {
        let side = Int(tokens.squareRoot())
        print("  extrapolated: one training step on one \(side)×\(side) picture needs all "
              + "\(formatBytes(memory)) of this machine's memory")
        limits["training_side_exhausting_memory"] = .int(side)
    }
    let big = 256 * 256
    let cachedHour = sampleFit.solve(for: 3600).map { Int($0.squareRoot()) }
    print("  extrapolated: sampling one 256×256 picture takes \(formatSeconds(sampleFit(Double(big)))) "
          + "with the cache (" + (cachedHour.map { "an hour at \($0)×\($0)" } ?? "no hour in sight: the fit does not grow") + ")")
    limits["cached_sampling_seconds_256x256"] = .number(sampleFit(Double(big)), decimals: 1)
    limits["cached_sampling_side_taking_an_hour"] = cachedHour.map { .int($0) } ?? .null
    if let referenceFit {
        let hour = Int(referenceFit.tokens(taking: 3600).squareRoot())
        print("  extrapolated: recomputing as the reference does, one 256×256 picture takes "
              + "\(formatSeconds(referenceFit.predict(big))) (an hour at \(hour)×\(hour))")
        limits["reference_sampling_seconds_256x256"] = .number(referenceFit.predict(big), decimals: 0)
        limits["reference_sampling_side_taking_an_hour"] = .int(hour)
    }
    chapter.record("cost", costRows.map { r -> JSONValue in
        ["side": .int(r.side), "tokens": .int(r.tokens),
         "train_step_seconds": .number(r.trainSeconds, decimals: 4),
         "train_step_peak_bytes": r.trainBytes.map { .int($0) } ?? .null,
         "sample_seconds_cached": .number(r.sampleSeconds, decimals: 4),
         "sample_peak_bytes_cached": r.sampleBytes.map { .int($0) } ?? .null,
         "sample_seconds_reference": r.referenceSampleSeconds.map { .number($0, decimals: 4) } ?? .null]
    })
    chapter.record("cost_exponents", ["train_step_time": .number(trainFit.exponent, decimals: 3),
                                      "train_step_memory": memoryFit.map { .number($0.exponent, decimals: 3) } ?? .null,
                                      "cached_sampling_time": .number(sampleFit.exponent, decimals: 3)] as JSONValue)
    chapter.record("extrapolated_limits", JSONValue.object(limits))
    chapter.record("memory_measurement", PeakMemory.isAvailable
                   ? "peak resident set growth (Linux VmHWM after clear_refs)" : "not available on this system")
    try writeCostCharts(costRows, trainFit: trainFit, memoryFit: memoryFit, sampleFit: sampleFit,
                        referenceFit: referenceFit, memory: memory)
}

//: ![Seconds against sequence length T = H·W on log–log axes: a straight line of slope k means time ∝ T^k. Dashed: extrapolated from the fits.](Figures/01-pixels/cost-time.svg)
//:
//: (The cost charts are measurements of the machine they ran on and change a little from run
//: to run; every other figure is the same, byte for byte, for the same seed and thread count.)
//:
//: ![Peak memory of one training step against T: the attention weights of every head and layer, T² each, are kept for the backward pass. Dashed: extrapolated, up to this machine's memory.](Figures/01-pixels/cost-memory.svg)

chapter.finish()

//: ## Summary
//:
//: - A picture becomes a sequence by reading its pixels in raster order, each pixel one of K
//:   palette colours found by k-means; a GPT then models p(s) = Π p(s_i | s_<i) exactly as it
//:   models text.
//: - Trained for a few minutes on 16 × 16 landscapes it beats both the uniform guess and the
//:   colour frequencies by a wide margin in bits per pixel, and its samples have sky above
//:   ground — but each costs 256 sequential draws.
//: - A KV cache makes each draw cost one position instead of the whole prefix, and gives the
//:   same tokens as the reference's full recomputation.
//: - Measured, not computed: the training step's time and memory grow towards T² at the
//:   largest sizes (exponents of about 1.9 and 1.8 between 32² and 64², where the parts that
//:   grow like T still weigh in), and by extrapolation a single training step on a picture of
//:   about 128 × 128 no longer fits this machine's 25 GB. Sampling as the reference does, by
//:   recomputing the prefix, takes minutes at 64 × 64 and, extrapolated, about a day at
//:   256 × 256. That is the wall the paper climbs over: chapter 2 learns a codebook so that a
//:   16 × 16 grid of codes — the same 256 tokens as here — stands for a picture 16 times larger
//:   on each side.
//:
//: ## Exercises
//:
//: 1. Change `colors` to 8 and to 128. How do the quantised pictures, the bits per pixel and the
//:    samples change? Why are bits per pixel not comparable across palettes?
//: 2. Sample at temperature 0.7 and 1.3, and with `topK: 4`. What happens to the sky?
//: 3. Read pixels in another order (column by column, or a spiral, like the reference's
//:    permuters in `taming/modules/transformer/permuter.py`). Does the held-out loss change?
//: 4. The attention weights are T × T per head and layer. Work out from the cost table how much
//:    of the training step's memory they account for at 64 × 64.
//: 5. Turn on pkeep = 0.9 (`accumulateGradients(sequences:pkeep:…)`): does corrupting the inputs
//:    help the samples, or the held-out loss?

// fold: Helpers for the figures
/// `count` pictures of a dataset, cycling through its examples (each draw augmented anew where
/// the dataset augments), stacked into one tensor [N, 3, H, W].
func stack(examples dataset: any Dataset, count: Int) -> Tensor {
    var rng = RandomGenerator(seed: options.seed &+ 7)
    let size = 3 * dataset.height * dataset.width
    return Tensor.make([count, 3, dataset.height, dataset.width]) { out in
        for i in 0..<count {
            dataset.example(at: i % dataset.count, rng: &rng).image.withUnsafeBufferPointer { src in
                for j in 0..<size { out[i * size + j] = src[j] }
            }
        }
    }
}

/// Picture `i` of a batch [B, 3, H, W], as [3, H, W].
func image(_ batch: Tensor, _ i: Int) -> Tensor {
    batch.slice(axis: 0, i..<(i + 1)).reshaped(Array(batch.shape.dropFirst()))
}

/// A picture from palette indices, with −1 drawn as a gray checkerboard ("not painted yet").
func maskedPicture(_ indices: [Int]) -> Tensor {
    let colors = palette.colors
    return Tensor.make([3, side, side]) { out in
        for (p, index) in indices.enumerated() {
            let (y, x) = (p / side, p % side)
            for c in 0..<3 {
                out[c * side * side + p] = index >= 0 ? colors[3 * index + c] : ((x + y) % 2 == 0 ? 0.1 : 0.3)
            }
        }
    }
}

/// The raster-order figure: three pictures, each shown with the first k pixels seen, the next one
/// marked red and the rest dimmed, for growing k.
func writeRasterFigure(_ images: Tensor) throws {
    let plane = side * side
    let steps = [plane / 10, plane * 3 / 10, plane / 2, plane * 8 / 10, plane]
    var cells: [Tensor] = []
    for i in 0..<min(3, images.shape[0]) {
        let picture = image(images, i)
        for k in steps {
            cells.append(upscaled(Tensor.make([3, side, side]) { out in
                picture.withUnsafeBufferPointer { src in
                    for c in 0..<3 {
                        for p in 0..<plane {
                            let v = src[c * plane + p]
                            out[c * plane + p] = p < k ? v : (p == k ? (c == 0 ? 1 : -1) : 0.25 * v + 0.55)
                        }
                    }
                }
            }, by: 8))
        }
    }
    try PNGImage.write(ImageGrid(columns: steps.count, padding: 4).compose(cells),
                       to: try chapter.figurePath("raster.png").path)
}

/// A trailing moving average over `window` values (shorter at the start).
func movingAverage(_ values: [Double], window: Int) -> [Double] {
    var out: [Double] = [], sum = 0.0
    for (i, v) in values.enumerated() {
        sum += v
        if i >= window { sum -= values[i - window] }
        out.append(sum / Double(min(i + 1, window)))
    }
    return out
}

/// `text` right-aligned in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The two cost charts: seconds and bytes against sequence length, log–log, with the fits
/// extrapolated (dashed) one doubling of the side beyond the largest size measured.
func writeCostCharts(_ rows: [CostRow], trainFit: PowerLaw, memoryFit: PowerLaw?, sampleFit: PowerLaw,
                     referenceFit: ReferenceSamplingCost?, memory: Double) throws {
    let tokens = rows.map { Double($0.tokens) }
    let last = tokens.last!, far = [last, last * 4]
    let measured = rows.filter { $0.referenceSampleSeconds != nil }
    var series: [LineChart.Series] = [
        .init(name: String(format: "training step (∝ T^%.2f)", trainFit.exponent), x: tokens,
              y: rows.map(\.trainSeconds)),
        .init(name: String(format: "sampling, KV cache (∝ T^%.2f)", sampleFit.exponent), x: tokens,
              y: rows.map(\.sampleSeconds)),
        .init(name: "sampling, recomputing (reference)", x: measured.map { Double($0.tokens) },
              y: measured.map { $0.referenceSampleSeconds! }),
        .init(name: "", x: far, y: far.map { trainFit($0) }, dashed: true, colorSlot: 0),
        .init(name: "", x: far, y: far.map { sampleFit($0) }, dashed: true, colorSlot: 1),
    ]
    if let referenceFit, let from = measured.last.map({ Double($0.tokens) }) {
        let xs = [from] + tokens.filter { $0 > from }
        series.append(.init(name: "", x: xs, y: xs.map { referenceFit.predict(Int($0)) }, dashed: true,
                            colorSlot: 2))
    }
    series.append(.init(name: "one hour", x: [tokens[0], last * 4], y: [3600, 3600], dashed: true, colorSlot: 3))
    let sides = rows.map { "\($0.side)²" }.joined(separator: ", ")
    try LineChart(title: "Time against sequence length", subtitle: "one picture of \(sides) pixels; same model",
                  xLabel: "sequence length T = H·W (tokens)", yLabel: "seconds", xScale: .log, yScale: .log,
                  series: series).write(to: try chapter.figurePath("cost-time.svg").path)

    let withMemory = rows.filter { $0.trainBytes != nil && $0.sampleBytes != nil }
    var memorySeries: [LineChart.Series] = [
        .init(name: String(format: "training step (∝ T^%.2f)", memoryFit?.exponent ?? .nan),
              x: withMemory.map { Double($0.tokens) }, y: withMemory.map { Double($0.trainBytes!) / 1e6 }),
        .init(name: "sampling, KV cache", x: withMemory.map { Double($0.tokens) },
              y: withMemory.map { max(Double($0.sampleBytes!) / 1e6, 0.01) }),
    ]
    if let memoryFit {
        let limit = memoryFit.solve(for: memory).map { min(last * 4, $0 * 1.2) } ?? last * 4
        memorySeries.append(.init(name: "", x: [last, limit],
                                  y: [memoryFit(last) / 1e6, memoryFit(limit) / 1e6], dashed: true, colorSlot: 0))
    }
    memorySeries.append(.init(name: "this machine's memory", x: [tokens[0], last * 4],
                              y: [memory / 1e6, memory / 1e6], dashed: true, colorSlot: 3))
    try LineChart(title: "Peak memory against sequence length", subtitle: "growth of resident memory during the work",
                  xLabel: "sequence length T = H·W (tokens)", yLabel: "megabytes", xScale: .log, yScale: .log,
                  series: memorySeries).write(to: try chapter.figurePath("cost-memory.svg").path)
}
// endfold
