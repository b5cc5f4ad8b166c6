//: # 05 · Conditioning: class tokens and segmentation maps
//:
//: **What this chapter builds.** Chapter 04's transformer writes landscapes, but we cannot ask
//: for one. Here we tell it what to paint. A *class* — day, sunset, night, snow, desert — becomes
//: one token in front of the picture's codes. A *segmentation map* — sky here, water there —
//: becomes a second VQ model's codes in front of them: a cond stage trained on maps, as the first
//: stage is trained on pictures. Then we measure how well the transformer obeys, with two judges
//: trained on the data: a classifier that names the scene of each sample, and a segmenter that
//: draws each sample's map, to be compared with the map we asked for.
//:
//: **Paper.** Esser, Rombach & Ommer, *Taming Transformers for High-Resolution Image Synthesis*
//: (CVPR 2021), §3.2, "Conditioned Synthesis":
//:
//: > *"… the user provides additional information c … the task is then to learn the likelihood of
//: > the sequence given this information c: p(s|c) = Π_i p(s_i | s_<i, c). If this conditioning
//: > information c has spatial extent, we first learn another VQGAN to obtain again an index-based
//: > representation r … we can then simply prepend r to s and restrict the computation of the
//: > negative log-likelihood to entries p(s_i | s_<i, r)."*
//:
//: In the authors' code (R: `taming/models/cond_transformer.py`) the providers are
//: `SOSProvider` (no conditioning: one start token), `Labelator` (one class token), and for maps
//: a `VQSegmentationModel` trained with binary cross-entropy and no discriminator.
//:
//: **Builds on.** Chapter 03's VQGAN as the frozen first stage (from the cache, or a stand-in
//: trained here, saying so); chapter 04's two-stage model (`TwoStageModel`, `TokenLayout`); the
//: library's cond stage (`VQSegmentationModel`, `VQSegmentationTrainer`), conditioning providers
//: (`ConditioningProvider`), and judges (`SceneClassifier`, `PixelSegmenter`,
//: `ConfusionMatrix`).
//:
//: **Writes** into `Figures/05-conditioning/`: the data's classes and maps, the cond stage's
//: reconstructions, the conditioning pipeline's diagram, class-conditional samples,
//: segmentation-conditional samples, samples of a drawn map (and the map itself as a label PNG
//: to edit), and the judges' verdicts; `summary.json` holds class accuracy, pixel accuracy and
//: mean IoU of conditional and unconditional samples.
//:
//: Run it with `swift run -c release 05-conditioning` (a few minutes on two cores once chapter
//: 03's VQGAN is in the cache; `--quick` takes seconds). `--segmentation my-map.png` paints
//: your own map: a PNG of class indices (start from `drawn-map-labels.png`).
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

struct Options: ParsableArguments {
    @OptionGroup var chapter: ChapterOptions
    @Option(help: ArgumentHelp("A segmentation map to paint: a PNG whose gray levels (or palette indices) are classes "
                               + "0…8 (sky, cloud, mountain, snow, grass, tree, water, sand, rock), 32×32 or a whole multiple.",
                               valueName: "png"))
    var segmentation: String?
    @Option(help: "Sample from the k most likely codes only (the reference's default is 100).")
    var topK = 100

    func validate() throws {
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1 (got \(topK))") }
    }
}

let parsed = Options.parseOrFail()
let chapter = Chapter(number: 5, title: "Conditioning: class tokens and segmentation maps", folder: "05-conditioning",
                      options: parsed.chapter)
let options = chapter.options
let quick = options.quick

//: The knobs of the whole chapter sit in one place. Pictures are 32 × 32, so the first stage
//: (f = 4) gives 8 × 8 = 64 codes; the cond stage has the same f, so a map is 64 tokens too.
//: The transformers are chapter 04's: 4 layers, 4 heads, width 128, AdamW at 10⁻³.
struct Settings {
    var side = 32
    var trainCount = 4000
    var heldOutCount = 250
    var condStageCodes = 64           // the cond stage's codebook: maps need few codes
    var condStageSteps = 300
    var condStageBatch = 16
    var classifierSteps = 80
    var segmenterSteps = 250
    var judgeBatch = 32
    var gptSteps = 400                // each of the three transformers
    var batchSize = 16
    var layers = 4, heads = 4, width = 128
    var learningRate: Float = 1e-3
    var samplesPerClass = 20          // class-conditional samples judged per class
    var judgedMaps = 60               // held-out maps, one segmentation-conditional sample each
    var standInSteps = 300            // the stand-in first stage, when chapter 03's is missing

    static var quick: Settings {
        var s = Settings()
        s.trainCount = 96; s.heldOutCount = 24
        s.condStageCodes = 16; s.condStageSteps = 8; s.condStageBatch = 8
        s.classifierSteps = 6; s.segmenterSteps = 6; s.judgeBatch = 16
        s.gptSteps = 8; s.batchSize = 8; s.layers = 1; s.heads = 2; s.width = 32
        s.samplesPerClass = 2; s.judgedMaps = 6; s.standInSteps = 6
        return s
    }
}
let settings = quick ? Settings.quick : Settings()
let side = settings.side
let sampler = TokenSampler(topK: parsed.topK)

// MARK: - Data

//: ## Classes and maps in the data
//:
//: Every procedural landscape comes with its scene class and a per-pixel map of nine semantic
//: classes. Each row below is one scene class (day, sunset, night, snow, desert): pictures, each
//: beside its map in the display colours (sky blue, cloud white, mountain purple, snow white,
//: grass green, tree dark green, water deep blue, sand yellow, rock brown).
//:
//: ![One row per scene class — day, sunset, night, snow, desert — four landscapes, each followed by its segmentation map.](Figures/05-conditioning/data.png)
//:
//: With `--data DIR` the pictures are yours: each `x.png` needs its map `x.seg.png` (gray
//: levels = classes 0…8), and the pictures must sit in one subfolder per class.
struct LabelledPictures {
    var images: Tensor          // [N, 3, H, W]
    var maps: [UInt8]           // [N·H·W], row-major per picture
    var classes: [Int]          // [N]
    var count: Int { classes.count }
    func map(_ i: Int) -> [UInt8] { Array(maps[(i * side * side)..<((i + 1) * side * side)]) }
}

