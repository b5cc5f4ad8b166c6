//: # 02 · VQ-VAE: a codebook of visual parts
//:
//: The first stage of "Taming Transformers" turns an image into a small grid of integers. An
//: encoder E shrinks the image by a factor f, a *codebook* of K vectors replaces every latent
//: vector by its nearest entry, and a decoder G paints the image back from those entries (the
//: paper's §3.1, Eq. (1)–(4)). The grid of code indices is what the transformer of chapter 04 will
//: read and write, so this chapter builds and measures the part everything else stands on.
//:
//: This chapter builds the authors' autoencoder from `Sources/Taming` — the same blocks and the same
//: parameter names as their `VQModel` — trains it on procedural landscapes (or your own photos with
//: `--data DIR`), and writes everything it shows into `Figures/02-vqvae/`. It leaves the trained
//: model in the cache for chapters 03 and 04. Run it with `swift run -c release 02-vqvae`.
import Datasets
import Diagrams
import Foundation
import Imaging
import NN
import Taming
import Tensors
import Workbook

let chapter = Chapter(number: 2, title: "VQ-VAE: a codebook of visual parts", folder: "02-vqvae")
let options = chapter.options
let quick = options.quick
var rng = RandomGenerator(seed: options.seed)

//: ## The data
//:
//: We train on 32×32 landscapes: sky, clouds, mountains, water, trees, sand and rock under five
//: kinds of light (day, sunset, night, snow, desert), drawn procedurally from a seed so nothing is
//: downloaded. Each row of the figure is one scene class, each picture sits beside its
//: segmentation map (which chapter 05 will use).
//:
//: ![Procedural landscapes, one row per scene class, each beside its segmentation map](Figures/02-vqvae/data.png)
let side = 32
let (train, heldOut) = chapter.cell("The data", "Landscapes at \(side)×\(side), or your photos with --data.") {
    () throws -> (any Dataset, Tensor) in
    let train: any Dataset, validation: any Dataset
    if let folder = options.data {
        let photos = try ImageFolderDataset(folder: folder, width: side, height: side)
        if let valFolder = options.valData {
            train = photos
            validation = try ImageFolderDataset(folder: valFolder, width: side, height: side, augmentation: .none)
        } else {
            (train, validation) = try photos.split(validationFraction: 0.1, seed: options.seed)
        }
    } else {
        train = try ProceduralDataset(seed: options.seed, count: quick ? 256 : 4000, width: side, height: side)
        validation = try ProceduralDataset(seed: options.seed, count: quick ? 32 : 256, width: side, height: side,
                                           split: .validation)
    }
    let gallery = try LandscapeGallery.figure(generator: LandscapeGenerator(seed: options.seed),
                                              samplesPerScene: 4, width: 64, height: 64)
    try PNGImage.write(gallery, to: chapter.figurePath("data.png").path)
    var evalRNG = RandomGenerator(seed: options.seed)
    let heldOut = stack((0..<validation.count).map { validation.example(at: $0, rng: &evalRNG).image })
    chapter.console.line("\(train.count) training and \(validation.count) held-out images")
    return (train, heldOut)                                        // heldOut: [N, 3, 32, 32]
}

//: ## The autoencoder, and what f means
//:
//: The encoder is a stack of resolution levels. Each level holds ResnetBlocks (GroupNorm → swish →
//: 3×3 conv, twice, plus a skip connection); every level but the last ends by halving the
//: resolution with a stride-2 convolution, so with `ch_mult = [1, 2, 2]` a 32×32 image becomes an
//: 8×8 grid: the downsampling factor is f = 2^(levels − 1) = 4. At the lowest resolution,
//: single-head self-attention lets every position see every other. The decoder mirrors it with
//: nearest-neighbour upsampling. A 1×1 `quant_conv` maps the encoder's output to the codebook's
//: dimension, and `post_quant_conv` maps it back.
//:
//: The diagram below is drawn from the model object itself, with the shapes it produced on one
//: batch, so it cannot drift from the code.
//:
//: ![The VQ model: encoder, quantizer and decoder, with output shapes for a batch of 16](Figures/02-vqvae/diagrams/vqmodel.png)
func autoencoderConfig(downsampling f: Int) -> AutoencoderConfig {
    let levels = Int(log2(Double(f))) + 1
    return AutoencoderConfig(
        channels: 32, channelMultipliers: [1] + Array(repeating: 2, count: levels - 1),
        resBlocksPerLevel: 1, attentionResolutions: [side / f], zChannels: 32, embedDim: 32,
        codebookSize: 512, resolution: side)
}
let config = autoencoderConfig(downsampling: 4)
chapter.cell("The autoencoder", "f = \(config.downsamplingFactor): \(side)×\(side) → "
             + "\(config.latentResolution)×\(config.latentResolution) codes from \(config.codebookSize).") {
    var initRNG = RandomGenerator(seed: options.seed)
    let model = VQModel(config, rng: &initRNG)
    let batch = heldOut.slice(axis: 0, 0..<min(16, heldOut.shape[0]))
    let (_, shapes) = model.recordingShapes { withNoGrad { model(batch) } }
    try chapter.diagram(model, name: "diagrams/vqmodel", maxDepth: 2, inputShape: batch.shape, shapes: shapes)
    chapter.console.line("\(model.parameterCount) parameters")
    chapter.record("parameters", model.parameterCount)
}

