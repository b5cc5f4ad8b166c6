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
//: model in the cache for chapters 03 and 04. Run it with `swift run -c release 02-vqvae`; its
//: options reproduce any recipe: `--recipe reference` trains the authors' settings,
//: `--resolution`, `--f`, `--ch`, `--z`, `--codes`, `--batch`, `--lr` and `--patch-shortcut false`
//: change one thing at a time, and `--data DIR --crops native --val-data DIR` trains on patches of
//: your own photos.
import ArgumentParser
import Datasets
import Diagrams
import Foundation
import Imaging
import NN
import Taming
import Tensors
import Workbook

/// How pictures from `--data` become training examples.
enum CropMode: String, ExpressibleByArgument, CaseIterable {
    /// A random crop of each picture, area-averaged down to the training size (the whole scene).
    case scaled
    /// Random crops of exactly the training size at the photo's own resolution (patches).
    case native
}

extension VQRecipe.Name: ExpressibleByArgument {}

struct Options: ParsableArguments {
    @OptionGroup var chapter: ChapterOptions
    @Option(help: "The main model's recipe: workbook (ours) or reference (the authors' settings).")
    var recipe: VQRecipe.Name = .workbook
    @Option(help: "Image side in pixels.") var resolution = 32
    @Option(name: .customLong("f"), help: "Downsampling factor f, a power of two.") var downsampling = 4
    @Option(help: "Base channel count (default: the recipe's).") var ch: Int?
    @Option(help: "Encoder output and codebook vector size (default: the recipe's).") var z: Int?
    @Option(help: "Codebook entries.") var codes = 512
    @Option(help: "Images per batch.") var batch = 16
    @Option(help: "Learning rate (default: the recipe's).") var lr: Float?
    @Option(help: "The linear patch path around encoder and decoder: true or false (default: the recipe's).")
    var patchShortcut: Bool?
    @Option(help: "How --data pictures become examples: scaled (whole scenes) or native (patches at full resolution).")
    var crops: CropMode = .scaled
    @Flag(help: "Train our recipe on recoloured pictures (hue turns, negatives); see the chapter.")
    var recolour = false

    /// Whether the run of `recipe` trains on recoloured pictures: ours only, and only when asked;
    /// the reference recipe never (it is the baseline).
    func recolours(_ recipe: VQRecipe) -> Bool { recolour && recipe.name == .workbook }

    func validate() throws {
        guard downsampling >= 2, downsampling.nonzeroBitCount == 1 else {
            throw ValidationError("--f must be a power of two, at least 2 (got \(downsampling))")
        }
        guard resolution >= 8, resolution % downsampling == 0, resolution / downsampling >= 2 else {
            throw ValidationError("--resolution \(resolution) must be at least 8, a multiple of f = \(downsampling), and leave a latent grid of at least 2×2")
        }
        if let ch, ch < 1 { throw ValidationError("--ch must be positive (got \(ch))") }
        if let z, z < 1 { throw ValidationError("--z must be positive (got \(z))") }
        guard codes >= 2 else { throw ValidationError("--codes must be at least 2 (got \(codes))") }
        guard batch >= 1 else { throw ValidationError("--batch must be positive (got \(batch))") }
        if let lr, !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be a positive number (got \(lr))") }
        if crops == .native && chapter.data == nil { throw ValidationError("--crops native needs --data DIR") }
        if crops == .native && chapter.valData == nil {
            throw ValidationError("--crops native needs --val-data DIR: crops of the training photos would not be held out")
        }
    }

    /// A recipe with this command line's changes applied.
    func recipe(_ name: VQRecipe.Name, downsampling f: Int? = nil) -> VQRecipe {
        var recipe = VQRecipe.named(name, resolution: resolution, downsampling: f ?? downsampling, codes: codes, batch: batch)
        if name == self.recipe {
            if let ch { recipe.autoencoder.channels = ch }
            if let z { recipe.autoencoder.zChannels = z; recipe.autoencoder.embedDim = z }
            if let lr { recipe.training.learningRate = lr }
            if let patchShortcut { recipe.autoencoder.patchShortcut = patchShortcut }
        }
        return recipe
    }
}