let (trainData, heldOut, classNames, trainDataset, userMap) = chapter.cell(
    "Classes and maps in the data", "\(side)×\(side) landscapes with their scene classes and maps.") {
    () throws -> (LabelledPictures, LabelledPictures, [String], any Dataset, [UInt8]?) in
    // Your map is read first, so that a bad file stops the chapter before any training.
    let userMap = try parsed.segmentation.map {
        try SegmentationMapFile.read(path: $0, width: side, height: side, classes: SemanticClass.count)
    }
    let (train, validation, names) = try datasets()
    let trainData = labelled(train, count: max(train.count, settings.trainCount), seed: options.seed &+ 7)
    let heldOut = labelled(validation, count: validation.count, seed: options.seed)
    chapter.console.line("\(trainData.count) training and \(heldOut.count) held-out pictures in \(names.count) classes: "
                         + names.joined(separator: ", "))
    var frequencies = [Int](repeating: 0, count: SemanticClass.count)
    for label in trainData.maps where Int(label) < frequencies.count { frequencies[Int(label)] += 1 }
    let total = Double(trainData.maps.count)
    chapter.console.line("pixels per semantic class: " + SemanticClass.allCases.map {
        "\($0.name) " + String(format: "%.1f%%", 100 * Double(frequencies[Int($0.rawValue)]) / total)
    }.joined(separator: ", "))
    chapter.record("train_pictures", trainData.count)
    chapter.record("held_out_pictures", heldOut.count)
    chapter.record("class_names", JSONValue.array(names.map { .string($0) }))
    try writeDataFigure(trainData, classes: names.count)
    return (trainData, heldOut, names, train, userMap)
}

// MARK: - First stage

//: ## The frozen first stage
//:
//: The transformers read and write chapter 03's codes: its VQGAN at f = 4 with 512 codes,
//: loaded from the cache and frozen (or, if chapter 03 has not run with this seed and these
//: pictures, a stand-in trained now with chapter 02's recipe; the chapter says which). Every
//: training and held-out picture becomes 8 × 8 codes.
let firstStage = chapter.cell("The frozen first stage", "Chapter 03's VQGAN from the cache, or a stand-in.") {
    () throws -> (tokenizer: CodeTokenizer, name: String) in
    let model: VQModel, name: String
    if let cached = CachedFirstStage.find(in: chapter.cache) {
        chapter.console.line("loaded chapter 03's VQGAN (\(cached.steps) steps after its warm-up) from \(cached.file)")
        (model, name) = (cached.autoencoder, "03-vqgan-f4-\(cached.steps)")
        chapter.record("first_stage", "chapter 03 VQGAN")
    } else {
        chapter.console.line("no finished chapter 03 VQGAN in \(chapter.cache.folder.relativePath) for this run: "
                             + "training a stand-in first stage (chapter 02's recipe) now")
        model = try trainStandInFirstStage()
        name = "05-stand-in-f4-\(settings.standInSteps)"
        chapter.record("first_stage", "stand-in VQ-VAE")
    }
    let tokenizer = CodeTokenizer(autoencoder: model)
    chapter.console.line("f = \(tokenizer.downsamplingFactor), \(tokenizer.codebookSize) codes, frozen")
    return (tokenizer, name)
}
let tokenizer = firstStage.tokenizer
let grid: (height: Int, width: Int) = {
    guard let grid = tokenizer.grid(imageHeight: side, imageWidth: side) else {
        chapter.fail(WorkbookError("\(side)×\(side) pictures do not split into \(tokenizer.downsamplingFactor)-pixel codes"))
    }
    return grid
}()
let imageLength = grid.height * grid.width
let (trainCodes, heldOutCodes, heldOutReconstructions) = chapter.cell(
    "Pictures as codes", "Every picture becomes \(grid.height)×\(grid.width) codes of the frozen first stage.") {
    () -> ([[Int]], [[Int]], Tensor) in
    let progress = Workbook.Progress("tokenising", total: trainData.count + heldOut.count)
    let train = tokenizer.encode(trainData.images) { progress.update(step: $0) }
    let held = tokenizer.encode(heldOut.images) { progress.update(step: trainData.count + $0) }
    progress.finish()
    let reconstructions = tokenizer.decode(held, height: grid.height, width: grid.width).clamped(min: -1, max: 1)
    chapter.console.line(String(format: "held-out reconstructions: %.2f dB PSNR",
                                ImageMetrics.psnr(reconstructions, heldOut.images)))
    return (train, held, reconstructions)
}

// MARK: - Cond stage

//: ## The cond stage: a VQ model of maps
//:
//: A map has spatial extent, so — as the paper says — it gets a VQ model of its own. The cond
//: stage (`VQSegmentationModel`) is the first stage's architecture with nine channels in and out:
//: a map enters *one-hot*, a 9 × 32 × 32 stack with a 1 in its class's channel at every pixel, and
//: leaves as nine logits per pixel, whose argmax is the map again. Its loss is the reference's
//: `BCELossWithQuant`,
//:
//:     L = BCE(logits, one-hot) + (‖sg[ẑ] − z_q‖² + β‖ẑ − sg[z_q]‖²),
//:
//: binary cross-entropy asking nine yes/no questions per pixel, plus the codebook loss — and no
//: discriminator and no perceptual loss: a map has no texture to get right. Maps are simple, so
//: 64 codes suffice; k-means initialisation and restarts of dead codes keep them in use.
//:
//: ![Held-out maps (top), what the cond stage makes of them (middle), and their 8 × 8 codes, each code in its own colour (bottom).](Figures/05-conditioning/cond-stage.png)
//:
//: The reconstructions keep the layout — horizon, mountains, lakes, clouds — and lose the
//: smallest things: single trees and thin strips of sand are below what an 8 × 8 grid of codes
//: can say. This is what the transformer will be told: the map *as the cond stage sees it*.
let condStage = chapter.cell("The cond stage: a VQ model of maps",
                             "One-hot maps, binary cross-entropy + codebook loss, no GAN.") {
    () throws -> VQSegmentationModel in
    let stage = try trainCondStage()
    let evaluation = try stage.evaluate(heldOut.maps, batch: heldOut.count, height: side, width: side)
    let f = stage.downsamplingFactor
    chapter.console.line(String(format: "held-out maps through the cond stage: pixel accuracy %.3f, mean IoU %.3f; "
                                + "%d of %d codes in use (perplexity %.1f)", evaluation.pixelAccuracy,
                                evaluation.meanIntersectionOverUnion, Int((evaluation.codebookUsage * Double(stage.codebookSize)).rounded()),
                                stage.codebookSize, evaluation.perplexity))
    chapter.console.line("per-class IoU: " + zip(SemanticClass.allCases, evaluation.confusion.intersectionsOverUnions).map {
        "\($0.name) " + ($1.map { String(format: "%.2f", $0) } ?? "-")
    }.joined(separator: ", "))
    chapter.record("cond_stage_pixel_accuracy", evaluation.pixelAccuracy)
    chapter.record("cond_stage_miou", evaluation.meanIntersectionOverUnion)
    chapter.record("cond_stage_codebook_usage", evaluation.codebookUsage)
    chapter.record("cond_stage_tokens", (side / f) * (side / f))
    try writeCondStageFigure(stage)
    return stage
}