//: ## Quantisation is a nearest-neighbour search
//:
//: Quantising is easiest to see in two dimensions. Below, 600 points stand in for encoder outputs
//: and 12 codes, scattered at random, for the codebook. Each point takes the colour of its
//: nearest code — the codes split the plane into Voronoi cells. The second figure shows the codes
//: after ten rounds of the codebook loss ‖sg[ẑ] − z_q‖² taken to its minimum, which moves each
//: code to the mean of the points it owns. The argmin has no gradient; the *straight-through estimator* z_q = ẑ + sg[z_q − ẑ]
//: copies the decoder's gradient at z_q onto ẑ, as if quantisation were the identity.
//:
//: ![Twelve random codes; points coloured by their nearest code](Figures/02-vqvae/quantization-before.svg)
//:
//: ![The same codes after ten codebook updates](Figures/02-vqvae/quantization-after.svg)
chapter.cell("A 2-D quantiser", "600 points, 12 codes, nearest-neighbour assignment.") {
    var toyRNG = RandomGenerator(seed: options.seed &+ 2)
    let centres: [(Float, Float)] = [(-2, -1), (0, 2), (2, -1.5), (1.5, 1), (-1.5, 1.5)]
    let points = Tensor.make([600, 2]) { p in
        for i in 0..<600 {
            let c = centres[i % centres.count]
            p[2 * i] = c.0 + 0.45 * toyRNG.normal(); p[2 * i + 1] = c.1 + 0.45 * toyRNG.normal()
        }
    }
    var codes = Tensor.uniform([12, 2], low: -4, high: 4, rng: &toyRNG)
    func plot(_ title: String, _ name: String) throws {
        let assignment = pairwiseSquaredDistances(points, codes).argminLast()
        let xy = points.scalars, c = codes.scalars
        let chart = ScatterPlot(
            title: title, xLabel: "z₁", yLabel: "z₂",
            points: (0..<600).map { .init(x: Double(xy[2 * $0]), y: Double(xy[2 * $0 + 1]), label: assignment[$0]) },
            classNames: (0..<12).map { "nearest to code \($0)" },
            markers: .init(name: "codes", points: (0..<12).map { (Double(c[2 * $0]), Double(c[2 * $0 + 1])) }))
        try chart.write(to: chapter.figurePath(name).path)
    }
    try plot("12 random codes: each point goes to its nearest", "quantization-before.svg")
    // Codebook updates: each code moves to the mean of its points (codes owning none stay put).
    for _ in 0..<10 {
        let assignment = pairwiseSquaredDistances(points, codes).argminLast()
        var sums = [Float](repeating: 0, count: 24), counts = [Float](repeating: 0, count: 12)
        let xy = points.scalars
        for (i, k) in assignment.enumerated() { sums[2 * k] += xy[2 * i]; sums[2 * k + 1] += xy[2 * i + 1]; counts[k] += 1 }
        let old = codes.scalars
        codes = Tensor(shape: [12, 2], (0..<24).map { counts[$0 / 2] > 0 ? sums[$0] / counts[$0 / 2] : old[$0] })
    }
    try plot("After ten codebook updates: codes without points never move", "quantization-after.svg")
}

//: Codes that start far from the data never win a point, never receive a gradient and never
//: move: they are *dead*. In a real codebook with hundreds of entries this is
//: the common failure called codebook collapse, and the authors' code does nothing about it (it
//: does not even measure it). We add three remedies from later work, each an option of
//: `CodebookOptions`: k-means initialisation of the codes from the first batch's encoder outputs,
//: restarting codes unused for 100 steps at random encoder outputs, and (off by default) EMA
//: updates of the codes.

