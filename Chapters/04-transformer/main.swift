//: # 04 · A transformer over codes
//:
//: **What this chapter builds.** The paper's second stage. Chapter 03's VQGAN is frozen and
//: turns every picture into a grid of codebook indices; those grids, read as sequences, are what
//: a transformer learns to write. It is chapter 01's GPT — the same layers, the same width, the
//: same 256 positions — but each position now stands for a 4 × 4 patch instead of a pixel, so
//: the same sequence paints a 64 × 64 picture instead of a 16 × 16 one. We tokenise the
//: landscapes, train the transformer, sample it with top-k and temperature, let it complete
//: held-out pictures, and set it against the pixel model of chapter 01 at the same cost.
//:
//: **Paper.** Esser, Rombach & Ommer, *Taming Transformers for High-Resolution Image Synthesis*
//: (CVPR 2021), §3.2: with the first stage fixed, a picture x is its code sequence
//: s ∈ {0, …, |Z| − 1}^{h × w}, s_{ij} = k where z_q(x)_{ij} = z_k, and the transformer models
//: p(s) = Π_i p(s_i | s_<i) (Eq. 7), trained to minimise L = E[−log p(s)] (Eq. 8). Sampling
//: draws the codes one by one and decodes them with the first stage's decoder.
//:
//: **Builds on.** Chapter 03's VQGAN, loaded from the cache (or, if chapter 03 has not run, a
//: stand-in first stage trained here, saying so); chapter 01's GPT, sampler and KV cache; the
//: two-stage model in `Sources/Taming`: `CodeTokenizer` (pictures ↔ codes), `CodeOrder` (the
//: reference's orders), `TokenLayout` (a start or conditioning prefix; chapter 05 uses it for
//: classes and segmentation maps), `TwoStageModel` (loss, likelihood, sampling).
//:
//: **Writes** into `Figures/04-transformer/`: the pipeline's diagram, a picture with its codes and
//: its sequence, the five orders, the training curves, where the bits go, samples on a grid of
//: top-k × temperature, completions, and the comparison with chapter 01; `summary.json` holds the
//: held-out bits per picture and per pixel, the sampling times and the comparison table.
//:
//: Run it with `swift run -c release 04-transformer` (about four minutes on two cores once
//: chapter 03's VQGAN is in the cache; `--quick` takes seconds). `--order z-curve` (or
//: `spiral-in`, `spiral-out`, `random`) reads the codes in another order, `--pkeep 0.9` turns
//: on the reference's input corruption, `--data DIR` trains on your own pictures.
import ArgumentParser
import BookModels
import Datasets
import Diagrams
import Foundation
import Imaging
import NN
import Taming
import Tensors
import Workbook

extension CodeOrder: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public var defaultValueDescription: String { name }
}

struct Options: ParsableArguments {
    @OptionGroup var chapter: ChapterOptions
    @Option(help: "The order codes are read in: raster, z-curve, spiral-in, spiral-out or random (a fixed permutation).")
    var order: CodeOrder = .raster
    @Option(help: "Probability of keeping each input code while training (the reference's pkeep; 1 is off).")
    var pkeep: Float = 1

    func validate() throws {
        guard pkeep > 0, pkeep <= 1 else { throw ValidationError("--pkeep must be above 0 and at most 1 (got \(pkeep))") }
    }
}

let parsed = Options.parseOrFail()
let chapter = Chapter(number: 4, title: "A transformer over codes", folder: "04-transformer", options: parsed.chapter)
let options = chapter.options
let quick = options.quick

//: The knobs of the whole chapter sit in one place. The GPT is chapter 01's: 4 layers, 4 heads,
//: width 128, batches of 8 sequences, AdamW with a warm-up and a cosine decay — at a peak of
//: 3 × 10⁻³ rather than chapter 01's 10⁻³, which learns more in the few hundred steps of this
//: chapter (for both models compared at the end). A `--quick` run shrinks everything so that the
//: tests can run the chapter end to end in seconds.
struct Settings {
    var side = 64                  // pictures are side × side pixels: 16 × 16 codes at f = 4
    var trainCount = 1200
    var heldOutCount = 256
    var layers = 4, heads = 4, width = 128
    var batchSize = 8
    var steps = 800                // chapter 01's
    var learningRate: Float = 3e-3
    var evaluations = 10           // points on the held-out curve
    var monitored = 64             // training and held-out pictures per point
    var samplesPerSetting = 4
    var qualitySamples = 256       // samples per model for the Fréchet distances
    var colors = 32                // the pixel model's palette (chapter 01's)
    var standInSteps = 300         // the stand-in first stage, when chapter 03's is missing
    var judgeSteps = 200           // chapter 03's feature network (its default)

    static let quick = Settings(side: 32, trainCount: 64, heldOutCount: 32, layers: 2, heads: 2, width: 32,
                                batchSize: 8, steps: 20, evaluations: 2, monitored: 16, samplesPerSetting: 1,
                                qualitySamples: 32, colors: 16, standInSteps: 6, judgeSteps: 20)
}
let settings = quick ? Settings.quick : Settings()
let side = settings.side

// MARK: - The first stage

//: ## The frozen first stage
//:
//: The transformer never sees a pixel. Everything it reads and writes goes through the first
//: stage: the encoder E and the codebook turn a picture into codes, the codebook and the decoder
//: G turn codes back into a picture. Chapter 03 trained a VQGAN at f = 4 with 512 codes on 32 × 32
//: landscapes and left it in the cache; here it is loaded and frozen — the reference sets its
//: `train` method to a no-op. If the cache has none (chapter 03 never ran with this seed and
//: these pictures), a stand-in is trained first: chapter 02's VQ-VAE recipe, same architecture,
//: without the discriminator and the perceptual loss. The chapter says which it uses.
//:
//: Both are convolutional, with one attention layer at the latent resolution that takes any
//: number of positions. Trained on 32 × 32 pictures, they encode 64 × 64 ones just as well
//: (chapter 03's VQGAN reconstructs held-out 32 × 32 pictures at 23.3 dB PSNR and 64 × 64 ones
//: at 24.6 dB), into 16 × 16 codes: exactly the 256
//: positions of chapter 01's GPT.
let firstStage = chapter.cell("The frozen first stage", "Chapter 03's VQGAN from the cache, or a stand-in.") {
    () throws -> (tokenizer: CodeTokenizer, name: String) in
    let model: VQModel, name: String
    if let cached = CachedFirstStage.find(in: chapter.cache) {
        chapter.console.line("loaded chapter 03's VQGAN (\(cached.steps) steps after its warm-up) from \(cached.file)")
        (model, name) = (cached.autoencoder, "03-vqgan-f4-\(cached.steps)-steps")
        chapter.record("first_stage", "chapter 03 VQGAN")
    } else {
        chapter.console.line("no finished chapter 03 VQGAN in \(chapter.cache.folder.relativePath) for this run: "
                             + "training a stand-in first stage (chapter 02's recipe) now")
        model = try trainStandInFirstStage()
        name = "04-stand-in-f4-\(settings.standInSteps)-steps"
        chapter.record("first_stage", "stand-in VQ-VAE")
    }
    let tokenizer = CodeTokenizer(autoencoder: model, order: parsed.order)
    chapter.console.line("f = \(tokenizer.downsamplingFactor), \(tokenizer.codebookSize) codes, "
                         + "\(model.parameterCount) parameters, frozen")
    chapter.record("codebook_size", tokenizer.codebookSize)
    chapter.record("downsampling_factor", tokenizer.downsamplingFactor)
    return (tokenizer, name)
}
let tokenizer = firstStage.tokenizer