// MARK: - Tokens

//: ## One vocabulary for two kinds of token
//:
//: The transformer embeds every token with one table. Image codes keep their numbers 0 … 511;
//: conditioning value c becomes token 512 + c (`TokenLayout`): a class is one token in 512 … 516,
//: a map is 64 tokens in 512 … 575. So the table has 512 + C rows, and class 3 and image code 3
//: are different rows with different vectors. (The reference does not offset: its cond stage and
//: its first stage both have 1024 codes and the transformer's vocabulary is 1024, so cond code 3
//: and image code 3 share a row, and only the position says which is meant.) The head predicts
//: over all 512 + C tokens, but no target is ever a conditioning token and sampling draws below
//: 512 only.
//:
//: A training sequence is [c; s]: P conditioning tokens, then the 64 codes. The transformer reads
//: it without its last token and predicts each next one; the P − 1 predictions *of* conditioning
//: tokens are left out of the loss (`TwoStageModel.loss`) — the map is given, not the task.
//: Without conditioning, one start token plays the prefix's part (`SOSProvider`).
//:
//: ![Segmentation-conditional training and sampling: the cond stage turns a map into 64 codes, offset past the image codes and put in front of the picture's 64 codes; the loss counts the picture's codes only.](Figures/05-conditioning/diagrams/conditioning.png)
let providers = chapter.cell("One vocabulary for two kinds of token", "Offsets, prefixes and sequence lengths.") {
    () throws -> (unconditional: ConditioningProvider, classes: ConditioningProvider, maps: ConditioningProvider) in
    let providers = (unconditional: ConditioningProvider(.unconditional),
                     classes: ConditioningProvider(.sceneClass(classes: classNames.count)),
                     maps: ConditioningProvider(segmentation: condStage, height: side, width: side))
    let k = tokenizer.codebookSize
    for (name, provider) in [("no conditioning", providers.unconditional), ("a class", providers.classes),
                             ("a map", providers.maps)] {
        let layout = provider.layout(codebookSize: k, imageLength: imageLength)
        chapter.console.line("\(name): \(provider.prefixLength) prefix token\(provider.prefixLength == 1 ? "" : "s") "
                             + "in \(k)…\(layout.vocabularySize - 1), vocabulary \(layout.vocabularySize), "
                             + "\(layout.blockSize) positions")
    }
    let example = providers.classes.layout(codebookSize: k, imageLength: imageLength)
        .sequence(codes: heldOutCodes[0], conditioning: [heldOut.classes[0]])
    chapter.console.line("a \(classNames[heldOut.classes[0]]) picture as a class-conditional sequence: "
                         + example.prefix(6).map(String.init).joined(separator: " ") + " …")
    chapter.record("image_vocabulary", k)
    chapter.record("map_prefix_tokens", providers.maps.prefixLength)
    try writeConditioningDiagram(providers.maps)
    return providers
}

// MARK: - Judges

//: ## The judges
//:
//: How do we know a sample obeys? We ask two small networks trained on the data — never on
//: samples — and compare their verdicts with what we asked for.
//:
//: - The **classifier** (`SceneClassifier`): four 3 × 3 convolutions (16, 32, 64, 64 channels,
//:   stride 2 after the first), averaged over positions, one linear layer. Asked for a sunset,
//:   does it see one?
//: - The **segmenter** (`PixelSegmenter`): four stages of two convolutions, each read by a 1 × 1
//:   probe and summed at full size, plus a row-coordinate input (sky and water can both be blue;
//:   height tells them apart). Asked for a lake at the bottom, is there one?
//:
//: Agreement of maps is counted in a confusion matrix of requested against judged classes
//: (`ConfusionMatrix`): **pixel accuracy** is the fraction of pixels that agree; **mean IoU**
//: averages, over classes, the overlap of the requested and the judged regions divided by their
//: union. Mean IoU is the stricter: painting everything sky gets a third of the pixels right here,
//: but an IoU of zero for every other class.
//:
//: The judges are not perfect, so their scores on real held-out pictures are the ceiling for
//: anything they judge, and their scores on the first stage's reconstructions the ceiling for
//: any model of these codes.
struct JudgeScores {
    var classes: ConfusionMatrix
    var maps: ConfusionMatrix
}
let (classifier, segmenter, judgeCeilings) = chapter.cell("The judges", "A scene classifier and a pixel segmenter, "
                                                          + "trained on the data.") {
    () throws -> (SceneClassifier, PixelSegmenter, [String: JudgeScores]) in
    let (classifier, segmenter) = try trainJudges()
    var ceilings: [String: JudgeScores] = [:]
    for (name, pictures) in [("real held-out pictures", heldOut.images), ("first-stage reconstructions", heldOutReconstructions)] {
        let scores = JudgeScores(classes: try classifier.evaluate(pictures, classes: heldOut.classes),
                                 maps: try segmenter.evaluate(pictures, labels: heldOut.maps))
        ceilings[name] = scores
        chapter.console.line("\(name): " + String(format: "class accuracy %.3f; pixel accuracy %.3f, mean IoU %.3f",
                                                   scores.classes.accuracy, scores.maps.accuracy,
                                                   scores.maps.meanIntersectionOverUnion))
    }
    let real = ceilings["real held-out pictures"]! // invariant: set just above
    let largest = Double(real.maps.truthCounts.max() ?? 0) / Double(max(real.maps.total, 1))
    chapter.console.line(String(format: "(chance: class accuracy %.2f; painting every pixel the commonest class: pixel accuracy %.2f)",
                                1 / Double(classNames.count), largest))
    chapter.record("judge_class_accuracy_real", real.classes.accuracy)
    chapter.record("judge_pixel_accuracy_real", real.maps.accuracy)
    chapter.record("judge_miou_real", real.maps.meanIntersectionOverUnion)
    chapter.record("judge_pixel_accuracy_reconstructions", ceilings["first-stage reconstructions"]!.maps.accuracy) // invariant: set above
    chapter.record("judge_miou_reconstructions", ceilings["first-stage reconstructions"]!.maps.meanIntersectionOverUnion) // invariant: set above
    return (classifier, segmenter, ceilings)
}