//: ## Training
//:
//: One step encodes a batch, quantises it, decodes it and minimises Eq. (4) of the paper with an
//: L1 pixel term as the authors' code does:
//:
//: L = |x − x̂| + ‖sg[ẑ] − z_q‖² + β‖ẑ − sg[z_q]‖², β = 0.25.
//:
//: β sits on the *commitment* term, as in the VQ-VAE paper. The authors' `VectorQuantizer2`
//: (with its default `legacy=True`) puts it on the codebook term instead, which makes the codebook
//: learn four times slower than intended; `VectorQuantizer(legacy: true)` reproduces that.
//: Adam (β₁ = 0.5, β₂ = 0.9) with a cosine-decayed learning rate does the rest; the step lives in
//: `Sources/Taming/VQTraining.swift`.
//:
//: ![Training losses of the f = 4 model: reconstruction (L1), codebook and commitment terms](Figures/02-vqvae/losses.svg)
struct TrainingRun {
    var model: VQModel
    var history: [VQStepLosses]
}

/// Trains (or loads from the cache) a VQ model; its loss history is kept beside the checkpoint.
func trainVQ(_ name: String, config: AutoencoderConfig, codebook: CodebookOptions, steps: Int,
             quickSteps: Int) throws -> TrainingRun {
    let budget = options.budget(steps: steps, quick: quickSteps)
    let trainingConfig = VQTrainingConfig(codebook: codebook)
    let loader = try BatchLoader(dataset: train, batchSize: quick ? 8 : trainingConfig.batchSize, seed: options.seed)
    let historyURL = chapter.cache.url(for: name, budget: budget).appendingPathExtension("history.json")
    var history = (try? JSONDecoder().decode([VQStepLosses].self, from: Data(contentsOf: historyURL))) ?? []
    let model = try chapter.cache.loadOrTrain(name, budget: budget, make: { () -> VQModel in
        var initRNG = RandomGenerator(seed: options.seed)
        return VQModel(config, rng: &initRNG)
    }) { (model: VQModel, session) in
        let trainer = VQTrainer(model: model, config: trainingConfig, seed: options.seed &+ 1)
        try session.include(trainer.optimizer, as: "ae")
        if session.isResuming { trainer.resume() } else { history = [] }
        let total: Int? = if case .steps(let n) = budget { n } else { nil }
        try session.run { step in
            trainer.scheduleLearningRate(step: step, totalSteps: total)
            let batch = loader.batch(epoch: step / loader.batchesPerEpoch, position: step % loader.batchesPerEpoch)
            let losses = trainer.step(batch.images, step: step)
            try guardFinite(losses.reconstruction, step: step)
            history.append(losses)
            return ["rec": losses.reconstruction, "codebook": losses.codebook, "usage": losses.batchUsage]
        }
        try JSONEncoder().encode(history).write(to: historyURL, options: .atomic)
    }
    return TrainingRun(model: model, history: history)
}

let main = chapter.cell("Training", "The f = 4 model with k-means initialisation and dead-code restarts.") {
    let run = try trainVQ("02-vqvae-f4", config: config, codebook: CodebookOptions(), steps: 400, quickSteps: 12)
    guard !run.history.isEmpty else { return run }
    let chart = LineChart(
        title: "Training losses (f = 4)", xLabel: "step", yLabel: "loss", yScale: .log,
        series: [.init(name: "reconstruction |x − x̂|", values: run.history.map { Double($0.reconstruction) }),
                 .init(name: "codebook ‖sg[ẑ] − z_q‖²", values: run.history.map { Double($0.codebook) }),
                 .init(name: "commitment ‖ẑ − sg[z_q]‖²", values: run.history.map { Double($0.commitment) }, dashed: true)])
    try chart.write(to: chapter.figurePath("losses.svg").path)
    return run
}