let parsed = Options.parseOrFail()
let chapter = Chapter(number: 2, title: "VQ-VAE: a codebook of visual parts", folder: "02-vqvae", options: parsed.chapter)
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
//: With `--data DIR` the examples come from your PNGs instead, in one of two ways. By default
//: (`--crops scaled`) each example is a random crop of a whole picture, area-averaged down to
//: 32×32: a thumbnail of the scene. With `--crops native` each example is a 32×32 patch cut at
//: the photo's own resolution, never resampled, so a single 640×427 photo holds some 240,000
//: different examples; the held-out set is then 256 fixed patches of the photos in `--val-data`.
//: Patches are what a convolutional autoencoder really learns from, and what the paper trains on
//: (random crops of large images).
//:
//: With `--recolour` our recipe shows every training picture in a random colour scheme
//: (`Recoloured`, a `ColourVariation`): hues turned by a random angle about the grey axis, and
//: half the time the negative; the figure then shows eight training examples above the same eight
//: as the network saw them. What that does, and why it is off by default, is told under
//: "Two recipes, the same time".
//:
//: ![Procedural landscapes, one row per scene class, each beside its segmentation map](Figures/02-vqvae/data.png)
let side = parsed.resolution
let heldOutCount = quick ? 32 : 256
let (train, heldOut) = chapter.cell("The data", "Landscapes at \(side)×\(side), or your photos with --data.") {
    () throws -> (any Dataset, Tensor) in
    let nativeCrops = parsed.crops == .native
    let (train, validation) = try ImageSource.datasets(
        data: options.data, validationData: options.valData, nativeCrops: nativeCrops, side: side,
        trainingCount: nativeCrops ? 1000 * parsed.batch : (quick ? 256 : 4000), heldOutCount: heldOutCount,
        seed: options.seed)
    if options.data == nil {
        let gallery = LandscapeGallery.figure(generator: LandscapeGenerator(seed: options.seed),
                                                  samplesPerScene: 4, width: 64, height: 64)
        try PNGImage.write(gallery, to: chapter.figurePath("data.png").path)
    } else {
        // Eight training examples; when our recipe recolours them, the same eight recoloured below.
        var showRNG = RandomGenerator(seed: options.seed)
        let examples = (0..<min(8, train.count)).map { train.example(at: $0, rng: &showRNG).image }
        var shown = examples
        if parsed.recolours(parsed.recipe(parsed.recipe)) {
            shown += examples.map { ColourVariation().apply(to: $0, rng: &showRNG) }
        }
        try PNGImage.write(ImageGrid(columns: 8, padding: 3).compose(shown.map { upscaled($0, by: max(1, 96 / side)) }),
                           to: chapter.figurePath("data.png").path)
    }
    let heldOut = ImageSource.stacked(validation, seed: options.seed)
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
let mainRecipe = parsed.recipe(parsed.recipe)
let config = mainRecipe.autoencoder
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
//: restarting codes unused for 100 steps at encoder outputs the codebook fits worst (drawn with
//: probability ∝ the squared distance to their nearest code), and (off by default) EMA updates
//: of the codes.

//: ## Training
//:
//: One step encodes a batch, quantises it, decodes it and minimises Eq. (4) of the paper, with a
//: pixel term that is |x − x̂| (L1) in the authors' code and (x − x̂)² in our recipe (see "Two
//: recipes" below for why):
//:
//: L = pixel(x, x̂) + ‖sg[ẑ] − z_q‖² + β‖ẑ − sg[z_q]‖², β = 0.25.
//:
//: β sits on the *commitment* term, as in the VQ-VAE paper. The authors' `VectorQuantizer2`
//: (with its default `legacy=True`) puts it on the codebook term instead, which makes the codebook
//: learn four times slower than intended; `VectorQuantizer(legacy: true)` reproduces that.
//: Adam (β₁ = 0.5, β₂ = 0.9) with a cosine-decayed learning rate does the rest; the step lives in
//: `Sources/Taming/VQTraining.swift`.
//:
//: The codebook and commitment terms are tiny beside the pixel term: k-means put the codes among
//: the encoder's outputs from the first step. The jump in codebook use at step 100 (the chart in
//: "Two recipes") is the first round of dead-code restarts.
//:
//: ![Training losses of the f = 4 model: pixel, codebook and commitment terms](Figures/02-vqvae/losses.svg)
struct TrainingRun {
    var model: VQModel
    var history: [VQStepLosses]
}

/// The cache name of a model: `base` for the chapter's own settings, with a fingerprint of the
/// recipe appended when the command line changed it, so different recipes never share a file.
func cacheName(_ base: String, _ recipe: VQRecipe, default standard: VQRecipe) -> String {
    let recoloured = parsed.recolours(recipe)
    guard recipe != standard || parsed.crops != .scaled || recoloured else { return base }
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let bytes = (try? encoder.encode(recipe)) ?? Data()
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
    for byte in bytes + Data(parsed.crops.rawValue.utf8) + Data((recoloured ? "recoloured" : "").utf8) {
        hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
    }
    return base + "-" + String(hash >> 40, radix: 16)
}

/// Trains (or loads from the cache) a VQ model by `recipe`; its loss history is kept beside the
/// checkpoint. The learning rate follows the recipe's cosine over the budget's steps or seconds.
func trainVQ(_ name: String, recipe: VQRecipe, budget: TrainingBudget) throws -> TrainingRun {
    var trainingConfig = recipe.training
    if quick { trainingConfig.batchSize = min(trainingConfig.batchSize, 8) }
    let data: any Dataset = parsed.recolours(recipe) ? Recoloured(train) : train
    let loader = try BatchLoader(dataset: data, batchSize: trainingConfig.batchSize, seed: options.seed)
    let historyURL = chapter.cache.url(for: name, budget: budget).appendingPathExtension("history.json")
    var history = (try? JSONDecoder().decode([VQStepLosses].self, from: Data(contentsOf: historyURL))) ?? []
    let model = try chapter.cache.loadOrTrain(name, budget: budget, make: { () -> VQModel in
        var initRNG = RandomGenerator(seed: options.seed)
        return VQModel(recipe.autoencoder, rng: &initRNG)
    }) { (model: VQModel, session) in
        let trainer = VQTrainer(model: model, config: trainingConfig, seed: options.seed &+ 1)
        try session.include(trainer.optimizer, as: "ae")
        if session.isResuming { trainer.resume() } else { history = [] }
        try session.run { step in
            trainer.scheduleLearningRate(progress: session.fractionSpent(step: step))
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

/// The main model's budget: `--steps`, `--seconds`, or 300 steps (12 with `--quick`).
let mainBudget = options.budget(steps: 300, quick: 12)

let mainName = cacheName("02-vqvae-f\(parsed.downsampling)", mainRecipe,
                         default: VQRecipe.named(.workbook, resolution: 32, downsampling: parsed.downsampling))
let main = chapter.cell("Training", "The \(mainRecipe.name) recipe at f = \(config.downsamplingFactor), for \(mainBudget).") {
    let run = try trainVQ(mainName, recipe: mainRecipe, budget: mainBudget)
    guard !run.history.isEmpty else { return run }
    let chart = LineChart(
        title: "Training losses (f = \(config.downsamplingFactor), \(mainRecipe.name) recipe)", xLabel: "step",
        yLabel: "loss", yScale: .log,
        series: [.init(name: mainRecipe.training.reconstruction == .l1 ? "pixel |x − x̂|" : "pixel (x − x̂)²",
                       values: run.history.map { Double($0.reconstruction) }),
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
    chapter.record("n_embed", config.codebookSize)
    chapter.record("recipe", mainRecipe.name.rawValue)
    chapter.record("multiply_adds_per_image", config.multiplyAddsPerImage)
    let steps = main.history.count
    chapter.record("steps", steps)
    if let report = chapter.summary.training[mainName] {
        chapter.record("seconds", report.seconds)
        let batch = quick ? min(8, mainRecipe.training.batchSize) : mainRecipe.training.batchSize
        if report.seconds > 0 { chapter.record("images_per_second", Double(report.steps * batch) / report.seconds) }
    }
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

//: ## Two recipes, the same time
//:
//: How good can a codebook get in five minutes on a laptop? The authors' recipe, scaled to 32×32
//: images — ch 64 and z 64, codes uniform in ±1/K and never restarted, L1 loss, Adam at 2·10⁻⁴
//: — spends its time on a wide network and loses almost all of its codebook in the first steps.
//: Ours (`VQRecipe.workbook`) changes six things. We measured each one on patches of real
//: photographs (`--data` holding `../shared/photos/china.png`, `--val-data` holding
//: `flower.png`, `--crops native`; PSNR on 256 held-out 32×32 patches after the same number of
//: steps, one thread) and kept it only if it helped:
//:
//: | change (cumulative)                                          | steps | held-out PSNR | codes used |
//: |--------------------------------------------------------------|------:|--------------:|-----------:|
//: | ch 32, k-means initialisation, dead-code restarts, lr 10⁻³ with a cosine decay | 250 | 16.1 dB | 80 % |
//: | … Adam's betas (0.9, 0.99) instead of (0.5, 0.9): no gain, dropped | 250 | 16.1 dB | 80 % |
//: | … 30 % of the steps as a plain autoencoder before k-means: no gain, dropped | 250 | 16.1 dB | 70 % |
//: | … GroupNorm over all channels (`normGroups` 1) instead of 32 groups | 250 | 17.0 dB | 75 % |
//: | … squared error instead of L1 (ch 32, 200 steps; L1 gives about 16.6 dB there) | 200 | 17.0 dB | 81 % |
//: | … ch 16 and lr 2·10⁻³: the same PSNR per step for a third of the time | 200 | 16.6 dB | 73 % |
//: | … the same, 400 steps                                        | 400 | 18.0 dB | 78 % |
//: | … a linear patch shortcut (`patchShortcut`), 1×1 decoding conv | 400 | 21.0 dB | 37 % |
//: | … the shortcut's decoding conv 3×3, so blocks blend with their neighbours | 400 | 23.6 dB | 40 % |
//:
//: The GroupNorm change deserves a word. The reference normalises in 32 groups; with 16 or 32
//: channels every group is a single feature map, normalised per image to zero mean and unit
//: variance — so a flat patch of sky, whatever its colour, becomes the same all-zero map, and its
//: colour must be smuggled through the residual paths. One group normalises all channels
//: together and keeps the *direction* of the feature vector, which carries the colour. On whole
//: 256² scenes, the reference's setting, a feature map's mean over the picture says little; on a
//: 32×32 patch it is most of the picture.
//:
//: The shortcut is the largest gain in the table, and it came from looking at the failures.
//: Scored on held-out patches of its *own* photo, the model before it reached 24.3 dB; on the
//: flower, 16.9: it repainted the flower in the training photo's palette, teal as brown and
//: orange as pale blue, because those saturated colours are rare in the training photo and the
//: network's nonlinear layers had only learned the colours they saw. Yet plain k-means on raw
//: 4×4 patches of the training photo — 512 centres, no network at all — reconstructs the same
//: held-out patches at 22.3 dB. So the shortcut gives the network that baseline's path: the
//: encoder adds a linear map of each 4×4 block of pixels (an f×f convolution with stride f) to
//: its output, and the decoder adds a linear map of each code back to its block of pixels (a
//: 3×3 convolution to 3·f² channels, rearranged into f×f blocks). A colour the deep layers never
//: saw still goes through linearly, and the deep path learns the rest. It costs one per cent of
//: the arithmetic, and on the landscapes it is worth about 2 dB too.
//:
//: Codes used fell, and that is partly the point: the held-out patches are now encoded as what
//: they are — a narrow range of teal and orange — rather than scattered. The same k-means
//: baseline uses only 34 % of its 512 centres on the flower. One switch raised usage and was kept
//: for it. Dead codes restart at an encoder output drawn with probability ∝ its squared
//: distance to the nearest code (k-means++'s rule) instead of uniformly, so restarts go where the
//: codebook fits worst, the rare colours: 300 s on one thread, 54 % of codes against 51 %, and
//: 0.5 dB lower (a second seed: 49 %). Restarting after 20 idle steps instead of 100, EMA updates
//: of the codes, and recolouring (below) did not raise usage at 300 s, so they stay off.
//:
//: `--recolour` shows the network every training patch in a random colour scheme (hues turned
//: about the grey axis, half the time the negative). Before the shortcut it raised the flower's
//: PSNR by 2 dB, and the reconstructions came out nearly *grey*: with colours drawn at random,
//: the cheapest way to lower the squared error in a thousand steps is to get brightness right and
//: predict the average colour, and PSNR rewards that, because brightness errors dominate it.
//: With the shortcut it still adds about 1 dB at 400 steps, but the petals turn pink and only
//: 28 % of the codes are used. PSNR alone is a poor judge of a codebook: look at the pictures.
//:
//: Below, both recipes get the same budget: the same seconds with `--seconds`; otherwise the
//: number of steps that take about the same time on this machine (the console prints both
//: times), so that reruns give the same numbers. On the landscapes the reference recipe ends at
//: 15.6 dB with 1.4 % of its codes in use, ours at 23.3 dB with 91 %.
//:
//: On the photographs, 300 seconds each on two threads: the reference recipe did 362 steps and
//: reached 16.7 dB with 1.4 % of its codes in use (PyTorch, with the same recipe, does 601 steps
//: and reaches 16.7 dB with 1.6 %); ours did 2,306 steps and reached 24.7 dB with 53 %, 2.4 dB
//: above the k-means baseline (with `--seed 1`: 2,691 steps, 24.9 dB, 51 %). The petals come back in their own orange; the teal background
//: comes back navy, a hue shift the network had too few teal patches to learn. (The command:
//: `02-vqvae --data DIR --val-data DIR --crops native --seconds 300`, DIR holding `china.png`
//: and `flower.png` respectively.)
//:
//: ![Originals (top), our recipe (middle) and the reference recipe (bottom) after the same budget](Figures/02-vqvae/recipes.png)
//: The chart follows the fraction of the 512 codes each training batch uses: our recipe, our
//: recipe with only the codebook handling put back to the reference's (codes uniform in ±1/K,
//: no restarts), and the reference recipe. Without k-means and restarts a few codes near the
//: origin win every vector within twenty steps and the rest never move — the codebook collapses
//: whatever the network around it.
//:
//: ![Codebook use per batch during training: ours, ours with the reference's codebook handling, and the reference recipe](Figures/02-vqvae/usage.svg)
//: ![How often each code is chosen on the held-out set (the main model)](Figures/02-vqvae/usage-histogram.svg)
let otherName: VQRecipe.Name = parsed.recipe == .workbook ? .reference : .workbook
let otherRecipe = parsed.recipe(otherName)

/// Seconds per training step of each recipe at 32×32, f = 4, batch 16, relative to ours, as
/// `swift run -c release bench --filter vq.train` measured them on the 2-core reference machine
/// (vq.train.step.recipe against vq.train.step.workbook). Small models are cheaper by less than
/// their arithmetic says, because norms, activations and copies do not shrink with the channels.
let stepCost: [VQRecipe.Name: Double] = [.workbook: 1, .reference: 6.4]

/// The other recipe's budget: the same seconds, or else about the same time, `steps` scaled by
/// the recipes' step costs (deterministic, so reruns give the same numbers).
func matchedBudget(_ budget: TrainingBudget, from recipe: VQRecipe, to other: VQRecipe) -> TrainingBudget {
    guard case .steps(let n) = budget else { return budget }
    let ratio = (stepCost[recipe.name] ?? 1) / (stepCost[other.name] ?? 1)
    return .steps(max(1, Int((Double(n) * ratio).rounded())))
}

chapter.cell("Two recipes, the same time", "The \(otherName) recipe for the same budget, beside the \(mainRecipe.name) one.") {
    let budget = matchedBudget(mainBudget, from: mainRecipe, to: otherRecipe)
    let name = cacheName("02-vqvae-\(otherName)-f\(parsed.downsampling)", otherRecipe,
                         default: VQRecipe.named(otherName, resolution: 32, downsampling: parsed.downsampling))
    let run = try trainVQ(name, recipe: otherRecipe, budget: budget)
    let e = run.model.evaluate(heldOut)
    // Our recipe with only the codebook handling changed back to the reference's, for a third of
    // the steps: what k-means initialisation and restarts alone are worth.
    var plainCodebook = mainRecipe
    plainCodebook.training.codebook = .reference
    let plainBudget: TrainingBudget = switch mainBudget {
    case .steps(let n): .steps(max(1, n / 3))
    case .seconds(let s): .seconds(s / 3)
    }
    let plain = try trainVQ(cacheName("02-vqvae-f\(parsed.downsampling)-reference-codebook", plainCodebook,
                                      default: { var r = VQRecipe.named(.workbook, resolution: 32, downsampling: parsed.downsampling)
                                                 r.training.codebook = .reference; return r }()),
                            recipe: plainCodebook, budget: plainBudget)
    let ePlain = plain.model.evaluate(heldOut)
    chapter.console.line(String(format: "%@ recipe with the reference's codebook handling, %d steps: PSNR %.2f dB, %.1f%% of codes used",
                                mainRecipe.name.rawValue, plain.history.count, ePlain.psnr, 100 * ePlain.codebookUsage))
    chapter.record("reference_codebook_psnr", ePlain.psnr)
    chapter.record("reference_codebook_usage", ePlain.codebookUsage)
    let runs = [(mainRecipe, main, evaluation, mainName), (otherRecipe, run, e, name)]
    let ordered = runs.sorted { $0.0.name == .workbook && $1.0.name != .workbook }  // ours first
    // Side by side: originals, then each recipe's reconstructions.
    let shown = min(8, heldOut.shape[0])
    let originals = heldOut.slice(axis: 0, 0..<shown)
    var tiles: [Tensor] = []
    for images in [originals] + ordered.map({ $0.1.model.reconstruct(originals).images }) {
        for i in 0..<shown {
            tiles.append(upscaled(images.slice(axis: 0, i..<(i + 1)).reshaped([3, side, side]).clamped(min: -1, max: 1), by: 3))
        }
    }
    try PNGImage.write(ImageGrid(columns: shown, padding: 3).compose(tiles), to: chapter.figurePath("recipes.png").path)
    let label = { (r: VQRecipe, steps: Int) in "\(r.name == .workbook ? "ours" : "reference recipe") (\(steps) steps)" }
    // Codebook use against steps: ours, ours with the reference's codebook handling, and the
    // reference recipe (whose fewer, slower steps end early on this axis).
    let steps = { (history: [VQStepLosses]) in history.indices.map { Double($0 + 1) } }
    try LineChart(
        title: "Codebook use per batch", xLabel: "training step",
        yLabel: "fraction of codes used in the batch", yRange: 0...1,
        series: [.init(name: "\(label(mainRecipe, main.history.count))", x: steps(main.history),
                       y: main.history.map { Double($0.batchUsage) }),
                 .init(name: "ours, uniform codes, no restarts",
                       x: steps(plain.history), y: plain.history.map { Double($0.batchUsage) }, dashed: true),
                 .init(name: label(otherRecipe, run.history.count), x: steps(run.history),
                       y: run.history.map { Double($0.batchUsage) }, dashed: true)])
        .write(to: chapter.figurePath("usage.svg").path)
    try Histogram(title: "Code frequencies on held-out images", xLabel: "code index",
                  counts: evaluation.usageCounts).write(to: chapter.figurePath("usage-histogram.svg").path)
    chapter.console.line("  recipe      steps   seconds   PSNR    SSIM   codes used")
    var table: [JSONValue] = []
    for (recipe, trained, ev, cacheKey) in ordered {
        let seconds = chapter.summary.training[cacheKey]?.seconds
        let name = recipe.name.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
        let time = (seconds.map { String(format: "%.0f", $0) } ?? "cached")
        chapter.console.line("  \(name)  " + String(format: "%5d", trained.history.count)
                             + String(repeating: " ", count: max(1, 10 - time.count)) + time
                             + String(format: "   %.2f   %.3f   %5.1f%%", ev.psnr, ev.ssim, 100 * ev.codebookUsage))
        table.append(.object(["recipe": .string(recipe.name.rawValue), "steps": .int(trained.history.count),
                              "seconds": seconds.map { .number($0) } ?? .null, "psnr": .number(ev.psnr),
                              "ssim": .number(ev.ssim), "codebook_usage": .number(ev.codebookUsage),
                              "multiply_adds_per_image": .number(recipe.autoencoder.multiplyAddsPerImage)]))
    }
    chapter.record("recipes", table)
    chapter.record("\(otherName)_recipe_psnr", e.psnr)
    chapter.record("\(otherName)_recipe_codebook_usage", e.codebookUsage)
}

//: ## f = 4 against f = 8
//:
//: Halving the latent resolution once more (f = 8: a 4×4 grid) quarters the sequence the
//: transformer must model, at a price in detail. Same codebook size, same training. Look at
//: the f = 8 row: its 8×8 blocks are the patch shortcut's (each block of pixels a linear map of
//: one code vector), and in half the steps the deep path has not yet learned to hide the seams.
//: The shortcut wins PSNR there too (19.8 dB against 17.2 without it), but a pixel loss does
//: not mind seams; chapter 03's discriminator does.
//:
//: ![Originals, f = 4 and f = 8 reconstructions (rows)](Figures/02-vqvae/f4-vs-f8.png)
//: ![Held-out PSNR and codebook use at f = 4 and f = 8](Figures/02-vqvae/f4-vs-f8.svg)
let coarser = 2 * config.downsamplingFactor
chapter.cell("f = \(config.downsamplingFactor) against f = \(coarser)", "The price of a shorter sequence.") {
    guard side / coarser >= 2 else {
        chapter.console.line("skipped: f = \(coarser) would leave a latent grid smaller than 2×2 at \(side)×\(side)")
        return
    }
    let recipe8 = parsed.recipe(parsed.recipe, downsampling: coarser)
    let budget8: TrainingBudget = switch mainBudget {
    case .steps(let n): .steps(max(1, n / 2))
    case .seconds(let s): .seconds(s / 2)
    }
    let run = try trainVQ(cacheName("02-vqvae-f\(coarser)", recipe8,
                                    default: VQRecipe.named(.workbook, resolution: 32, downsampling: coarser)),
                          recipe: recipe8, budget: budget8)
    let e8 = run.model.evaluate(heldOut)
    let shown = min(8, heldOut.shape[0])
    let originals = heldOut.slice(axis: 0, 0..<shown)
    let rows = [originals, main.model.reconstruct(originals).images, run.model.reconstruct(originals).images]
    var tiles: [Tensor] = []
    for row in rows {
        for i in 0..<shown { tiles.append(upscaled(row.slice(axis: 0, i..<(i + 1)).reshaped([3, side, side]).clamped(min: -1, max: 1), by: 3)) }
    }
    try PNGImage.write(ImageGrid(columns: shown, padding: 3).compose(tiles), to: chapter.figurePath("f4-vs-f8.png").path)
    let f = config.downsamplingFactor
    let latent = { (f: Int) in (side / f) * (side / f) }
    try BarChart(title: "Held-out PSNR (dB)", subtitle: "f = \(f): \(latent(f)) codes per image; f = \(coarser): \(latent(coarser))",
                 xLabel: "model", yLabel: "PSNR (dB)",
                 bars: [.init(label: "f = \(f)", value: evaluation.psnr), .init(label: "f = \(coarser)", value: e8.psnr)])
        .write(to: chapter.figurePath("f4-vs-f8.svg").path)
    chapter.console.line("  f   PSNR    SSIM   codes used   bits/image")
    for (f, e) in [(f, evaluation), (coarser, e8)] {
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
//: - What learns most per CPU-minute is not the paper's configuration: a narrower network takes
//:   more steps in the same time, small models on small patches want their normalisation to
//:   keep colour, and a linear path around the deep network carries the colours and patterns
//:   it never saw. Measure before you copy a recipe.
//: - Larger f means shorter sequences and blurrier reconstructions under a pixel loss. Chapter 03
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
//: 5. Five minutes on real photos: copy `china.png` into one folder and `flower.png` into
//:    another, then run `02-vqvae --data A --val-data B --crops native --seconds 300`, and again
//:    with `--recipe reference`. Compare `psnr` and `codebook_usage` in the two summary.json
//:    files. Run it once more with `--patch-shortcut false`: where do the flower's colours go?
//:    Then try one change of your own (`--ch`, `--z`, `--lr`) and keep it only if it helps.
chapter.finish()