// MARK: - Transformers

//: ## Three transformers
//:
//: The same transformer is trained three times, for the same number of steps, on the same
//: pictures: without conditioning (one start token), with the class token, and with the map's 64
//: codes in front. Only the prefix differs. On held-out pictures, each reports how many bits it
//: needs per code: what the condition tells it about the picture shows up as bits it no longer
//: has to spend — once it has learned to read the condition. A class token sits right before
//: the codes; the code at row r, column c must find its map code 64 positions back, at the same
//: place in the map's grid, which the learned position embeddings take a while to line up.
let gptBudget = chapter.budget(steps: settings.gptSteps, quick: settings.gptSteps)
struct Conditioned {
    var model: TwoStageModel
    var provider: ConditioningProvider
    var heldOutBits: Double
}
let (unconditional, classModel, mapModel) = chapter.cell(
    "Three transformers", "\(settings.layers) layers, width \(settings.width); no prefix, a class token, a map's codes.") {
    () throws -> (Conditioned, Conditioned, Conditioned) in
    let trainMapValues = try providers.maps.values(maps: trainData.maps, count: trainData.count, height: side, width: side,
                                                   stage: condStage)
    let heldOutMapValues = try providers.maps.values(maps: heldOut.maps, count: heldOut.count, height: side, width: side,
                                                     stage: condStage)
    let runs: [(String, ConditioningProvider, [[Int]]?, [[Int]]?)] = [
        ("unconditional", providers.unconditional, nil, nil),
        ("class", providers.classes, trainData.classes.map { [$0] }, heldOut.classes.map { [$0] }),
        ("map", providers.maps, trainMapValues, heldOutMapValues),
    ]
    var results: [Conditioned] = []
    for (kind, provider, trainValues, heldOutValues) in runs {
        let layout = provider.layout(codebookSize: tokenizer.codebookSize, imageLength: imageLength)
        var name = "05-gpt-\(kind)-\(firstStage.name)"
        if kind == "map" { name += "-cond-k\(settings.condStageCodes)-\(settings.condStageSteps)" }
        let sequences = trainCodes.indices.map { layout.sequence(codes: trainCodes[$0], conditioning: trainValues?[$0]) }
        let (model, seconds) = try trainTransformer(name, layout: layout, sequences: sequences)
        let bits = model.likelihood(sequences: model.sequences(codes: heldOutCodes, conditioning: heldOutValues)).bitsPerToken
        chapter.console.line("\(kind): " + String(format: "%.3f bits per code on held-out pictures", bits)
                             + (seconds.map { String(format: " (trained in %.0f s)", $0) } ?? ""))
        chapter.record("held_out_bits_per_code_\(kind)", bits)
        results.append(Conditioned(model: model, provider: provider, heldOutBits: bits))
    }
    return (results[0], results[1], results[2])
}

// MARK: - Unconditional samples

//: ## The floor: unconditional samples
//:
//: To know what obeying is worth, we need the scores of a model that was told nothing. The
//: unconditional transformer draws as many pictures as the conditional ones will, with the same
//: sampler (top-k = 100, temperature 1). The judges compare them with the *same* requests —
//: the classes and maps the conditional samples are asked for — which is exactly how often a
//: picture matches a request by chance.
let classRequests = (0..<(settings.samplesPerClass * classNames.count)).map { $0 % classNames.count }
let mapRequests = Array(0..<min(settings.judgedMaps, heldOut.count))
let unconditionalSamples = chapter.cell("The floor: unconditional samples", "Samples of the model told nothing.") {
    () -> Tensor in
    let count = max(classRequests.count, mapRequests.count)
    var rng = RandomGenerator(seed: options.seed &+ 50)
    let progress = Workbook.Progress("sampling", total: imageLength)
    let codes = unconditional.model.sampleCodes(count: count, sampler: sampler, rng: &rng) { progress.update(step: $0) }
    progress.finish()
    return unconditional.model.decode(codes).clamped(min: -1, max: 1)     // [count, 3, H, W]
}

// MARK: - Class-conditional samples

//: ## Class-conditional samples
//:
//: One token in front — `512 + class` — and the transformer paints that scene. Each row below
//: asks for one class; the first picture of the row is a real landscape of that class, the rest
//: are samples.
//:
//: ![One row per requested class — day, sunset, night, snow, desert: a real landscape of the class, then eight samples.](Figures/05-conditioning/class-samples.png)
//:
//: The classifier then names the scene of every sample. Accuracy per class is the fraction of
//: the samples asked to be that class that it recognises as such; for the floor, the unconditional
//: samples are paired with the same requests.
let classScores = chapter.cell("Class-conditional samples", "\(settings.samplesPerClass) samples per class, "
                               + "judged by the classifier.") {
    () throws -> (conditional: ConfusionMatrix, unconditional: ConfusionMatrix) in
    var rng = RandomGenerator(seed: options.seed &+ 60)
    let progress = Workbook.Progress("sampling", total: imageLength)
    let codes = classModel.model.sampleCodes(count: classRequests.count, conditioning: classRequests.map { [$0] },
                                             sampler: sampler, rng: &rng) { progress.update(step: $0) }
    progress.finish()
    let samples = classModel.model.decode(codes).clamped(min: -1, max: 1)
    let conditional = try classifier.evaluate(samples, classes: classRequests)
    let floor = try classifier.evaluate(unconditionalSamples.slice(axis: 0, 0..<classRequests.count), classes: classRequests)
    chapter.console.line("  requested     class-conditional   unconditional")
    for (c, name) in classNames.enumerated() {
        chapter.console.line("  " + name.padding(toLength: 14, withPad: " ", startingAt: 0)
                             + pad(conditional.classAccuracies[c].map { String(format: "%.2f", $0) } ?? "-", 19)
                             + pad(floor.classAccuracies[c].map { String(format: "%.2f", $0) } ?? "-", 16))
    }
    chapter.console.line(String(format: "  all           %19.2f %15.2f", conditional.accuracy, floor.accuracy))
    chapter.record("class_accuracy_conditional", conditional.accuracy)
    chapter.record("class_accuracy_unconditional", floor.accuracy)
    chapter.record("class_accuracy_per_class_conditional", JSONValue.object(Dictionary(uniqueKeysWithValues:
        zip(classNames, conditional.classAccuracies).map { ($0, $1.map { JSONValue.number($0) } ?? .null) })))
    try writeClassFigure(samples)
    return (conditional, floor)
}