//: ## Reconstructions
//:
//: Held-out landscapes (top row of each pair) and their reconstructions from 8×8 = 64 codes of
//: 9 bits each — 576 bits for a picture that takes 24,576 bits raw. Colours and layout survive;
//: fine texture is averaged away, which is the blur chapter 03 attacks.
//:
//: ![Held-out originals (odd rows) and their f = 4 reconstructions (even rows)](Figures/02-vqvae/reconstructions.png)
let evaluation = chapter.cell("Reconstructions", "PSNR, SSIM and codebook use on held-out images.") {
    let model = main.model
    let e = model.evaluate(heldOut)
    let shown = min(8, heldOut.shape[0])
    let originals = heldOut.slice(axis: 0, 0..<shown)
    let rec = model.reconstruct(originals).images
    var tiles: [Tensor] = []
    for row in 0..<2 {
        let range = (row * shown / 2)..<((row + 1) * shown / 2)
        for i in range { tiles.append(upscaled(originals.slice(axis: 0, i..<(i + 1)).reshaped([3, side, side]), by: 3)) }
        for i in range { tiles.append(upscaled(rec.slice(axis: 0, i..<(i + 1)).reshaped([3, side, side]).clamped(min: -1, max: 1), by: 3)) }
    }
    try PNGImage.write(ImageGrid(columns: max(shown / 2, 1), padding: 3).compose(tiles),
                       to: chapter.figurePath("reconstructions.png").path)
    chapter.console.line(String(format: "PSNR %.2f dB · SSIM %.3f · %.1f%% of codes used · perplexity %.0f",
                                e.psnr, e.ssim, 100 * e.codebookUsage, e.perplexity))
    chapter.record("psnr", e.psnr)
    chapter.record("ssim", e.ssim)
    chapter.record("l1", e.l1)
    chapter.record("codebook_usage", e.codebookUsage)
    chapter.record("perplexity", e.perplexity)
    chapter.record("bits_per_image", e.bitsPerImage)
    chapter.record("f", config.downsamplingFactor)
    if let report = chapter.summary.training["02-vqvae-f4"] {
        chapter.record("steps", report.steps)
        chapter.record("seconds", report.seconds)
        let batch = quick ? 8 : VQTrainingConfig().batchSize
        if report.seconds > 0 { chapter.record("images_per_second", Double(report.steps * batch) / report.seconds) }
    }
    chapter.record("n_embed", config.codebookSize)
    return e
}

//: ## Code maps
//:
//: Each picture becomes an 8×8 grid of indices; each index gets a fixed colour. Even plain sky
//: takes many different codes: with 512 codes for 4×4 patches and nothing asking codes to be
//: shared, the codebook spends its capacity on small differences of colour and shading. The
//: transformer of chapter 04 will have to learn which of these arrangements are plausible.
//:
//: ![Held-out pictures and their 8×8 code maps, one colour per code index](Figures/02-vqvae/codes.png)
chapter.cell("Code maps", "Which code sits where.") {
    let shown = min(8, heldOut.shape[0])
    let pictures = heldOut.slice(axis: 0, 0..<shown)
    let codes = main.model.reconstruct(pictures).indices
    let latent = config.latentResolution
    var tiles: [Tensor] = []
    for i in 0..<shown { tiles.append(upscaled(pictures.slice(axis: 0, i..<(i + 1)).reshaped([3, side, side]), by: 3)) }
    for i in 0..<shown {
        let map = colorize(codes: Array(codes[(i * latent * latent)..<((i + 1) * latent * latent)]), width: latent, height: latent)
        tiles.append(upscaled(map, by: 3 * side / latent))
    }
    try PNGImage.write(ImageGrid(columns: shown, padding: 3).compose(tiles), to: chapter.figurePath("codes.png").path)
}

//: ## Keeping the codebook alive
//:
//: Now the same model trained with the reference's codebook handling — codes initialised uniform
//: in ±1/K, no restarts — against ours, for the same number of steps. The chart follows the
//: fraction of the 512 codes that each training batch uses. With the reference's initialisation
//: a few codes near the origin win every vector within twenty steps and the rest never move. With
//: k-means the codes start among the data; use dips as the encoder drifts away from its first
//: outputs, and restarts bring the abandoned codes back.
//:
//: ![Codebook use per batch during training, with and without k-means initialisation and dead-code restarts](Figures/02-vqvae/usage.svg)
//: ![How often each code is chosen on the held-out set (f = 4, ours)](Figures/02-vqvae/usage-histogram.svg)
let reference = chapter.cell("Codebook health", "The reference's codebook handling, for comparison.") {
    let steps = 200
    let run = try trainVQ("02-vqvae-f4-reference-codebook", config: config, codebook: .reference, steps: steps, quickSteps: 6)
    let e = run.model.evaluate(heldOut)
    let n = min(run.history.count, main.history.count)
    let chart = LineChart(
        title: "Codebook use per batch", xLabel: "step", yLabel: "fraction of codes used in the batch",
        yRange: 0...1,
        series: [.init(name: "k-means init + restarts", values: main.history.prefix(n).map { Double($0.batchUsage) }),
                 .init(name: "reference (uniform ±1/K)", values: run.history.prefix(n).map { Double($0.batchUsage) }, dashed: true)])
    try chart.write(to: chapter.figurePath("usage.svg").path)
    try Histogram(title: "Code frequencies on held-out images", xLabel: "code index",
                  counts: evaluation.usageCounts).write(to: chapter.figurePath("usage-histogram.svg").path)
    chapter.console.line(String(format: "reference codebook: PSNR %.2f dB, %.1f%% of codes used",
                                e.psnr, 100 * e.codebookUsage))
    chapter.record("reference_codebook_psnr", e.psnr)
    chapter.record("reference_codebook_usage", e.codebookUsage)
    return e
}