// MARK: - Tokenising

//: ## Pictures as sequences of codes
//:
//: The data are 64 × 64 landscapes (or your pictures with `--data DIR`, `--val-data DIR`),
//: 1,200 for training and 256 held out. Each becomes a 16 × 16 grid of code indices, and the grid
//: a sequence in raster order: row by row, left to right. In front goes one start token, as in
//: chapter 01, so that the first code is predicted too: the reference's `SOSProvider`. Its id is
//: 512, just past the codes (`TokenLayout`); chapter 05 puts a class label or the codes of a
//: segmentation map in its place.
//:
//: ![Two stages: the frozen VQGAN turns a picture into 256 codes, the GPT learns to continue code sequences; to sample, the GPT writes codes and the decoder paints them.](Figures/04-transformer/diagrams/pipeline.png)
//:
//: ![Held-out landscapes (top), what the first stage makes of them (middle) — the best any model of these codes can do — and their code maps, each code in its own colour (bottom).](Figures/04-transformer/tokens.png)
//:
//: ![The first picture's sequence: the start token (black), then its 256 codes, row after row of the code map.](Figures/04-transformer/sequence.png)
//:
//: The reference also ships other orders (`permuter.py`): a z-curve, spirals inwards and
//: outwards, a fixed random permutation. They change what each code can see when it is
//: predicted — in raster order everything above and to the left — but not what is modelled, so
//: the bits per picture can be compared across orders (exercise 1).
//:
//: ![The five orders on a 16 × 16 grid: the position in the sequence from dark (first) to bright (last). Raster, z-curve, spiral in, spiral out, random.](Figures/04-transformer/orders.png)
let grid: (height: Int, width: Int) = {
    guard let grid = tokenizer.grid(imageHeight: side, imageWidth: side) else {
        chapter.fail(WorkbookError("\(side)×\(side) pictures do not split into \(tokenizer.downsamplingFactor)-pixel codes"))
    }
    return grid
}()
let layout = TokenLayout.unconditional(codebookSize: tokenizer.codebookSize, imageLength: grid.height * grid.width)
let gptConfig = TwoStageModel.transformerConfig(layout: layout, layers: settings.layers, heads: settings.heads,
                                                embeddingDim: settings.width)

struct CodedData {
    var trainImages: Tensor         // [N, 3, H, W]
    var heldOutImages: Tensor       // [M, 3, H, W]
    var trainCodes: [[Int]]         // N sequences of h·w codes
    var heldOutCodes: [[Int]]
    var reconstructions: Tensor     // the first stage's reconstructions of the held-out pictures
}

let data = chapter.cell("Pictures as sequences of codes", "\(side)×\(side) pictures → \(grid.height)×\(grid.width) codes, "
                        + "read in \(parsed.order) order.") { () throws -> CodedData in
    let (train, validation) = try ImageSource.datasets(
        data: options.data, validationData: options.valData, nativeCrops: false, side: side,
        trainingCount: settings.trainCount, heldOutCount: settings.heldOutCount, seed: options.seed)
    let trainImages = stack(examples: train, count: max(train.count, settings.trainCount))
    let heldOutImages = ImageSource.stacked(validation, seed: options.seed)
    let total = trainImages.shape[0] + heldOutImages.shape[0]
    let progress = Workbook.Progress("tokenising", total: total)
    let began = Date()
    let trainCodes = tokenizer.encode(trainImages) { progress.update(step: $0) }
    let heldOutCodes = tokenizer.encode(heldOutImages) { progress.update(step: trainImages.shape[0] + $0) }
    progress.finish()
    let seconds = Date().timeIntervalSince(began)
    let reconstructions = tokenizer.decode(heldOutCodes, height: grid.height, width: grid.width)
    let psnr = ImageMetrics.psnr(reconstructions, heldOutImages)
    let usage = CodebookUsage(indices: heldOutCodes.flatMap { $0 }, codebookSize: tokenizer.codebookSize)
    chapter.console.line("\(trainImages.shape[0]) training and \(heldOutImages.shape[0]) held-out pictures, "
                         + String(format: "%.1f ms each to tokenise", 1000 * seconds / Double(total)))
    chapter.console.line(String(format: "held-out reconstructions: %.2f dB PSNR; %d of %d codes in use (perplexity %.0f)",
                                psnr, usage.usedCodes, tokenizer.codebookSize, usage.perplexity))
    chapter.record("train_pictures", trainImages.shape[0])
    chapter.record("held_out_pictures", heldOutImages.shape[0])
    chapter.record("tokenise_seconds_per_image", seconds / Double(total))
    chapter.record("reconstruction_psnr", psnr)
    chapter.record("held_out_codebook_usage", usage.usage)
    chapter.record("order", parsed.order.name)
    try writeTokenFigures(heldOutImages, reconstructions, heldOutCodes)
    try writePipelineDiagram()
    return CodedData(trainImages: trainImages, heldOutImages: heldOutImages, trainCodes: trainCodes,
                     heldOutCodes: heldOutCodes, reconstructions: reconstructions)
}
let trainSequences = data.trainCodes.map { layout.sequence(codes: $0) }
let heldOutSequences = data.heldOutCodes.map { layout.sequence(codes: $0) }

//: How hard is the task? Knowing nothing costs log₂ 512 = 9 bits per code. Knowing only how
//: often each code occurs costs the entropy of those frequencies. The transformer has to beat
//: both by reading the context.
let uniformBits = log2(Double(layout.codebookSize))
let frequencyBits: Double = {
    var counts = [Double](repeating: 0, count: layout.codebookSize)
    for codes in data.trainCodes { for c in codes { counts[c] += 1 } }
    let total = counts.reduce(0, +)
    return -counts.filter { $0 > 0 }.map { $0 / total * log2($0 / total) }.reduce(0, +)
}()
chapter.console.line(String(format: "uniform guess: %.2f bits per code; code frequencies alone: %.2f bits per code",
                            uniformBits, frequencyBits))