// MARK: - Segmentation-conditional samples

//: ## Segmentation-conditional samples
//:
//: Now the map's 64 codes go in front. Each row below is one held-out map: the map, the map as
//: the cond stage passes it on, four samples, what the segmenter sees in the first sample, and
//: the real landscape the map was drawn from. The samples differ in everything the map leaves
//: open — the scene's palette, the clouds' shapes, the trees — and keep what it fixes.
//:
//: ![Each row: a held-out map, its cond-stage reconstruction, four samples painted from it, the segmenter's map of the first sample, and the real landscape.](Figures/05-conditioning/map-samples.png)
//:
//: The segmenter then draws a map of every sample, and we count how much of it agrees with the
//: map that was asked for.
let mapScores = chapter.cell("Segmentation-conditional samples", "\(mapRequests.count) held-out maps, "
                             + "one sample each, judged by the segmenter.") {
    () throws -> (conditional: ConfusionMatrix, unconditional: ConfusionMatrix) in
    let requested = mapRequests.flatMap { heldOut.map($0) }
    let values = try providers.maps.values(maps: requested, count: mapRequests.count, height: side, width: side,
                                           stage: condStage)
    var rng = RandomGenerator(seed: options.seed &+ 70)
    let progress = Workbook.Progress("sampling", total: imageLength)
    let codes = mapModel.model.sampleCodes(count: values.count, conditioning: values, sampler: sampler, rng: &rng) {
        progress.update(step: $0)
    }
    progress.finish()
    let samples = mapModel.model.decode(codes).clamped(min: -1, max: 1)
    let conditional = try segmenter.evaluate(samples, labels: requested)
    let floor = try segmenter.evaluate(unconditionalSamples.slice(axis: 0, 0..<mapRequests.count), labels: requested)
    chapter.console.line(String(format: "map-conditional samples: pixel accuracy %.3f, mean IoU %.3f",
                                conditional.accuracy, conditional.meanIntersectionOverUnion))
    chapter.console.line(String(format: "unconditional samples:   pixel accuracy %.3f, mean IoU %.3f",
                                floor.accuracy, floor.meanIntersectionOverUnion))
    chapter.console.line("per-class IoU (conditional / unconditional): " + SemanticClass.allCases.map { c -> String in
        let i = Int(c.rawValue)
        let a = conditional.intersectionsOverUnions[i].map { String(format: "%.2f", $0) } ?? "-"
        let b = floor.intersectionsOverUnions[i].map { String(format: "%.2f", $0) } ?? "-"
        return "\(c.name) \(a)/\(b)"
    }.joined(separator: ", "))
    chapter.record("pixel_accuracy_conditional", conditional.accuracy)
    chapter.record("pixel_accuracy_unconditional", floor.accuracy)
    chapter.record("miou_conditional", conditional.meanIntersectionOverUnion)
    chapter.record("miou_unconditional", floor.meanIntersectionOverUnion)
    try writeMapFigure(values: values, samples: samples)
    return (conditional, floor)
}

// MARK: - A drawn map

//: ## A map of your own
//:
//: A map need not come from a landscape. Below, a map drawn in code — a desert under a low
//: horizon, a tall mesa on the left, a wide low one on the right, a long cloud — or, with
//: `--segmentation my-map.png`, yours.
//: A map file is a PNG whose stored values are the classes: a grayscale PNG with gray levels
//: 0 … 8 (very dark: paint with exact gray values), or a palette PNG whose palette indices are
//: the classes. The chapter writes the drawn map as such a palette file, 128 × 128,
//: `drawn-map-labels.png`: open it in an editor that keeps the palette (indexed mode), paint with
//: its colours, and pass it back. (Its colours are the file's palette, not the display colours of
//: the figures; only the indices count.) A map may be 32 × 32 or a whole multiple, each k × k
//: block becoming its most common class. A value that is not a class is an error naming the
//: value and the pixel.
//:
//: ![The drawn map as a label file to edit: each pixel's palette index is its class.](Figures/05-conditioning/drawn-map-labels.png)
//:
//: ![The map (left), then eight landscapes painted from it.](Figures/05-conditioning/drawn-map.png)
chapter.cell("A map of your own", parsed.segmentation.map { "Painting \($0)." } ?? "Painting a map drawn in code.") {
    let map = userMap ?? drawnMap(side: side)
    if userMap == nil {
        // Four times the size, easier to paint over; it reads back as the same 32 × 32 map.
        let big = (0..<(16 * side * side)).map { map[(($0 / (4 * side)) / 4) * side + ($0 % (4 * side)) / 4] }
        try SegmentationMapFile.write(big, width: 4 * side, height: 4 * side,
                                      to: chapter.figurePath("drawn-map-labels.png").path)
    }
    let count = quick ? 2 : 8
    let values = try providers.maps.values(maps: map, count: 1, height: side, width: side, stage: condStage)
    var rng = RandomGenerator(seed: options.seed &+ 80)
    let codes = mapModel.model.sampleCodes(count: count, conditioning: Array(repeating: values[0], count: count),
                                           sampler: sampler, rng: &rng)
    let samples = mapModel.model.decode(codes).clamped(min: -1, max: 1)
    let agreement = try segmenter.evaluate(samples, labels: Array((0..<count).map { _ in map }.joined()))
    chapter.console.line(String(format: "the segmenter agrees with the map on %.0f%% of the pixels (mean IoU %.2f)",
                                100 * agreement.accuracy, agreement.meanIntersectionOverUnion))
    chapter.record("drawn_map_pixel_accuracy", agreement.accuracy)
    let tiles = [SemanticClass.colorize(map, width: side, height: side)] + (0..<count).map { picture(samples, $0) }
    try PNGImage.write(ImageGrid(columns: tiles.count, padding: 3).compose(tiles.map { upscaled($0, by: 3) }),
                       to: chapter.figurePath("drawn-map.png").path)
}

// MARK: - Obedience