//: ## f = 4 against f = 8
//:
//: Halving the latent resolution once more (f = 8: a 4×4 grid) quarters the sequence the
//: transformer must model, at a price in detail. Same codebook size, same training.
//:
//: ![Originals, f = 4 and f = 8 reconstructions (rows)](Figures/02-vqvae/f4-vs-f8.png)
//: ![Held-out PSNR and codebook use at f = 4 and f = 8](Figures/02-vqvae/f4-vs-f8.svg)
chapter.cell("f = 4 against f = 8", "The price of a shorter sequence.") {
    let config8 = autoencoderConfig(downsampling: 8)
    let run = try trainVQ("02-vqvae-f8", config: config8, codebook: CodebookOptions(), steps: 200, quickSteps: 6)
    let e8 = run.model.evaluate(heldOut)
    let shown = min(8, heldOut.shape[0])
    let originals = heldOut.slice(axis: 0, 0..<shown)
    let rows = [originals, main.model.reconstruct(originals).images, run.model.reconstruct(originals).images]
    var tiles: [Tensor] = []
    for row in rows {
        for i in 0..<shown { tiles.append(upscaled(row.slice(axis: 0, i..<(i + 1)).reshaped([3, side, side]).clamped(min: -1, max: 1), by: 3)) }
    }
    try PNGImage.write(ImageGrid(columns: shown, padding: 3).compose(tiles), to: chapter.figurePath("f4-vs-f8.png").path)
    try BarChart(title: "Held-out PSNR (dB)", subtitle: "f = 4: 64 codes per image; f = 8: 16",
                 xLabel: "model", yLabel: "PSNR (dB)",
                 bars: [.init(label: "f = 4", value: evaluation.psnr), .init(label: "f = 8", value: e8.psnr)])
        .write(to: chapter.figurePath("f4-vs-f8.svg").path)
    chapter.console.line("  f   PSNR    SSIM   codes used   bits/image")
    for (f, e) in [(4, evaluation), (8, e8)] {
        chapter.console.line(String(format: "  %d   %.2f   %.3f   %5.1f%%       %.0f", f, e.psnr, e.ssim,
                                    100 * e.codebookUsage, e.bitsPerImage))
    }
    chapter.record("f8_psnr", e8.psnr)
    chapter.record("f8_ssim", e8.ssim)
    chapter.record("f8_codebook_usage", e8.codebookUsage)
}

//: ## Summary
//:
//: - A VQ-VAE is an autoencoder whose bottleneck is a choice among K learned vectors; the image
//:   becomes a grid of (H/f)·(W/f) integers.
//: - The argmin has no gradient: the straight-through estimator copies the decoder's gradient to
//:   the encoder, the codebook term moves codes, the commitment term keeps the encoder near them.
//: - A codebook left to itself collapses; initialising it from data and restarting dead codes
//:   keeps most of it in use.
//: - Larger f means shorter sequences and blurrier reconstructions under an L1 loss. Chapter 03
//:   keeps f and sharpens the result with a discriminator and a perceptual loss.
//:
//: ## Exercises
//:
//: 1. Train with `legacy` β placement (`VectorQuantizer(legacy: true)`). How do codebook use and
//:    PSNR change, and why?
//: 2. Turn on EMA codebook updates (`CodebookOptions(ema: true)`). Is the codebook loss still
//:    needed? Compare usage curves.
//: 3. Halve and double the codebook size. Where does the PSNR stop improving? What happens to the
//:    fraction of codes used?
//: 4. Train on your own photos: `swift run -c release 02-vqvae --data ~/Pictures/png`. Which parts
//:    of your pictures does the codebook spend its codes on?
chapter.finish()