chapter.record("uniform_bits_per_code", uniformBits)
chapter.record("frequency_bits_per_code", frequencyBits)

// MARK: - Training

//: ## Training the transformer
//:
//: The loss is Eq. 8: the cross-entropy of each code given the codes before it, averaged over the
//: 256 codes of each sequence — the start token is read but never predicted
//: (`TwoStageModel.loss`). The step itself is chapter 01's fused forward and backward pass
//: (`GPTFusedStep.swift`); `TwoStageModel.accumulateGradients` takes the predictions of any
//: longer conditioning prefix out of its gradient, which chapter 05 will need. AdamW is the
//: reference's: betas (0.9, 0.95), weight decay 0.01 on the weights of linear layers only.
//:
//: The reference's pkeep (`--pkeep`) replaces each *input* code, with probability 1 − pkeep, by
//: a random one, while the targets stay clean: the model learns to continue sequences that
//: contain mistakes, as its own samples will. The reference ships it switched off (pkeep = 1),
//: and so does this chapter.
//:
//: Every 80 steps the chapter measures the bits per code on 64 training pictures and on 64
//: held-out ones. While both fall together the model is learning what landscapes have in
//: common; when the training curve keeps falling and the held-out one turns up, it has started to
//: memorise its 1,200 pictures.
let budget = chapter.budget(steps: settings.steps, quick: settings.steps)
let codeModelName = "04-gpt-\(firstStage.name)-\(side)px-\(parsed.order.name)"
    + (parsed.pkeep < 1 ? "-pkeep\(parsed.pkeep)" : "")

let (codeModel, codeCurve) = chapter.cell("Training the transformer", "\(gptConfig.layers) layers, width "
                                          + "\(gptConfig.embeddingDim), \(layout.blockSize) positions, on codes.") {
    () throws -> (TwoStageModel, TrainingCurve) in
    let (gpt, curve) = try trainGPT(codeModelName, config: gptConfig, sequences: trainSequences,
                                    heldOut: heldOutSequences) { gpt, batch, rng in
        TwoStageModel(firstStage: tokenizer, transformer: gpt, layout: layout, grid: grid, pkeep: parsed.pkeep)
            .accumulateGradients(sequences: batch, rng: &rng)
    }
    chapter.console.line("\(gpt.parameterCount) parameters; "
                         + (curve.seconds.map { String(format: "trained in %.0f s", $0) } ?? "training time unknown"))
    chapter.record("parameters", gpt.parameterCount)
    if let best = curve.bestHeldOut, let last = curve.evaluationSteps.last {
        chapter.console.line(String(format: "held-out bits per code lowest at step %d (%.3f); at step %d: %.3f held out, %.3f on training pictures",
                                    best.step, best.bits, last, curve.heldOutBits.last!, curve.trainingBits.last!)) // invariant: a curve with a last step has values
        chapter.record("held_out_lowest_step", best.step)
        chapter.record("held_out_lowest_bits_per_code", best.bits)
        try writeCurveChart(curve)
    }
    return (TwoStageModel(firstStage: tokenizer, transformer: gpt, layout: layout, grid: grid, pkeep: parsed.pkeep), curve)
}

//: ![Bits per code while training: training batches (a moving average), and fixed sets of training and held-out pictures, against the code frequencies.](Figures/04-transformer/loss.svg)
//:
//: In the default run the held-out pictures cost 5.15 bits per code at step 80 and 4.26 at step
//: 800, the training pictures 4.98 and 3.86. The gap between them grows all along, from 0.17
//: bits to 0.40, and over the last 240 steps the held-out curve falls more slowly (4.30, 4.27,
//: 4.26) than the training curve (3.92, 3.87, 3.86): the model has begun to memorise its 1,200
//: pictures. More steps on the same pictures would turn the held-out curve up
//: (exercise 3); more pictures would keep it falling, at the price of tokenising them.

// MARK: - Held-out likelihood

//: ## Bits per picture
//:
//: On all 256 held-out pictures, the transformer's negative log-likelihood, −log₂ p(s), is the
//: number of bits it would need to store a picture's codes. Spread over the 4,096 pixels the
//: codes stand for, it is a rate in bits per pixel — of the first stage's version of the picture,
//: not of the picture itself (the codes lose detail; their reconstruction is the best any model
//: of them can do).
//:
//: In the default run: 4.19 bits per code, 1,074 bits per picture, 0.26 bits per pixel — where the
//: uniform guess needs 2,304 bits per picture and the code frequencies alone 2,098.
//:
//: Where do the bits go? Averaged over the held-out pictures, each code position costs:
//:
//: ![Bits per code at each position of the 16 × 16 grid, averaged over the held-out pictures.](Figures/04-transformer/bits.svg)
//:
//: The very first code, with nothing but the start token to go on, is the dearest. The horizon
//: (rows 7 to 9), where sky meets land at a different height in every picture, costs most; the
//: top row (sky) and the bottom rows (ground in front, much the same across a picture) cost least.
//: In most rows the first code costs more than the next: in raster order it has nothing to its
//: left, and the code above it is 16 positions back.
let likelihood = chapter.cell("Bits per picture", "The held-out negative log-likelihood.") { () throws -> SequenceLikelihood in
    let result = codeModel.likelihood(sequences: heldOutSequences)
    chapter.console.line(String(format: "%.3f bits per code, %.0f bits per picture, %.4f bits per pixel on %d held-out pictures",
                                result.bitsPerToken, result.bitsPerImage, result.bitsPerPixel, result.sequences))
    chapter.console.line(String(format: "  (uniform: %.0f bits per picture; code frequencies alone: %.0f)",
                                uniformBits * Double(layout.imageLength), frequencyBits * Double(layout.imageLength)))
    chapter.record("validation_bits_per_code", result.bitsPerToken)
    chapter.record("validation_bits_per_image", result.bitsPerImage)
    chapter.record("validation_bits_per_pixel", result.bitsPerPixel)
    let perPosition = parsed.order.raster(fromSequence: result.bitsPerPosition, height: grid.height, width: grid.width)
    try HeatMap(title: "Bits per code position", subtitle: "held-out pictures, \(parsed.order) order",
                xLabel: "code column", yLabel: "code row",
                values: (0..<grid.height).map { r in Array(perPosition[(r * grid.width)..<((r + 1) * grid.width)]) })
        .write(to: chapter.figurePath("bits.svg").path)
    return result
}

// MARK: - Samples