//: ## How well is the conditioning obeyed?
//:
//: All the judges' numbers side by side. The gap between each conditional bar and its
//: unconditional floor is what the condition bought; the distance to the real pictures' bar is
//: what is still missing — part of it the first stage's loss (its reconstructions are the
//: ceiling for any model of its codes), part the transformers' short training.
//:
//: ![Class accuracy, pixel accuracy and mean IoU as the judges measure them: real held-out pictures, the first stage's reconstructions, conditional samples and unconditional samples.](Figures/05-conditioning/obedience.svg)
chapter.cell("How well is the conditioning obeyed?", "The judges' verdicts side by side.") {
    let real = judgeCeilings["real held-out pictures"]!, reconstructed = judgeCeilings["first-stage reconstructions"]! // invariant: set in the judges' cell
    let rows: [(String, Double, Double, Double)] = [
        ("real pictures", real.classes.accuracy, real.maps.accuracy, real.maps.meanIntersectionOverUnion),
        ("reconstructions", reconstructed.classes.accuracy, reconstructed.maps.accuracy,
         reconstructed.maps.meanIntersectionOverUnion),
        ("conditional samples", classScores.conditional.accuracy, mapScores.conditional.accuracy,
         mapScores.conditional.meanIntersectionOverUnion),
        ("unconditional samples", classScores.unconditional.accuracy, mapScores.unconditional.accuracy,
         mapScores.unconditional.meanIntersectionOverUnion),
    ]
    chapter.console.line("  pictures                 class accuracy   pixel accuracy   mean IoU")
    for (name, classes, pixels, iou) in rows {
        chapter.console.line("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
                             + pad(String(format: "%.3f", classes), 15) + pad(String(format: "%.3f", pixels), 17)
                             + pad(String(format: "%.3f", iou), 11))
    }
    chapter.console.line(String(format: "held-out bits per code: unconditional %.3f, class %.3f, map %.3f",
                                unconditional.heldOutBits, classModel.heldOutBits, mapModel.heldOutBits))
    var bars: [BarChart.Bar] = []
    let shortNames = ["real", "reconstructed", "conditional", "unconditional"]
    for (index, metric) in ["class", "pixels", "mIoU"].enumerated() {
        for (slot, row) in rows.enumerated() {
            let value = [row.1, row.2, row.3][index]
            bars.append(.init(label: "\(metric): \(shortNames[slot])", value: value, color: Palette.categorical.color(slot)))
        }
    }
    try BarChart(title: "How well the conditioning is obeyed", subtitle: "as the judges see it; conditional samples "
                 + "against the unconditional floor", xLabel: "", yLabel: "score", bars: bars)
        .write(to: chapter.figurePath("obedience.svg").path)
}

chapter.finish()

//: ## Summary
//:
//: - Conditioning is a prefix: p(s | c) = Π p(s_i | s_<i, c) is the same transformer reading
//:   c first. A class is one token; a map is the codes of a second VQ model, trained on one-hot
//:   maps with binary cross-entropy and its codebook loss, without a discriminator.
//: - One embedding table holds both vocabularies: image codes at 0 … K − 1, conditioning value c
//:   at K + c. The loss counts the picture's codes only; sampling draws image codes only.
//: - Judges trained on the data measure obedience against a floor of unconditional samples. The
//:   class token is obeyed almost always. The map is obeyed in its large regions — horizon, sky,
//:   ground, snow, sand — with pixel accuracy and mean IoU well above the floor, and not yet in
//:   its small ones (trees, water); what a map leaves open, such as the time of day, the samples
//:   vary.
//: - The condition is information, but the transformers only begin to use it in a short run:
//:   on held-out pictures both conditional models spend a few bits per picture fewer than the
//:   unconditional one. The map-conditional one has the most to gain and gains it slowest — it
//:   must learn to look 64 positions back — and its lead grows with training (`--steps 800`).
//:
//: ## Exercises
//:
//: 1. Draw your own map (start from `drawn-map-labels.png`) and paint it with
//:    `--segmentation`. What happens with a map no landscape has — water above the sky?
//: 2. The cond stage has 64 codes. Train it with 16 or 256 (`condStageCodes` in `Settings`):
//:    how do its reconstructions change, and the map-conditional samples' mean IoU?
//: 3. Sample the map-conditional model with top-k 10 and with top-k 512 (`--top-k`). Does
//:    obedience rise or fall with the variety of the samples?
//: 4. The class token carries log₂ 5 ≈ 2.3 bits. Compare with how many bits per *picture* the
//:    class-conditional model saves on held-out pictures (bits per code × 64). A perfect model
//:    could save at most the class's 2.3 bits; why can two short-trained models differ by more?
//: 5. Mix conditioning: train one transformer on sequences that are sometimes class-conditional
//:    and sometimes unconditional (one more conditioning value standing for "no class"). This is
//:    the idea behind classifier-free guidance.

// fold: Helpers for the data, the training and the figures
/// The (training, held-out) datasets and class names: procedural landscapes, or `--data` with
/// maps and class subfolders.
func datasets() throws -> (train: any Dataset, validation: any Dataset, names: [String]) {
    guard let folder = options.data else {
        return (try ProceduralDataset(seed: options.seed, count: settings.trainCount, width: side, height: side),
                try ProceduralDataset(seed: options.seed, count: settings.heldOutCount, width: side, height: side,
                                      split: .validation),
                SceneClass.allCases.map(\.name))
    }
    let pictures = try ImageFolderDataset(folder: folder, width: side, height: side, classesFromSubfolders: true)
    guard pictures.hasSegmentation else {
        throw WorkbookError("--data \(folder): chapter 05 needs a segmentation map x.seg.png beside every picture x.png")
    }
    guard let names = pictures.classNames, names.count >= 2 else {
        throw WorkbookError("--data \(folder): chapter 05 needs the pictures sorted into at least two class subfolders")
    }
    if let validationFolder = options.valData {
        let validation = try ImageFolderDataset(folder: validationFolder, width: side, height: side, augmentation: .none,
                                                classesFromSubfolders: true)
        guard validation.hasSegmentation, validation.classNames == names else {
            throw WorkbookError("--val-data \(validationFolder): needs maps and the same class subfolders as --data")
        }
        return (pictures, validation, names)
    }
    let (train, validation) = try pictures.split(validationFraction: 0.1, seed: options.seed)
    return (train, validation, names)
}

/// `count` examples of a dataset (cycling, each draw augmented anew where it augments), stacked.
func labelled(_ dataset: any Dataset, count: Int, seed: UInt64) -> LabelledPictures {
    var rng = RandomGenerator(seed: seed)
    var images: [Tensor] = [], maps: [UInt8] = [], classes: [Int] = []
    for i in 0..<count {
        let example = dataset.example(at: i % dataset.count, rng: &rng)
        images.append(example.image)
        maps += example.segmentation ?? []
        classes.append(example.sceneClass ?? 0)
    }
    return LabelledPictures(images: stack(images), maps: maps, classes: classes)
}