//: ## Samples: top-k and temperature
//:
//: To paint a picture, start from the start token and draw 256 codes, one at a time, each from
//: the transformer's distribution given the codes so far (with the KV cache of chapter 01), then
//: decode the grid. Two knobs shape each draw: the temperature T divides the logits (below 1
//: sharpens the distribution, above 1 flattens it), and top-k keeps only the k most likely codes
//: (the reference samples with k = 100 by default, its fast sampler with k = 250). The grid
//: below shows four samples for each pair — rows k = all 512, 100, 10; columns T = 0.7, 1.0, 1.3
//: — drawn with the same random numbers, so that the differences are the knobs'.
//:
//: ![Samples on a grid of settings: rows top-k = all, 100, 10; columns temperature 0.7, 1.0, 1.3; four samples per setting.](Figures/04-transformer/samples.png)
//:
//: Small k plays safe: with k = 10 the pictures are flat and clean — desert, night, a plain
//: under a sky — and many are alike. With all 512 codes, and more so at T = 1.3, the model
//: takes risks it has not learned to take: cloud fragments scattered over sky and ground. k = 100
//: sits between. The time is the same for every setting: 256 steps of the transformer and one
//: pass of the decoder per picture; recomputing the whole sequence at every step, as the
//: reference's `sample` does, draws the same codes about fifteen times slower.
let topKs: [Int?] = [nil, 100, 10], temperatures: [Float] = [0.7, 1.0, 1.3]

chapter.cell("Samples: top-k and temperature", "\(topKs.count * temperatures.count) settings, "
             + "\(settings.samplesPerSetting) samples each.") {
    var cells: [Tensor] = []
    let progress = Workbook.Progress("sampling", total: topKs.count * temperatures.count)
    for topK in topKs {
        for temperature in temperatures {
            var rng = RandomGenerator(seed: options.seed &+ 30)
            let pictures = codeModel.sample(count: settings.samplesPerSetting,
                                            sampler: TokenSampler(temperature: temperature, topK: topK), rng: &rng)
            let columns = max(1, Int(Double(settings.samplesPerSetting).squareRoot()))
            cells.append(ImageGrid(columns: columns, padding: 1).compose(batch: pictures.clamped(min: -1, max: 1)))
            progress.advance()
        }
    }
    progress.finish()
    try PNGImage.write(ImageGrid(columns: temperatures.count, padding: 8).compose(cells.map { upscaled($0, by: 2) }),
                       to: chapter.figurePath("samples.png").path)

    // The cost of one picture: 256 transformer steps with the KV cache, then the decoder.
    var rng = RandomGenerator(seed: options.seed &+ 31)
    let sampler = TokenSampler(topK: 100)
    var began = Date()
    let codes = codeModel.sampleCodes(count: 1, sampler: sampler, rng: &rng)
    let drawSeconds = Date().timeIntervalSince(began)
    began = Date()
    _ = codeModel.decode(codes)
    let decodeSeconds = Date().timeIntervalSince(began)
    // The reference recomputes the whole sequence at every step: the same codes, much slower.
    var again = RandomGenerator(seed: options.seed &+ 31)
    began = Date()
    let recomputed = codeModel.sampleCodes(count: 1, sampler: sampler, useCache: false, rng: &again)
    let recomputeSeconds = Date().timeIntervalSince(began)
    let agree = zip(codes[0], recomputed[0]).filter { $0 == $1 }.count
    let perImage = drawSeconds + decodeSeconds
    chapter.console.line(String(format: "one picture: %.3f s (%.2f ms per code with the KV cache, %.3f s to decode); "
                                + "recomputing as the reference: %.2f s, %d of %d codes the same",
                                perImage, 1000 * drawSeconds / Double(layout.imageLength), decodeSeconds,
                                recomputeSeconds, agree, layout.imageLength))
    chapter.record("sample_seconds_per_image", perImage)
    chapter.record("sample_seconds_per_token", drawSeconds / Double(layout.imageLength))
    chapter.record("decode_seconds_per_image", decodeSeconds)
    chapter.record("reference_sampling_seconds_per_image", recomputeSeconds)
    chapter.record("cached_and_recomputed_codes_agree", Double(agree) / Double(layout.imageLength))
}

// MARK: - Completions

//: ## Completions
//:
//: A model of p(s_i | s_<i) can also continue a picture it is given. Here it gets the first half
//: of each held-out picture's sequence — in raster order its top half — and draws the rest, three
//: times (top-k 100, T = 1). The given codes are the picture's own, so the top halves are
//: the first stage's reconstruction; the bottom halves are the transformer's.
//:
//: ![Each row: the given half (the rest gray), three completions, what the first stage makes of the whole picture, and the picture.](Figures/04-transformer/completions.png)
chapter.cell("Completions", "The first half of each sequence is given; the model writes the rest.") {
    var rng = RandomGenerator(seed: options.seed &+ 40)
    let pictures = min(6, data.heldOutCodes.count), tries = 3
    let half = layout.imageLength / 2
    let given = (0..<pictures).flatMap { i in Array(repeating: Array(data.heldOutCodes[i].prefix(half)), count: tries) }
    let codes = codeModel.sampleCodes(count: given.count, given: given, sampler: TokenSampler(topK: 100), rng: &rng)
    let completions = codeModel.decode(codes).clamped(min: -1, max: 1)
    // The pixels of the given codes, gray where codes were not given.
    let givenPositions = Set(parsed.order.positions(height: grid.height, width: grid.width).prefix(half))
    let f = tokenizer.downsamplingFactor
    var tiles: [Tensor] = []
    for i in 0..<pictures {
        let original = picture(data.heldOutImages, i)
        tiles.append(masked(original, keeping: givenPositions, codeSize: f, gridWidth: grid.width))
        for j in 0..<tries { tiles.append(picture(completions, i * tries + j)) }
        tiles.append(picture(data.reconstructions, i))
        tiles.append(original)
    }
    try PNGImage.write(ImageGrid(columns: tries + 3, padding: 3).compose(tiles.map { upscaled($0, by: 2) }),
                       to: chapter.figurePath("completions.png").path)
}

// MARK: - Pixels against codes

//: ## Pixels against codes
//:
//: Now the comparison the chapter is for. Chapter 01's pixel model is trained again here, with the
//: same GPT, the same 256 positions, the same batches and steps, on the same landscapes — shrunk
//: to 16 × 16 by averaging 4 × 4 blocks, because 256 pixels is all its sequence can hold. Its
//: tokens are 32 palette colours found by k-means, plus a start token, as in chapter 01.
//:
//: Both are sampled with the reference's default, top-k 100 at T = 1 (for 32 colours, k = 100
//: keeps them all). The table measures four things:
//:
//: - *cost*: a training step (forward and backward on a batch of 8) and one sampled picture, timed
//:   back to back for the two models so that both see the same machine;
//: - *bits per pixel* on the held-out pictures — of each model's own simplified picture (32
//:   colours at 16 × 16, or 512 codes standing for 64 × 64), so not the same quantity;
//: - *the Fréchet distance* of 256 samples to the 256 held-out landscapes, as in chapter 03, with
//:   chapter 03's judge (its feature network, from the cache or trained now); the pixel model's
//:   samples are enlarged to 64 × 64, each pixel a 4 × 4 block;
//: - *detail*: the energy of a picture below the 4-pixel scale (its difference from its own 4 × 4
//:   block means), as a share of real pictures' — what no 16 × 16 picture can hold.
//:
//: Three more rows bound what either model could reach: real pictures shrunk to 16 × 16 (a perfect
//: pixel model), the first stage's reconstructions (a perfect code model), and a second set of
//: real landscapes.
//:
//: ![Top: samples of the pixel model (16 × 16, enlarged). Middle: samples of the code model (64 × 64). Bottom: held-out landscapes. The same GPT, the same 256 positions, the same training steps.](Figures/04-transformer/comparison.png)
//:
//: In the default run (the numbers are in `summary.json` under `comparison`):
//:
//: | pictures | tokens | pixels | ms per step | s per picture | bits/pixel | Fréchet | detail |
//: |---|---|---|---|---|---|---|---|
//: | pixel GPT | 256 | 256 | 131 | 0.04 | 1.237 | 59.4 | 0 % |
//: | code GPT | 256 | 4,096 | 133 | 0.05 | 0.262 | 34.5 | 39 % |
//: | real, shrunk to 16 × 16 | 256 | 256 | | | | 0.09 | 0 % |
//: | first stage's reconstructions | 256 | 4,096 | | | | 3.82 | 50 % |
//: | other real landscapes | | 4,096 | | | | 1.88 | 94 % |
//:
//: What it says. The two cost about the same to train, and a sampled picture costs the code model
//: half as much again — its output layer has 513 entries instead of 33, and its pictures go
//: through the decoder — and for that the code model's sequence covers sixteen times the pixels. The detail column counts what that
//: buys: zero below the 4-pixel scale for anything 16 × 16, by construction; 39 % of real
//: pictures' for the code model's samples — less than the first stage's own reconstructions
//: (50 %), because the samples lean to flat, safe scenes, and some of what detail they have is
//: seams between codes that do not fit their neighbours. Detail is not quality.
//:
//: The Fréchet distance tells the other half. The judge's pooled features hardly see resolution:
//: the held-out pictures themselves, shrunk to 16 × 16, stand at 0.09 from their originals (a
//: second set of real landscapes at 1.88), while the first stage's blur and colour shifts put its
//: reconstructions of the same pictures at 3.82. What the judge sees is scenes — colours,
//: horizons, what lies where. In its eyes both models' samples are still far from real
//: landscapes: the code model's at 34.5, the pixel model's at 59.4 in this run. Take the order
//: with a grain of salt. Both distances swing by tens from one training run to another (trained
//: for 500 steps instead of 800, the pixel model's samples stood at 23 and the code model's at
//: 54), because what moves them most is the mix of scenes a model happens to favour — the
//: pixel model's samples above lean to night and dusk — and after a few CPU minutes that mix is
//: still settling. The code model is bounded by its first stage and by the minutes it trained;
//: the pixel model's bound is resolution itself: its
//: pictures will never have more than 256 pixels unless its sequences grow, and chapter 01
//: measured what that costs. The paper's bet is the code model's: train it for days instead of
//: minutes, and its scenes come right at a resolution the pixel model cannot reach.
struct ComparisonRow {
    var name: String
    var tokens: Int?
    var pixels: Int
    var steps: Int?
    var trainSeconds: Double?
    /// One training step (forward and backward on a batch), measured beside the other model's.
    var stepSeconds: Double?
    var bitsPerPixel: Double?
    var samplePerImage: Double?
    var frechet: Double?
    /// Detail below the 4-pixel scale, as a share of the real pictures'.
    var detail: Double
}