/// Picture `i` of a batch [B, 3, H, W], as [3, H, W].
func picture(_ batch: Tensor, _ i: Int) -> Tensor {
    batch.slice(axis: 0, i..<(i + 1)).reshaped(Array(batch.shape.dropFirst()))
}

/// `text` right-aligned in `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}

/// The batch of step `step` from the training dataset (a pure function of the seed and step).
func trainingBatch(_ loader: BatchLoader, step: Int) -> Batch {
    loader.batch(epoch: step / loader.batchesPerEpoch, position: step % loader.batchesPerEpoch)
}

/// The cond stage, trained on the training maps (or loaded from the cache).
func trainCondStage() throws -> VQSegmentationModel {
    let config = VQSegmentationModel.config(classes: SemanticClass.count, resolution: side, downsampling: 4,
                                            codes: settings.condStageCodes)
    let loader = try BatchLoader(dataset: trainDataset, batchSize: settings.condStageBatch, seed: options.seed &+ 3)
    let model = try chapter.cache.loadOrTrain("05-cond-stage-k\(settings.condStageCodes)",
                                              budget: .steps(settings.condStageSteps), make: { () -> VQModel in
        var rng = RandomGenerator(seed: options.seed &+ 4)
        return VQModel(config, rng: &rng)
    }) { model, session in
        let trainer = VQSegmentationTrainer(stage: VQSegmentationModel(autoencoder: model),
                                            config: VQSegmentationModel.trainingConfig(batch: settings.condStageBatch),
                                            seed: options.seed &+ 5)
        try session.include(trainer.optimizer, as: "cond")
        if session.isResuming { trainer.resume() }
        try session.run { step in
            trainer.scheduleLearningRate(progress: session.fractionSpent(step: step))
            let batch = trainingBatch(loader, step: step)
            let losses = try trainer.step(labels: batch.segmentations ?? [], batch: batch.count, height: side,
                                          width: side, step: step)
            try guardFinite(losses.crossEntropy, step: step)
            return ["bce": losses.crossEntropy, "pixels": losses.pixelAccuracy]
        }
    }
    return VQSegmentationModel(autoencoder: model)
}

/// The two judges, trained on the training pictures (or loaded from the cache).
func trainJudges() throws -> (SceneClassifier, PixelSegmenter) {
    let loader = try BatchLoader(dataset: trainDataset, batchSize: settings.judgeBatch, seed: options.seed &+ 9)
    let classifier = try chapter.cache.loadOrTrain("05-scene-classifier", budget: .steps(settings.classifierSteps),
                                                   make: { () -> SceneClassifier in
        var rng = RandomGenerator(seed: options.seed &+ 10)
        return SceneClassifier(.init(classes: classNames.count), rng: &rng)
    }) { judge, session in
        let trainer = JudgeTrainer(judge: judge)
        try session.include(trainer.optimizer, as: "judge")
        try session.run { step in
            trainer.scheduleLearningRate(step: step, totalSteps: settings.classifierSteps)
            let batch = trainingBatch(loader, step: step)
            let loss = try trainer.step { try judge.loss(images: batch.images, classes: batch.classes ?? []) }
            try guardFinite(loss, step: step)
            return ["loss": loss]
        }
    }
    let segmenter = try chapter.cache.loadOrTrain("05-pixel-segmenter", budget: .steps(settings.segmenterSteps),
                                                  make: { () -> PixelSegmenter in
        var rng = RandomGenerator(seed: options.seed &+ 11)
        return PixelSegmenter(.init(classes: SemanticClass.count), rng: &rng)
    }) { judge, session in
        let trainer = JudgeTrainer(judge: judge)
        try session.include(trainer.optimizer, as: "judge")
        try session.run { step in
            trainer.scheduleLearningRate(step: step, totalSteps: settings.segmenterSteps)
            let batch = trainingBatch(loader, step: step)
            let loss = try trainer.step { try judge.loss(images: batch.images, labels: batch.segmentations ?? []) }
            try guardFinite(loss, step: step)
            return ["loss": loss]
        }
    }
    return (classifier, segmenter)
}

/// Trains (or loads) a GPT on `sequences` under the chapter's budget: chapter 04's recipe (AdamW
/// 10⁻³, warm-up and cosine decay, gradients clipped at norm 1), the loss on image codes only.
/// Returns the model and its training seconds (nil when it was loaded).
func trainTransformer(_ name: String, layout: TokenLayout, sequences: [[Int]]) throws -> (TwoStageModel, Double?) {
    let config = TwoStageModel.transformerConfig(layout: layout, layers: settings.layers, heads: settings.heads,
                                                 embeddingDim: settings.width)
    let planned: Int = { if case .steps(let n) = gptBudget { return n } else { return settings.gptSteps } }()
    return try StageTraining.transformer(name, cache: chapter.cache, config: config, firstStage: tokenizer, layout: layout,
                                         grid: grid, budget: gptBudget, plannedSteps: planned,
                                         learningRate: settings.learningRate, seed: options.seed) { rng in
        (0..<settings.batchSize).map { _ in sequences[rng.int(below: sequences.count)] }
    }
}

/// A first stage trained here when chapter 03's is not in the cache: chapter 02's VQ-VAE recipe
/// (the workbook autoencoder at f = 4, 512 codes) on the training pictures.
func trainStandInFirstStage() throws -> VQModel {
    let recipe = VQRecipe.named(.workbook, resolution: side, downsampling: 4)
    var training = recipe.training
    if quick { training.batchSize = 8 }
    let loader = try BatchLoader(dataset: trainDataset, batchSize: training.batchSize, seed: options.seed)
    return try StageTraining.firstStage("05-stand-in-f4", cache: chapter.cache, recipe: recipe, training: training,
                                        steps: settings.standInSteps, seed: options.seed) {
        trainingBatch(loader, step: $0).images
    }
}

/// A landscape map drawn in code: a desert under a low horizon, a tall mesa on the left and a
/// wide low one on the right, a long cloud. Drawn on a 32 × 32 canvas and scaled to `side`.
func drawnMap(side: Int) -> [UInt8] {
    var map = [UInt8](repeating: 0, count: side * side)
    let s = Double(side) / 32
    for y in 0..<side {
        for x in 0..<side {
            let (u, v) = (Double(x) / s + 0.5, Double(y) / s + 0.5)      // position on the 32 × 32 canvas
            var c = SemanticClass.sky
            if v > 3 && v < 6 && u > 4 && u < 22 { c = .cloud }
            if u > 5 && u < 12 && v > 9 && v < 19 { c = .mountain }       // the tall mesa
            if u > 20 && u < 30 && v > 14 && v < 19 { c = .mountain }     // the low one
            if v >= 19 { c = .sand }
            map[y * side + x] = c.rawValue
        }
    }
    return map
}

/// The data figure: per class, four (picture, map) pairs.
func writeDataFigure(_ data: LabelledPictures, classes: Int) throws {
    var tiles: [Tensor] = []
    for c in 0..<classes {
        let members = data.classes.indices.filter { data.classes[$0] == c }.prefix(4)
        for i in members {
            tiles.append(picture(data.images, i))
            tiles.append(SemanticClass.colorize(data.map(i), width: side, height: side))
        }
        for _ in members.count..<4 { tiles += [Tensor(shape: [3, side, side], repeating: 1), Tensor(shape: [3, side, side], repeating: 1)] }
    }
    try PNGImage.write(ImageGrid(columns: 8, padding: 3).compose(tiles.map { upscaled($0, by: 3) }),
                       to: chapter.figurePath("data.png").path)
}

/// The cond stage figure: held-out maps, their reconstructions, their codes.
func writeCondStageFigure(_ stage: VQSegmentationModel) throws {
    let shown = min(8, heldOut.count)
    let maps = Array(heldOut.maps[0..<(shown * side * side)])
    let codes = try stage.codes(for: maps, batch: shown, height: side, width: side)
    let h = side / stage.downsamplingFactor
    let back = try stage.maps(for: codes, gridShape: [shown, h, h])
    var tiles: [Tensor] = []
    for i in 0..<shown { tiles.append(SemanticClass.colorize(heldOut.map(i), width: side, height: side)) }
    for i in 0..<shown {
        tiles.append(SemanticClass.colorize(Array(back[(i * side * side)..<((i + 1) * side * side)]), width: side, height: side))
    }
    for i in 0..<shown {
        tiles.append(upscaled(colorize(codes: Array(codes[(i * h * h)..<((i + 1) * h * h)]), width: h, height: h),
                              by: stage.downsamplingFactor))
    }
    try PNGImage.write(ImageGrid(columns: shown, padding: 3).compose(tiles.map { upscaled($0, by: 3) }),
                       to: chapter.figurePath("cond-stage.png").path)
}

/// The class-conditional figure: per class a real landscape, then eight samples.
func writeClassFigure(_ samples: Tensor) throws {
    let perRow = min(8, settings.samplesPerClass)
    var tiles: [Tensor] = []
    for c in 0..<classNames.count {
        let real = heldOut.classes.firstIndex(of: c).map { picture(heldOut.images, $0) }
            ?? Tensor(shape: [3, side, side], repeating: 1)
        tiles.append(real)
        let requests = classRequests.indices.filter { classRequests[$0] == c }.prefix(perRow)
        tiles += requests.map { picture(samples, $0) }
    }
    try PNGImage.write(ImageGrid(columns: perRow + 1, padding: 3).compose(tiles.map { upscaled($0, by: 3) }),
                       to: chapter.figurePath("class-samples.png").path)
}

/// The segmentation-conditional figure: per map, the map, its cond-stage version, four samples
/// (the first is the judged one), the segmenter's map of the first, the real landscape.
func writeMapFigure(values: [[Int]], samples: Tensor) throws {
    let rows = min(6, values.count), extra = quick ? 1 : 3
    let h = side / condStage.downsamplingFactor
    var rng = RandomGenerator(seed: options.seed &+ 71)
    let more = mapModel.model.decode(mapModel.model.sampleCodes(
        count: rows * extra, conditioning: (0..<rows).flatMap { Array(repeating: values[$0], count: extra) },
        sampler: sampler, rng: &rng)).clamped(min: -1, max: 1)
    let seen = try condStage.maps(for: Array(values.prefix(rows).joined()), gridShape: [rows, h, h])
    let judged = try segmenter.predict(samples.slice(axis: 0, 0..<rows))
    var tiles: [Tensor] = []
    for i in 0..<rows {
        let plane = (i * side * side)..<((i + 1) * side * side)
        tiles.append(SemanticClass.colorize(heldOut.map(mapRequests[i]), width: side, height: side))
        tiles.append(SemanticClass.colorize(Array(seen[plane]), width: side, height: side))
        tiles.append(picture(samples, i))
        for j in 0..<extra { tiles.append(picture(more, i * extra + j)) }
        tiles.append(SemanticClass.colorize(Array(judged[plane]), width: side, height: side))
        tiles.append(picture(heldOut.images, mapRequests[i]))
    }
    try PNGImage.write(ImageGrid(columns: extra + 5, padding: 3).compose(tiles.map { upscaled($0, by: 3) }),
                       to: chapter.figurePath("map-samples.png").path)
}

/// The conditioning pipeline as a diagram: training on [map codes; picture codes], and sampling.
func writeConditioningDiagram(_ provider: ConditioningProvider) throws {
    let k = tokenizer.codebookSize, p = provider.prefixLength
    let layout = provider.layout(codebookSize: k, imageLength: imageLength)
    let mapShape = "\(SemanticClass.count)×\(side)×\(side) one-hot"
    let diagram = PipelineDiagram(title: "Conditioning on a segmentation map", lanes: [
        .init(title: "the condition, then the transformer", stages: [
            .data("segmentation map", output: mapShape),
            .model("cond stage", detail: "VQ model of maps, frozen", output: "\(p) codes of \(provider.conditioningValues)"),
            .operation("offset by K", detail: "c ↦ \(k) + c", output: "\(p) tokens"),
            .operation("[prefix; codes]", detail: "minus the last token", output: "\(layout.blockSize) tokens", id: "sequence"),
            .model("GPT", detail: "one table of \(layout.vocabularySize) tokens",
                   output: "\(layout.blockSize)×\(layout.vocabularySize) logits"),
            .loss("cross-entropy", detail: "on the \(imageLength) picture codes only"),
        ]),
        .init(title: "the picture", stages: [
            .data("picture", output: "3×\(side)×\(side)"),
            .model("first stage", detail: "VQGAN, frozen", output: "\(imageLength) codes", id: "codes"),
        ]),
    ], links: [
        .init(from: "codes", to: "sequence", label: "after the prefix"),
    ])
    for ext in ["dot", "svg", "png"] { _ = try chapter.figurePath("diagrams/conditioning." + ext) }
    try diagram.write(to: chapter.figurePath("diagrams/conditioning.png").deletingLastPathComponent(), name: "conditioning")
}
// endfold