let comparison = chapter.cell("Pixels against codes", "The same GPT on \(side / tokenizer.downsamplingFactor)×"
                              + "\(side / tokenizer.downsamplingFactor) pixels and on \(grid.height)×\(grid.width) codes.") {
    () throws -> [ComparisonRow] in
    // The pixel model's data: the same pictures, shrunk to 256 pixels, in palette colours.
    let f = tokenizer.downsamplingFactor, small = side / f
    let shrink = { (x: Tensor) in withNoGrad { avgPool2d(x, kernel: f) } }
    let (trainSmall, heldOutSmall) = (shrink(data.trainImages), shrink(data.heldOutImages))
    var paletteRNG = RandomGenerator(seed: options.seed &+ 1)
    let palette = PixelPalette.fit(images: trainSmall, count: settings.colors, rng: &paletteRNG)
    let pixelLayout = TokenLayout.unconditional(codebookSize: palette.count, imageLength: small * small)
    let pixelSequences = palette.indices(of: trainSmall).map { pixelLayout.sequence(codes: $0) }
    let pixelHeldOut = palette.indices(of: heldOutSmall).map { pixelLayout.sequence(codes: $0) }
    var pixelConfig = gptConfig
    pixelConfig.vocabularySize = pixelLayout.vocabularySize
    let (pixelGPT, pixelCurve) = try trainGPT("04-pixel-gpt-\(small)px-k\(palette.count)-\(palette.fingerprint)",
                                              config: pixelConfig, sequences: pixelSequences, heldOut: nil) {
        gpt, batch, rng in gpt.accumulateGradients(sequences: batch, rng: &rng)
    }
    let pixelBits = pixelGPT.likelihood(sequences: pixelHeldOut, prefixLength: 1, pixelsPerImage: small * small)

    // Samples of both (top-k 100, the reference's default), and the time of one picture each.
    let count = settings.qualitySamples
    let pixelSampler = TokenSampler(topK: 100, tokenLimit: palette.count), codeSampler = TokenSampler(topK: 100)
    var rng = RandomGenerator(seed: options.seed &+ 50)
    let progress = Workbook.Progress("sampling both models", total: 2 * layout.imageLength)
    let pixelTokens = pixelGPT.generate(prefix: Array(repeating: pixelLayout.startPrefix, count: count),
                                        count: pixelLayout.imageLength, sampler: pixelSampler, rng: &rng) {
        progress.update(step: $0)
    }
    let codeSamples = codeModel.decode(codeModel.sampleCodes(count: count, sampler: codeSampler, rng: &rng) {
        progress.update(step: layout.imageLength + $0)
    }).clamped(min: -1, max: 1)
    progress.finish()
    let pixelSamples = upscaled(palette.images(from: pixelTokens, height: small, width: small), by: f)
    // What one training step and one picture cost each model, measured back to back (medians of
    // three, alternating, so that both see the same machine).
    var pixelCost: [(step: Double, sample: Double)] = [], codeCost: [(step: Double, sample: Double)] = []
    for _ in 0..<3 {
        pixelCost.append(cost(pixelGPT, Array(pixelSequences.prefix(settings.batchSize))) {
            _ = pixelGPT.generate(prefix: [pixelLayout.startPrefix], count: pixelLayout.imageLength, sampler: pixelSampler,
                                  rng: &rng)
        })
        codeCost.append(cost(codeModel.transformer, Array(trainSequences.prefix(settings.batchSize))) {
            _ = codeModel.sample(count: 1, sampler: codeSampler, rng: &rng)
        })
    }
    let shown = min(8, count, data.heldOutImages.shape[0])
    try PNGImage.write(ImageGrid(columns: shown, padding: 3).compose(
        [pixelSamples, codeSamples, data.heldOutImages].flatMap { batch in (0..<shown).map { upscaled(picture(batch, $0), by: 2) } }),
        to: chapter.figurePath("comparison.png").path)

    // The judge, the distances, and the fine detail.
    let judge = try featureNetwork()
    let real = data.heldOutImages
    // A Gaussian needs two pictures at least; a --data folder may hold out fewer.
    let realStatistics = real.shape[0] >= 2 ? try GaussianStatistics(features: judge.pooledFeatures(real)) : nil
    let realDetail = fineDetail(real, scale: f)
    func row(_ name: String, _ pictures: Tensor, tokens: Int?, pixels: Int, curve: TrainingCurve? = nil,
             bitsPerPixel: Double? = nil, cost: [(step: Double, sample: Double)] = []) throws -> ComparisonRow {
        let frechet = try realStatistics.map { reference in
            try FrechetDistance.distance(reference, GaussianStatistics(features: judge.pooledFeatures(pictures)))
        }
        return ComparisonRow(name: name, tokens: tokens, pixels: pixels, steps: curve?.steps.last,
                             trainSeconds: curve?.seconds, stepSeconds: median(cost.map(\.step)), bitsPerPixel: bitsPerPixel,
                             samplePerImage: median(cost.map(\.sample)),
                             frechet: frechet,
                             detail: fineDetail(pictures, scale: f) / realDetail)
    }
    var rows = [
        try row("pixel GPT", pixelSamples, tokens: pixelLayout.imageLength, pixels: small * small, curve: pixelCurve,
                bitsPerPixel: pixelBits.bitsPerPixel, cost: pixelCost),
        try row("code GPT", codeSamples, tokens: layout.imageLength, pixels: side * side, curve: codeCurve,
                bitsPerPixel: likelihood.bitsPerPixel, cost: codeCost),
        try row("real, shrunk to \(small)×\(small)", upscaled(heldOutSmall, by: f), tokens: small * small, pixels: small * small),
        try row("first stage's reconstructions", data.reconstructions.clamped(min: -1, max: 1), tokens: layout.imageLength,
                pixels: side * side),
    ]
    if options.data == nil {
        let other = try ProceduralDataset(seed: options.seed &+ 1, count: real.shape[0], width: side, height: side,
                                          split: .validation)
        rows.append(try row("other real landscapes", ImageSource.stacked(other, seed: options.seed), tokens: nil,
                            pixels: side * side))
    }
    report(rows, count: count)
    return rows
}

chapter.finish()

//: ## Summary
//:
//: - With the first stage frozen, a picture is a short sequence of codebook indices, and the
//:   paper's second stage is chapter 01's GPT on those sequences: p(s) = Π p(s_i | s_<i),
//:   trained on the cross-entropy of the codes, never of the start or conditioning tokens.
//: - The same 256 positions that held a 16 × 16 picture in chapter 01 hold a 64 × 64 one here:
//:   sixteen times the pixels for the same training step and the same sampling time.
//: - Top-k and temperature trade variety for safety; completions show the model continuing a
//:   given scene with its own choices.
//: - No 16 × 16 picture holds any detail below the 4-pixel scale; the code model's samples carry
//:   more than half of real pictures'. How often either model gets a scene right is, after a few
//:   CPU minutes, still a matter of training, which the paper measures in GPU-days; resolution
//:   is what the codes buy.
//:
//: ## Exercises
//:
//: 1. Read the codes in another order: `--order z-curve`, `spiral-out`, `random`. How do the held-out
//:    bits per picture change? Where does the bits-per-position map put the expensive codes?
//: 2. Turn on pkeep: `--pkeep 0.9`. Does it help the held-out bits, or the samples?
//: 3. Train longer (`--steps 2000`). Where does the held-out curve turn up? What do samples look
//:    like from a model that has memorised its training pictures?
//: 4. The same model on 32 × 32 pictures is 8 × 8 = 64 codes. How much faster are training and
//:    sampling (change `side` in `Settings`), and what is lost?
//: 5. Write a completion where the model is given the *bottom* half (hint: an order that reads
//:    the rows from the bottom up is one more `CodeOrder`).

// fold: Helpers for the training and the figures
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
func picture(_ batch: Tensor, _ i: Int) -> Tensor {
    batch.slice(axis: 0, i..<(i + 1)).reshaped(Array(batch.shape.dropFirst()))
}

/// `image` [3, H, W] with the f × f blocks of codes not in `keeping` (raster positions) grayed.
func masked(_ image: Tensor, keeping: Set<Int>, codeSize f: Int, gridWidth: Int) -> Tensor {
    let (h, w) = (image.shape[1], image.shape[2])
    let out = image.clone()
    out.withUnsafeMutableBufferPointer { p in
        for y in 0..<h {
            for x in 0..<w where !keeping.contains((y / f) * gridWidth + x / f) {
                for c in 0..<3 { p[(c * h + y) * w + x] = ((x / 2 + y / 2) % 2 == 0) ? -0.2 : 0.1 }
            }
        }
    }
    return out
}

/// Trains (or loads) a GPT on `sequences` under the chapter's budget: chapter 01's recipe
/// (AdamW 10⁻³, warm-up and cosine decay, gradients clipped at norm 1), `lossAndGradients` for
/// each batch, and (given `heldOut`) bits per token on fixed training and held-out sequences
/// at intervals.
func trainGPT(_ name: String, config: GPTConfig, sequences: [[Int]], heldOut: [[Int]]?,
              lossAndGradients: @escaping (GPT, [[Int]], inout RandomGenerator) -> Float) throws -> (GPT, TrainingCurve) {
    let plannedSteps: Int = { if case .steps(let n) = budget { return n } else { return settings.steps } }()
    let curveURL = chapter.cache.url(for: name, budget: budget).appendingPathExtension("curve.json")
    var curve = TrainingCurve.load(from: curveURL) ?? TrainingCurve()
    let monitoredTrain = Array(sequences.prefix(settings.monitored))
    let monitoredHeldOut = Array((heldOut ?? []).prefix(settings.monitored))
    let evaluateEvery = max(plannedSteps / settings.evaluations, 1)
    let model = try chapter.cache.loadOrTrain(name, budget: budget, make: { () -> GPT in
        var rng = RandomGenerator(seed: options.seed &+ 2)
        return GPT(config, rng: &rng)
    }) { model, session in
        let optimizer = model.makeOptimizer(lr: settings.learningRate)
        try session.include(optimizer, as: "gpt")
        let schedule = WarmupCosineSchedule(peak: settings.learningRate, minimum: settings.learningRate / 10,
                                            warmupSteps: plannedSteps / 20, totalSteps: plannedSteps)
        if session.isResuming { curve.truncate(at: session.start.step) } else { curve = TrainingCurve() }
        let report = try session.run { step in
            // Each step's batch depends only on the seed and the step: a resumed run sees the
            // same batches as an uninterrupted one.
            var rng = RandomGenerator(seed: options.seed &+ 1000 &+ UInt64(step))
            let batch = (0..<settings.batchSize).map { _ in sequences[rng.int(below: sequences.count)] }
            optimizer.lr = schedule(Int(session.fractionSpent(step: step) * Double(plannedSteps)))
            let nats = lossAndGradients(model, batch, &rng)
            try guardFinite(nats, step: step)
            clipGradNorm(model.parameters(), maxNorm: 1)
            optimizer.step()
            optimizer.zeroGrad()
            let bits = Double(nats) / log(2)
            curve.steps.append(step + 1)
            curve.batchBits.append(bits)
            if !monitoredHeldOut.isEmpty && (step + 1) % evaluateEvery == 0 {
                curve.evaluationSteps.append(step + 1)
                curve.trainingBits.append(model.likelihood(sequences: monitoredTrain, prefixLength: 1, pixelsPerImage: 1).bitsPerToken)
                curve.heldOutBits.append(model.likelihood(sequences: monitoredHeldOut, prefixLength: 1, pixelsPerImage: 1).bitsPerToken)
                try curve.save(to: curveURL)
            }
            return ["bits": Float(bits)]
        }
        curve.seconds = session.start.seconds + report.seconds
        try curve.save(to: curveURL)
    }
    return (model, curve)
}

/// Chapter 03's judge: its feature network trained on labelled landscapes, loaded from the cache
/// under chapter 03's name (or trained as chapter 03 trains it).
func featureNetwork() throws -> FeatureNetwork {
    let budget = TrainingBudget.steps(settings.judgeSteps)
    let landscapes = try ProceduralDataset(seed: options.seed, count: quick ? 256 : 2000, width: 32, height: 32)
    let loader = try BatchLoader(dataset: landscapes, batchSize: quick ? 8 : 16, seed: options.seed)
    return try chapter.cache.loadOrTrain("03-feature-network", budget: budget, make: { () -> FeatureNetwork in
        var rng = RandomGenerator(seed: options.seed)
        return FeatureNetwork(FeatureNetwork.Config(), rng: &rng)
    }) { (network: FeatureNetwork, session) in
        let trainer = FeatureNetworkTrainer(network: network)
        try session.include(trainer.optimizer, as: "features")
        try session.run { step in
            trainer.scheduleLearningRate(step: step, totalSteps: settings.judgeSteps)
            let b = loader.batch(epoch: step / loader.batchesPerEpoch, position: step % loader.batchesPerEpoch)
            let scores = try trainer.step(FeatureNetworkBatch(images: b.images, segmentation: b.segmentations ?? [],
                                                              scenes: b.classes ?? []))
            try guardFinite(scores.segmentationLoss, step: step)
            return ["pixels": scores.segmentationLoss, "scenes": scores.sceneLoss]
        }
    }
}

/// A first stage trained here when chapter 03's is not in the cache: chapter 02's VQ-VAE recipe
/// (the workbook autoencoder at f = 4, 512 codes) on 32 × 32 pictures.
func trainStandInFirstStage() throws -> VQModel {
    let recipe = VQRecipe.named(.workbook, resolution: 32, downsampling: 4)
    var training = recipe.training
    if quick { training.batchSize = 8 }
    let (train, _) = try ImageSource.datasets(data: options.data, validationData: options.valData, nativeCrops: false,
                                              side: 32, trainingCount: quick ? 256 : 4000, heldOutCount: 16,
                                              seed: options.seed)
    training.batchSize = min(training.batchSize, train.count)      // a small --data folder
    let loader = try BatchLoader(dataset: train, batchSize: training.batchSize, seed: options.seed)
    return try StageTraining.firstStage("04-stand-in-f4", cache: chapter.cache, recipe: recipe, training: training,
                                        steps: settings.standInSteps, seed: options.seed) { step in
        loader.batch(epoch: step / loader.batchesPerEpoch, position: step % loader.batchesPerEpoch).images
    }
}

/// The tokenising figures: pictures, reconstructions and code maps; one sequence; the orders.
func writeTokenFigures(_ images: Tensor, _ reconstructions: Tensor, _ codes: [[Int]]) throws {
    let shown = min(6, images.shape[0])
    let (h, w) = grid
    let scale = 192 / side, cell = 192 / h
    var tiles: [Tensor] = []
    for i in 0..<shown { tiles.append(upscaled(picture(images, i), by: scale)) }
    for i in 0..<shown { tiles.append(upscaled(picture(reconstructions, i).clamped(min: -1, max: 1), by: scale)) }
    for i in 0..<shown {
        let raster = parsed.order.raster(fromSequence: codes[i], height: h, width: w)
        tiles.append(upscaled(colorize(codes: raster, width: w, height: h), by: cell))
    }
    try PNGImage.write(ImageGrid(columns: shown, padding: 3).compose(tiles), to: chapter.figurePath("tokens.png").path)

    // The sequence: the start token in black, then the codes, each a 5 × 36 stripe, with a
    // white gap after every row of the code map.
    let sequence = [-1] + codes[0]
    let (stripe, height, gap) = (5, 36, 2)
    let left = { (k: Int) in k * stripe + (k + w - 1) / w * gap }                // token k's first column
    let strip = Tensor.make([3, height, left(sequence.count)]) { out in
        let width = left(sequence.count)
        for i in 0..<out.count { out[i] = 1 }
        for (k, code) in sequence.enumerated() {
            let color = code < 0 ? RGBColor.black : Palette.codeColor(code)
            let rgb = [color.red, color.green, color.blue].map { 2 * $0 - 1 }
            for c in 0..<3 {
                for y in 0..<height {
                    for x in left(k)..<(left(k) + stripe) { out[(c * height + y) * width + x] = rgb[c] }
                }
            }
        }
    }
    try PNGImage.write(strip, to: chapter.figurePath("sequence.png").path)

    // The orders: each position coloured by when it is read.
    let orders = CodeOrder.all.map { order -> Tensor in
        let when = order.inversePositions(height: h, width: w).map(Float.init)
        return upscaled(ColorMap.viridisLike.image(Tensor(shape: [h, w], when)), by: cell)
    }
    try PNGImage.write(ImageGrid(columns: orders.count, padding: 6).compose(orders), to: chapter.figurePath("orders.png").path)
}

/// The two stages as a diagram: training reads codes, sampling writes them.
func writePipelineDiagram() throws {
    let (h, w) = grid, n = h * w
    let pixels = "\(side)×\(side)×3"
    let diagram = PipelineDiagram(title: "Two stages: the frozen VQGAN and the transformer over its codes", lanes: [
        .init(title: "training", stages: [
            .data("picture", output: pixels),
            .model("Encoder E", detail: "frozen", output: "\(h)×\(w)×\(tokenizer.autoencoder.quantize.dimension)"),
            .operation("nearest code", detail: "codebook of \(tokenizer.codebookSize)", output: "\(h)×\(w) indices"),
            .operation("read in \(parsed.order.name) order", detail: "start token first", output: "\(n + 1) tokens"),
            .model("GPT", detail: "\(gptConfig.layers) layers, width \(gptConfig.embeddingDim)", output: "\(n)×\(layout.vocabularySize) logits",
                   id: "learner"),
            .loss("cross-entropy", detail: "on the \(n) codes"),
        ]),
        .init(title: "sampling", stages: [
            .data("start token", output: "1 + i tokens"),
            .model("GPT", detail: "KV cache", output: "\(layout.vocabularySize) logits", id: "sampler"),
            .operation("top-k, temperature", detail: "draw code i, append; \(n) times", output: "\(h)×\(w) indices"),
            .operation("codebook lookup", output: "\(h)×\(w)×\(tokenizer.autoencoder.quantize.dimension)"),
            .model("Decoder G", detail: "frozen", output: pixels),
            .data("picture"),
        ]),
    ], links: [.init(from: "learner", to: "sampler", label: "trained weights")])
    let name = "diagrams/pipeline"
    let folder = try chapter.figurePath(name + ".dot").deletingLastPathComponent()
    for ext in ["svg", "png"] { _ = try chapter.figurePath(name + "." + ext) }
    try diagram.write(to: folder, name: "pipeline")
}

/// The training curves of the code model.
func writeCurveChart(_ curve: TrainingCurve) throws {
    let last = Double(curve.steps.last ?? 1)
    let series: [LineChart.Series] = [
        .init(name: "training batches", x: curve.steps.map(Double.init), y: movingAverage(curve.batchBits, window: 25)),
        .init(name: "training pictures", x: curve.evaluationSteps.map(Double.init), y: curve.trainingBits),
        .init(name: "held-out pictures", x: curve.evaluationSteps.map(Double.init), y: curve.heldOutBits),
        .init(name: "code frequencies only", x: [1, last], y: [frequencyBits, frequencyBits], dashed: true),
    ]
    try LineChart(title: "Bits per code while training", subtitle: "\(side)×\(side) landscapes as \(grid.height)×\(grid.width) codes of \(layout.codebookSize)",
                  xLabel: "step", yLabel: "bits per code", series: series)
        .write(to: chapter.figurePath("loss.svg").path)
}

/// The detail of pictures [B, 3, H, W] below the `scale`-pixel scale: the mean squared difference
/// between each picture and its `scale` × `scale` block means (zero for any picture enlarged from
/// one `scale` times smaller).
func fineDetail(_ x: Tensor, scale: Int) -> Double {
    withNoGrad { Double((x - upsampleNearest(avgPool2d(x, kernel: scale), scale: scale)).squared().mean().item) }
}

/// Seconds of one training step's forward and backward pass on `batch` (gradients cleared
/// after) and of `sample`.
func cost(_ gpt: GPT, _ batch: [[Int]], sample: () -> Void) -> (step: Double, sample: Double) {
    var began = Date()
    var rng = RandomGenerator(seed: 0)
    _ = gpt.accumulateGradients(sequences: batch, rng: &rng)
    gpt.zeroGrad()
    let step = Date().timeIntervalSince(began)
    began = Date()
    sample()
    return (step, Date().timeIntervalSince(began))
}

/// The middle value (nil for none).
func median(_ values: [Double]) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Prints and records the comparison table.
func report(_ rows: [ComparisonRow], count: Int) {
    chapter.console.line("  pictures                        tokens  pixels  steps  training  ms/step  bits/pixel  "
                         + "sample (s)  Fréchet  detail")
    var table: [JSONValue] = []
    func text(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "-" }
    for row in rows {
        let perStep = row.stepSeconds.map { 1000 * $0 }
        chapter.console.line("  " + row.name.padding(toLength: 30, withPad: " ", startingAt: 0)
                             + pad(row.tokens.map { "\($0)" } ?? "-", 8) + pad("\(row.pixels)", 8)
                             + pad(row.steps.map { "\($0)" } ?? "-", 7) + pad(text(row.trainSeconds, "%.0f s"), 10)
                             + pad(text(perStep, "%.0f"), 9) + pad(text(row.bitsPerPixel, "%.3f"), 12)
                             + pad(text(row.samplePerImage, "%.3f"), 12) + pad(text(row.frechet, "%.2f"), 9)
                             + pad(String(format: "%.0f%%", 100 * row.detail), 8))
        table.append(.object([
            "pictures": .string(row.name), "tokens": row.tokens.map { .int($0) } ?? .null, "pixels": .int(row.pixels),
            "steps": row.steps.map { .int($0) } ?? .null,
            "train_seconds": row.trainSeconds.map { .number($0, decimals: 1) } ?? .null,
            "train_ms_per_step": perStep.map { .number($0, decimals: 1) } ?? .null,
            "bits_per_pixel": row.bitsPerPixel.map { .number($0) } ?? .null,
            "sample_seconds_per_image": row.samplePerImage.map { .number($0, decimals: 4) } ?? .null,
            "frechet": row.frechet.map { .number($0) } ?? .null, "fine_detail": .number(row.detail),
        ]))
    }
    chapter.console.line("  (Fréchet: \(count) pictures against \(data.heldOutImages.shape[0]) held-out \(side)×\(side) pictures "
                         + "in chapter 03's judge's features, lower is closer; detail: below the 4-pixel scale, "
                         + "as a share of real pictures')")
    chapter.record("comparison", JSONValue.array(table))
}
// endfold
