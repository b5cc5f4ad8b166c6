//: # 06 · Megapixels from a small window
//:
//: **What this chapter builds.** A transformer reads a fixed number of tokens: ours, 64 codes of
//: a map and 64 codes of a picture, an 8 × 8 window of 32 × 32 pixels. Yet the paper's landscapes
//: are megapixels wide. Here we draw a 512 × 256 panorama — 8,192 codes, 128 windows' worth —
//: with a window that slides over the grid of codes, conditioned on a segmentation map as large
//: as the picture. We build the reference's sampler exactly, then a cache-aware one that is
//: several times faster, and measure what the speed costs.
//:
//: **Paper.** Esser, Rombach & Ommer, *Taming Transformers for High-Resolution Image Synthesis*
//: (CVPR 2021), §3.2, "Generating High-Resolution Images":
//:
//: > *"… we therefore have to work patch-wise and crop images to restrict the length of s to a
//: > maximally feasible size during training. To sample images, we then use the transformer in a
//: > sliding-window manner as illustrated in Fig. 3. Our VQGAN ensures that the available context
//: > is still sufficient to faithfully model images, as long as either the statistics of the
//: > dataset are approximately spatially invariant or spatial conditioning information is
//: > available."*
//:
//: In the authors' code the window is placed per code in `scripts/sample_conditional.py`; the
//: transformer is trained on crops only (the window exists at sampling time alone).
//:
//: **Builds on.** Chapter 02's VQ-VAE recipe for a first stage at this chapter's scale (compared
//: with chapter 03's VQGAN when it is in the cache); chapter 05's conditioning
//: (`ConditioningProvider`, `TokenLayout`); chapter 04's two-stage model. New in the library:
//: `SlidingWindow` (the
//: placement rule), `TwoStageModel.sampleGrid` (both samplers), `gridDistributions` (what each
//: window predicts) and `TiledCodes` (large pictures through a first stage trained on small ones).
//:
//: **Writes** into `Figures/06-megapixel/`: the stationarity figure, training crops, the window
//: rule's diagram and frames, the panorama with its map, the two samplers side by side, the seam
//: comparison, an unconditional panorama, and the cost chart; `summary.json` holds the size, the
//: tokens, the seconds per token of each sampler and the total seconds.
//:
//: Run it with `swift run -c release 06-megapixel` (a few minutes on two cores; `--quick` takes
//: seconds). `--size 1024x1024` draws a megapixel picture; `--segmentation my-map.png` paints
//: your own map (a label PNG as in chapter 05, of `--size` or a whole multiple of it).
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

/// A picture size on the command line: `512x256`.
struct PictureSize: ExpressibleByArgument, CustomStringConvertible {
    var width: Int, height: Int
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]) else { return nil }
        (width, height) = (w, h)
    }
    init(width: Int, height: Int) { (self.width, self.height) = (width, height) }
    var description: String { "\(width)x\(height)" }
    var defaultValueDescription: String { description }
}

struct Options: ParsableArguments {
    @OptionGroup var chapter: ChapterOptions
    @Option(help: ArgumentHelp("The panorama's size in pixels, WxH: multiples of 4, at least 32×32.", valueName: "WxH"))
    var size = PictureSize(width: 512, height: 256)
    @Option(help: ArgumentHelp("A segmentation map to paint instead of a procedural one: a label PNG (classes 0…8, "
                               + "as chapter 05's) of --size, or a whole multiple of it.", valueName: "png"))
    var segmentation: String?
    @Option(help: "Columns the cache-aware sampler draws per window (1 … 8; 1 places windows as the reference).")
    var stride = 4
    @Option(help: "Sample from the k most likely codes only (the reference's default is 100; ours is 10).")
    var topK = 10

    func validate() throws {
        guard size.width >= 32, size.height >= 32, size.width % 4 == 0, size.height % 4 == 0 else {
            throw ValidationError("--size must be at least 32x32 with sides that are multiples of 4 (got \(size))")
        }
        guard size.width * size.height <= 4096 * 4096 else {
            throw ValidationError("--size \(size) is more than 16 megapixels")
        }
        guard (1...8).contains(stride) else { throw ValidationError("--stride must be 1 … 8, the window's width (got \(stride))") }
        guard topK >= 1 else { throw ValidationError("--top-k must be at least 1 (got \(topK))") }
    }
}

let parsed = Options.parseOrFail()
let chapter = Chapter(number: 6, title: "Megapixels from a small window", folder: "06-megapixel", options: parsed.chapter)
let options = chapter.options
let quick = options.quick

//: The knobs. The world is drawn at **128 pixels per unit**: one standard view of a landscape is
//: 128 pixels tall, so the default 512 × 256 panorama is four views wide and two tall (more sky
//: above, more ground below). The transformer's window is 32 × 32 pixels, 8 × 8 codes at f = 4 —
//: a quarter of the view's height: it sees a patch of cloud or a stretch of shore, never the
//: whole scene. It is chapter 05's transformer (4 layers, width 128), trained here on crops at
//: this scale.
struct Settings {
    var pixelsPerUnit: Float = 128
    var sceneSide = 256                // training scenes: two views wide and tall
    var trainScenes = 96, heldOutScenes = 4
    var crop = 32                      // the window in pixels: 8 × 8 codes
    var gptSteps = 600
    var unconditionalSteps = 200
    var singleClassKept: Float = 0.1  // windows of one class only, kept with this probability
    var batchSize = 16
    var layers = 4, heads = 4, width = 128
    var learningRate: Float = 1e-3
    var firstStageSteps = 550
    var heldOutCrops = 256
    var comparison = PictureSize(width: 256, height: 128)   // the band both samplers draw
    var evaluationStrides = [1, 4, 8]

    /// The training data in a cache name: scale, scene class and number of scenes.
    var world: String { "ppu\(Int(pixelsPerUnit))-day\(trainScenes)" }

    static var quick: Settings {
        var s = Settings()
        s.pixelsPerUnit = 64; s.sceneSide = 64; s.trainScenes = 4; s.heldOutScenes = 1
        s.gptSteps = 8; s.unconditionalSteps = 4
        s.batchSize = 8; s.layers = 1; s.heads = 2; s.width = 32; s.firstStageSteps = 6; s.heldOutCrops = 16
        s.comparison = PictureSize(width: 64, height: 32); s.evaluationStrides = [1, 4]
        return s
    }
}
let settings = quick ? Settings.quick : Settings()
let size = quick ? PictureSize(width: min(parsed.size.width, 96), height: min(parsed.size.height, 64)) : parsed.size
let sampler = TokenSampler(topK: parsed.topK)
let generator = LandscapeGenerator(seed: options.seed)
let grid = (height: size.height / 4, width: size.width / 4)     // the panorama's codes

// MARK: - Stationarity

//: ## Why a window can suffice
//:
//: A window that slides can only paint what it has learned *somewhere*; it works when every
//: place looks like any other, as far as the window can tell. Our landscapes are built that way
//: along their width: the scene's recipe does not depend on the horizontal position, so any
//: 32-pixel-wide slice of a long panorama is like any other. Below, one panorama 1024 pixels wide
//: with three windows marked, and the fraction of each class in every column of windows,
//: averaged over sixteen panoramas: flat lines.
//:
//: ![A 1024 × 256 procedural panorama with three 32 × 32 windows marked in red.](Figures/06-megapixel/stationarity.png)
//:
//: ![Fraction of pixels of each class in every 32-pixel column band, averaged over sixteen panoramas: roughly flat along the width.](Figures/06-megapixel/class-by-column.svg)
//:
//: Along the *height* it is the opposite: sky at the top, ground at the bottom. A window in the
//: middle of a tall picture cannot know whether it is near the top — unless it is told. That is
//: what the segmentation map does: it carries the layout, and the window fills in the parts.
chapter.cell("Why a window can suffice", "Class fractions along the width of sixteen panoramas.") {
    let (w, h) = quick ? (256, 64) : (1024, 256)
    let band = settings.crop
    var fractions = [[Double]](repeating: [Double](repeating: 0, count: w / band), count: SemanticClass.count)
    var rows = [[Double]](repeating: [Double](repeating: 0, count: h / band), count: SemanticClass.count)
    let count = quick ? 2 : 16
    var first: LandscapeSample?
    for i in 0..<count {
        let layout = generator.layout(index: 1000 + i, width: w, height: h, pixelsPerUnit: settings.pixelsPerUnit)
        if i == 0 { first = generator.sample(index: 1000, width: w, height: h, pixelsPerUnit: settings.pixelsPerUnit) }
        for (p, label) in layout.labels.enumerated() {
            fractions[Int(label)][(p % w) / band] += 1 / Double(band * h * count)
            rows[Int(label)][(p / w) / band] += 1 / Double(band * w * count)
        }
    }
    let shown: [SemanticClass] = [.sky, .cloud, .mountain, .grass, .water]
    try LineChart(title: "Class fractions along the width", subtitle: "per 32-pixel column band, \(count) panoramas",
                  xLabel: "column band", yLabel: "fraction of pixels",
                  series: shown.map { .init(name: $0.name, values: fractions[Int($0.rawValue)]) })
        .write(to: chapter.figurePath("class-by-column.svg").path)
    let sky = rows[Int(SemanticClass.sky.rawValue)]
    chapter.console.line(String(format: "sky: %.2f of the top row band, %.2f of the bottom one; along the width it "
                                + "stays within %.2f … %.2f", sky.first ?? 0, sky.last ?? 0,
                                fractions[0].min() ?? 0, fractions[0].max() ?? 0))
    var picture = first!.image // invariant: set at i = 0
    for x in [w / 8, w / 2 - band / 2, w - w / 8 - band] {
        picture = outlined(picture, top: h / 2 - band / 2, left: x, height: band, width: band)
    }
    try PNGImage.write(picture, to: chapter.figurePath("stationarity.png").path)
}

// MARK: - Scenes

//: ## Scenes at the panorama's scale
//:
//: Everything is trained on crops, as the paper's models are: 96 scenes of 256 × 256 pixels
//: (two views wide and tall, like the panorama's height) with their maps, and from them random
//: 32 × 32 windows. Four more scenes are held out.
//:
//: All of them are daytime scenes. A map says where the sky and the lake are, not whether it is
//: noon or dusk; a window that reads only the map and the codes around it has to guess the time
//: of day, and one stray guess — a patch of sunset — is copied by every window after it. (Chapter
//: 05's class token is the cure; exercise 2 adds it.)
//:
//: ![A training scene, its map, and eight random 32 × 32 windows from it, enlarged.](Figures/06-megapixel/crops.png)
struct Scene {
    var image: Tensor       // [1, 3, S, S]
    var map: [UInt8]        // [S·S]
}
let (trainScenes, heldOutScenes, userMap) = chapter.cell("Scenes at the panorama's scale",
                                                          "\(settings.trainScenes) training scenes of \(settings.sceneSide)², "
                                                          + "\(settings.heldOutScenes) held out.") {
    () throws -> ([Scene], [Scene], [UInt8]?) in
    // Your map is read first, so that a bad file stops the chapter before any training.
    let userMap = try parsed.segmentation.map { try SegmentationMapFile.read(path: $0, width: size.width, height: size.height) }
    if options.data != nil {
        throw WorkbookError("--data: chapter 06 trains on procedural scenes at one scale; paint your own map with "
                            + "--segmentation instead")
    }
    let s = settings.sceneSide
    let make = { (index: Int) -> Scene in
        let sample = generator.sample(index: index, width: s, height: s, scene: .day, pixelsPerUnit: settings.pixelsPerUnit)
        return Scene(image: sample.image.reshaped([1, 3, s, s]), map: sample.segmentation)
    }
    let train = (0..<settings.trainScenes).map(make)
    let heldOut = (0..<settings.heldOutScenes).map { make(ProceduralDataset.validationOffset + $0) }
    var rng = RandomGenerator(seed: options.seed &+ 1)
    var crops: [Tensor] = []
    var framed = train[0].image.reshaped([3, s, s])
    for _ in 0..<8 {
        let (y, x) = (rng.int(below: s - settings.crop + 1), rng.int(below: s - settings.crop + 1))
        crops.append(upscaled(train[0].image.slice(axis: 2, y..<(y + settings.crop)).slice(axis: 3, x..<(x + settings.crop))
                                .reshaped([3, settings.crop, settings.crop]), by: s / settings.crop / 2))
        framed = outlined(framed, top: y, left: x, height: settings.crop, width: settings.crop)
    }
    let top = sideBySide([framed, SemanticClass.colorize(train[0].map, width: s, height: s)], padding: 4)
    try PNGImage.write(sideBySide([top, ImageGrid(columns: 4, padding: 4).compose(crops)], padding: 8),
                       to: chapter.figurePath("crops.png").path)
    chapter.record("train_scenes", train.count)
    chapter.record("pixels_per_unit", Double(settings.pixelsPerUnit))
    return (train, heldOut, userMap)
}

// MARK: - The two frozen stages

//: ## The two frozen stages, at this scale
//:
//: Chapter 03's VQGAN learned whole 32 × 32 views, where a patch of sky is a few pixels. Here
//: a window is a piece of a view eight times larger: wide flat areas, soft gradients, large
//: shapes. Chapter 03's VQGAN has never seen such pieces, and it shows — it turns the grass
//: brown and stripes the sky (20.3 dB PSNR on held-out scenes, against 31.1 dB for the first
//: stage trained here). A first stage must be trained
//: at the scale it will be used, as the paper's are (its S-FLCKR first stage is trained on crops
//: of the same photographs). So this chapter trains one on 32 × 32 crops of its scenes with
//: chapter 02's recipe, for 550 steps.
//:
//: Large pictures go through a first stage in tiles of 8 × 8 codes (`TiledCodes`): each tile is
//: encoded with two codes of context around it, so that its GroupNorm statistics and its
//: attention see about what they saw in training, and only the tile's own codes are kept.
//:
//: ![Held-out scenes (left), through chapter 03's VQGAN (middle) and through the first stage trained here (right), both in tiles.](Figures/06-megapixel/first-stage.png)
let tokenizer = chapter.cell("The two frozen stages, at this scale: the first stage",
                             "Chapter 02's recipe on crops of the scenes.") { () throws -> CodeTokenizer in
    let tokenizer = CodeTokenizer(autoencoder: try trainFirstStage())
    let s = settings.sceneSide
    func throughTiles(_ t: CodeTokenizer, _ image: Tensor) -> Tensor {
        t.decodeTiled(t.encodeTiled(image, tile: 8, margin: 2), height: s / 4, width: s / 4, tile: 8, overlap: 4)
            .clamped(min: -1, max: 1)
    }
    let ours = heldOutScenes.map { throughTiles(tokenizer, $0.image) }
    let psnr = zip(ours, heldOutScenes).map { ImageMetrics.psnr($0, $1.image) }.reduce(0, +) / Double(ours.count)
    chapter.console.line(String(format: "held-out scenes through the first stage trained here, in tiles: %.2f dB PSNR", psnr))
    chapter.record("first_stage_psnr", psnr)
    var columns = [heldOutScenes[0].image]
    if let cached = CachedFirstStage.find(in: chapter.cache) {
        let theirs = CodeTokenizer(autoencoder: cached.autoencoder)
        let pictures = heldOutScenes.map { throughTiles(theirs, $0.image) }
        let psnr03 = zip(pictures, heldOutScenes).map { ImageMetrics.psnr($0, $1.image) }.reduce(0, +) / Double(pictures.count)
        chapter.console.line(String(format: "the same scenes through chapter 03's VQGAN (%@): %.2f dB PSNR", cached.file, psnr03))
        chapter.record("chapter03_first_stage_psnr", psnr03)
        columns.append(pictures[0])
    } else {
        chapter.console.line("(no chapter 03 VQGAN in the cache to compare with)")
    }
    columns.append(ours[0])
    try PNGImage.write(sideBySide(columns.map { $0.reshaped([3, s, s]) }, padding: 4),
                       to: chapter.figurePath("first-stage.png").path)
    return tokenizer
}

// MARK: - Codes

//: ## A map as tokens
//:
//: Chapter 05 gave maps a cond stage of their own, a VQ model whose 64 codes the transformer
//: reads. At this scale a code covers 4 × 4 pixels of a map whose regions are tens of pixels
//: wide, so almost every cell holds one class; the cell's most common class says nearly all a
//: code could. So here the condition is the map itself, read on the code lattice: one token per
//: cell, its majority class — nine values, exact, and nothing to train. The sliding window does
//: not care how the condition's tokens were made, only that they lie on the same grid as the
//: picture's codes, so that a window can crop both alike.
//:
//: Every scene becomes 64 × 64 codes of its picture (the first stage, tile by tile) and 64 × 64
//: class tokens of its map.
struct CodedScene {
    var codes: [Int]        // the first stage's (S/4)², raster
    var condition: [Int]    // the map's majority class per code cell, on the same lattice
}
let codeSide = settings.sceneSide / 4, windowSide = settings.crop / 4
let (trainCoded, heldOutCoded) = chapter.cell("A map as tokens", "Pictures through the first stage, maps per cell.") {
    () -> ([CodedScene], [CodedScene]) in
    let s = settings.sceneSide
    let progress = Workbook.Progress("encoding", total: trainScenes.count + heldOutScenes.count)
    var done = 0
    let code = { (scene: Scene) -> CodedScene in
        defer { done += 1; progress.update(step: done) }
        return CodedScene(codes: tokenizer.encodeTiled(scene.image, tile: 8, margin: 2),
                          condition: majorityLabels(scene.map, width: s, height: s, cell: 4).map(Int.init))
    }
    let result = (trainScenes.map(code), heldOutScenes.map(code))
    progress.finish()
    let cells = result.0.flatMap(\.condition).count
    chapter.console.line("each scene: \(codeSide) × \(codeSide) codes of the picture and \(codeSide) × \(codeSide) class "
                         + "tokens of its map (\(cells) cells in all)")
    return result
}

// MARK: - The window's transformer

//: ## A transformer for one window
//:
//: A training example is one 8 × 8 window at a random place in a random scene: the 64 class
//: tokens of the map under it, offset past the picture's 512 codes (`TokenLayout`: class c is
//: token 512 + c), then the 64 codes of the picture — chapter 05's layout. The transformer never
//: sees where in the scene the window was; everything it knows about the place comes from the
//: map.
//:
//: Two concessions to a five-minute budget, both measured while writing this chapter:
//: - **Windows that teach something.** Most windows of these scenes hold one class — a square of
//:   sky, a square of grass — where the next code is simply the last one again and the map
//:   adds nothing. Such windows are kept with probability 0.1 only; the rest hold a border,
//:   where the map says what comes next.
//: - **Shared position vectors.** The code at window place j must find the map's token at the
//:   same place, 64 positions back. With one learned position vector per position, as the
//:   reference has, the transformer learns that alignment pair by pair — 64 pairs — and in our
//:   budget hardly did (the map was worth a quarter of a bit per code and the panoramas ignored
//:   it). Here map token j and code j read the same position vector (`GPTConfig.positionPeriod`
//:   = 64), so the alignment is there from the start.
//:
//: On held-out windows the transformer reports its bits per code, and again with each window
//: given another window's map: the difference is what reading the map is worth.
let provider = ConditioningProvider(.segmentation(codebookSize: SemanticClass.count, tokens: windowSide * windowSide))
let windowLayout = provider.layout(codebookSize: tokenizer.codebookSize, imageLength: windowSide * windowSide)
let unconditionalLayout = TokenLayout.unconditional(codebookSize: tokenizer.codebookSize, imageLength: windowSide * windowSide)
let sceneWindow = SlidingWindow(gridHeight: codeSide, gridWidth: codeSide, windowHeight: windowSide, windowWidth: windowSide)

/// The sequence of a random window of a random scene (conditioned on its map, or not); windows
/// of one class only are redrawn unless a draw keeps them (`singleClassKept`).
func windowSequence(_ scenes: [CodedScene], layout: TokenLayout, rng: inout RandomGenerator) -> [Int] {
    var scene: CodedScene, top: Int, left: Int
    repeat {
        scene = scenes[rng.int(below: scenes.count)]
        (top, left) = (rng.int(below: codeSide - windowSide + 1), rng.int(below: codeSide - windowSide + 1))
    } while Set(sceneWindow.crop(scene.condition, top: top, left: left)).count < 2 && rng.uniform() >= settings.singleClassKept
    let codes = sceneWindow.crop(scene.codes, top: top, left: left)
    let condition = layout.prefixLength == 1 ? nil : sceneWindow.crop(scene.condition, top: top, left: left)
    return layout.sequence(codes: codes, conditioning: condition)
}

let mapModel = chapter.cell("A transformer for one window", "\(settings.layers) layers, width \(settings.width), "
                            + "\(settings.gptSteps) steps on random windows.") { () throws -> TwoStageModel in
    let model = try trainWindowTransformer("06-gpt-window-map", layout: windowLayout, steps: settings.gptSteps)
    var rng = RandomGenerator(seed: options.seed &+ 40)
    let heldOut = (0..<settings.heldOutCrops).map { _ in windowSequence(heldOutCoded, layout: windowLayout, rng: &rng) }
    let p = windowLayout.prefixLength
    let swapped = heldOut.indices.map { i in Array(heldOut[(i + 1) % heldOut.count].prefix(p)) + Array(heldOut[i].dropFirst(p)) }
    let bits = model.likelihood(sequences: heldOut).bitsPerToken
    let swappedBits = model.likelihood(sequences: swapped).bitsPerToken
    chapter.console.line(String(format: "held-out windows: %.3f bits per code with their own maps, %.3f with another "
                                + "window's (uniform: %.0f)", bits, swappedBits, log2(Double(tokenizer.codebookSize))))
    chapter.record("held_out_bits_per_code", bits)
    chapter.record("held_out_bits_per_code_other_map", swappedBits)
    return model
}

// MARK: - The window rule

//: ## The window rule
//:
//: To draw the code at row i, column j of a large grid, the reference crops an 8 × 8 window
//: around it (`SlidingWindow`): four codes before it along each axis inside the grid, flush with
//: the border near the edges —
//:
//:     local_i = i            if i ≤ 4
//:               8 − (H − i)  if H − i < 4
//:               4            otherwise         (the same for j and W)
//:
//: — crops the map's codes under the same window, runs the transformer over the window's 127
//: tokens, and keeps the logits at the code's place in the window, (local_i, local_j). The codes
//: after it in the window are not drawn yet; the causal mask keeps them out. One code, one full
//: pass: the reference's paper draws a 1280 × 460 picture this way with 16 × 16 windows.
//:
//: ![The sliding-window sampler: for each code, the window is placed, the map's codes and the picture's codes under it become one sequence, one full pass predicts the code, which is written back into the grid.](Figures/06-megapixel/diagrams/sliding-window.png)
//:
//: The strip below shows the panorama of the next section being drawn: drawn codes as pixels,
//: the rest still the map, the window in red.
//:
//: ![Six moments of drawing the panorama: the drawn rows above, the map below, the 8 × 8 window in red around the code being drawn.](Figures/06-megapixel/frames.png)
chapter.cell("The window rule", "The reference's placement, as a diagram.") {
    try writeSamplerDiagram()
}

// MARK: - The panorama

//: ## A panorama from a map
//:
//: The map is a procedural landscape's layout at the panorama's size (or yours, with
//: `--segmentation`), read as one class token per code cell; the window slides over the grid,
//: drawing four columns per window (`--stride`) with the cache-aware sampler of the next
//: section; the first stage decodes the grid in overlapping tiles. Codes are drawn from the ten
//: most likely (`--top-k`; the reference's default is 100 of 1024 codes): our small
//: transformer's distributions are broad, and with k = 100 a stray code — a patch of another
//: scene's palette — is drawn now and then and copied by every window after it; k = 10 keeps
//: the panorama in one palette, at some cost in variety. Top: the map; middle: the
//: picture the procedural painter makes of the same map (what the data would look like); bottom:
//: the transformer's panorama.
//:
//: ![The segmentation map of a 512 × 256 panorama (top), the procedural painter's picture of it (middle), and the transformer's panorama drawn window by window (bottom).](Figures/06-megapixel/panorama.png)
//:
//: What to look for: sky where the map has sky, grass where it has grass, one daylight palette
//: over 512 pixels — though no window ever saw more than 32 × 32 of them, and nothing but the
//: map told each window where it was. The lake and the mountains are there too, bands a few
//: codes tall that had to be placed exactly, though drawn coarsely: the mountains as flat grey
//: blocks without their snow, the lake as a thin strip, its shore a ragged yellow line. The
//: clouds smear along the rows, because the code to the left is the best single guess of the
//: next one. This is a four-layer transformer after a minute and a half of training; exercise 1
//: asks what more training buys.
struct Panorama {
    var map: [UInt8]
    var condition: [Int]
    var truth: Tensor?          // the painter's picture of the map (procedural maps only)
    var codes: [Int] = []
    var picture = Tensor.zeros([1])
    var seconds = 0.0
}
var panorama = chapter.cell("A panorama from a map", "\(size.width) × \(size.height) pixels, \(grid.height * grid.width) codes.") {
    () throws -> Panorama in
    var result: Panorama
    if let map = userMap {
        result = Panorama(map: map, condition: [], truth: nil)
    } else {
        let layout = generator.layout(index: 77, width: size.width, height: size.height, scene: .day,
                                      pixelsPerUnit: settings.pixelsPerUnit)
        result = Panorama(map: layout.labels, condition: [], truth: try generator.render(layout).reshaped([1, 3, size.height, size.width]))
    }
    result.condition = majorityLabels(result.map, width: size.width, height: size.height, cell: 4).map(Int.init)
    let progress = Workbook.Progress("drawing codes", total: grid.height * grid.width)
    let start = Date()
    result.codes = mapModel.sampleGrid(height: grid.height, width: grid.width, conditioning: [.spatial(result.condition)],
                                       method: .strided(parsed.stride), sampler: sampler, seed: options.seed &+ 60) {
        progress.update(step: $0)
    }[0]
    result.seconds = Date().timeIntervalSince(start)
    progress.finish()
    result.picture = tokenizer.decodeTiled(result.codes, height: grid.height, width: grid.width, tile: 8, overlap: 4)
        .clamped(min: -1, max: 1)
    let tokens = grid.height * grid.width
    chapter.console.line(String(format: "%d codes in %.1f s: %.2f ms per code (stride %d)", tokens, result.seconds,
                                1000 * result.seconds / Double(tokens), parsed.stride))
    chapter.record("size", "\(size.width)x\(size.height)")
    chapter.record("tokens", tokens)
    chapter.record("stride", parsed.stride)
    chapter.record("seconds_per_token_cached", result.seconds / Double(tokens))
    chapter.record("sampling_seconds_cached", result.seconds)
    let rows = [SemanticClass.colorize(result.map, width: size.width, height: size.height)]
        + (result.truth.map { [$0.reshaped([3, size.height, size.width])] } ?? [])
        + [result.picture.reshaped([3, size.height, size.width])]
    try PNGImage.write(ImageGrid(columns: 1, padding: 4).compose(rows), to: chapter.figurePath("panorama.png").path)
    try writeFrames(result)
    return result
}

// MARK: - Faithful against cache-aware

//: ## The faithful sampler and a cache-aware one
//:
//: The reference recomputes the whole window for every code: for our panorama, 8,192 passes of
//: 127 tokens. Most of that work is repeated — consecutive codes of a row have almost the same
//: window — but it cannot be cached as it stands, because the window moves one column per code
//: and every token's position in the window changes with it.
//:
//: The cache-aware sampler (`SlidingWindowMethod.strided`) keeps the window still for a *run* of
//: s codes of a row. It places the window for the run's middle code, reads the window's prefix —
//: the map's 64 codes and the picture's codes before the run — once into the key-value cache,
//: and then draws the s codes one single-token step each, exactly as chapter 04 draws a picture.
//: One prefix pass per s codes instead of one full pass per code. The price: within a run the new
//: code is no longer centred in its window — the last code of a run of four sees two columns
//: fewer to its right in the rows above and two more to its left. With s = 1 it places every
//: window as the reference does and draws the very same codes.
//:
//: Both samplers draw each code from its own random stream, seeded by its position, so where
//: their distributions agree they draw the same code. Below, both draw the same 256 × 128 band
//: of the map with the same seed.
//:
//: ![Both samplers on the same 256 × 128 band of the map with the same seed: the map, the faithful sampler's picture, the cache-aware sampler's.](Figures/06-megapixel/samplers.png)
//:
//: To compare *distributions* rather than draws, we give both the same context — the codes of
//: the real picture of the band — and ask each, at every position, for its distribution over the
//: next code (`gridDistributions`). The bits per code of the real codes say how well each
//: predicts; the Kullback–Leibler divergence from the faithful distribution says how far a
//: stride moves the prediction.
//:
//: ![Bits per real code under each stride's windows against the stride; the faithful sampler is stride 1.](Figures/06-megapixel/strides.svg)
//:
//: The trade-off, as the default run measures it: at stride 4 the predictions barely move (a
//: hundredth of a bit of divergence, the same bits per code) while the sampler runs five to six
//: times faster; at stride 8, a whole window per run, the last codes of a run see only their
//: left side, and the bits per code rise by about a tenth. The two pictures still differ in
//: most codes: a draw that differs once changes the context of everything after it.
struct SamplerComparison {
    var faithfulSeconds: Double, cachedSeconds: Double, tokens: Int
}
let comparison = chapter.cell("The faithful sampler and a cache-aware one",
                              "Both on a \(settings.comparison.width) × \(settings.comparison.height) band, same seed.") {
    () throws -> SamplerComparison in
    let band = settings.comparison
    let (bw, bh) = (min(band.width, size.width), min(band.height, size.height))
    let (top, left) = ((size.height - bh) / 2, 0)
    let map = (top..<(top + bh)).flatMap { y in panorama.map[(y * size.width + left)..<(y * size.width + left + bw)] }
    let condition = majorityLabels(map, width: bw, height: bh, cell: 4).map(Int.init)
    let (h, w) = (bh / 4, bw / 4)
    var seconds: [Double] = []
    var drawn: [[Int]] = []
    for method in [SlidingWindowMethod.faithful, .strided(parsed.stride)] {
        let progress = Workbook.Progress(method == .faithful ? "faithful" : "cache-aware", total: h * w)
        let start = Date()
        drawn.append(mapModel.sampleGrid(height: h, width: w, conditioning: [.spatial(condition)], method: method,
                                         sampler: sampler, seed: options.seed &+ 61) { progress.update(step: $0) }[0])
        seconds.append(Date().timeIntervalSince(start))
        progress.finish()
    }
    let same = zip(drawn[0], drawn[1]).filter { $0 == $1 }.count
    chapter.console.line(String(format: "faithful: %.1f s (%.2f ms per code); cache-aware, stride %d: %.1f s (%.2f ms "
                                + "per code), %.1f× faster; %.0f%% of the codes are the same", seconds[0],
                                1000 * seconds[0] / Double(h * w), parsed.stride, seconds[1],
                                1000 * seconds[1] / Double(h * w), seconds[0] / seconds[1],
                                100 * Double(same) / Double(h * w)))
    chapter.record("comparison_size", "\(bw)x\(bh)")
    chapter.record("seconds_per_token_faithful", seconds[0] / Double(h * w))
    chapter.record("seconds_per_token_cached_comparison", seconds[1] / Double(h * w))
    chapter.record("speedup", seconds[0] / seconds[1])
    chapter.record("same_codes_fraction", Double(same) / Double(h * w))
    let pictures = drawn.map {
        tokenizer.decodeTiled($0, height: h, width: w, tile: 8, overlap: 4).clamped(min: -1, max: 1).reshaped([3, bh, bw])
    }
    try PNGImage.write(ImageGrid(columns: 1, padding: 4).compose([SemanticClass.colorize(map, width: bw, height: bh)] + pictures),
                       to: chapter.figurePath("samplers.png").path)

    // Teacher forcing on the real picture of the band (or, for a map of your own, on the
    // faithful sample): what each stride's windows predict from the same context.
    let truth = panorama.truth.map { $0.slice(axis: 2, top..<(top + bh)).slice(axis: 3, left..<(left + bw)) }
    let real = truth.map { tokenizer.encodeTiled($0, tile: 8, margin: 2) } ?? drawn[0]
    let faithful = mapModel.gridDistributions(codes: [real], height: h, width: w, conditioning: [.spatial(condition)],
                                              method: .faithful)
    var bitsByStride: [Double] = []
    chapter.console.line("  stride   bits per real code   KL from faithful (bits)")
    for stride in settings.evaluationStrides {
        let predicted = stride == 1 ? faithful : mapModel.gridDistributions(
            codes: [real], height: h, width: w, conditioning: [.spatial(condition)], method: .strided(stride))
        let (bits, kl) = compare(predicted, faithful, codes: real)
        bitsByStride.append(bits)
        chapter.console.line(String(format: "  %6d   %18.3f   %23.4f", stride, bits, kl))
        chapter.record("bits_per_code_stride_\(stride)", bits)
        chapter.record("kl_from_faithful_stride_\(stride)", kl)
    }
    try LineChart(title: "What a stride costs in prediction", subtitle: "bits per real code of the band, same context",
                  xLabel: "stride (codes per window)", yLabel: "bits per code",
                  series: [.init(name: "bits per code", x: settings.evaluationStrides.map(Double.init), y: bitsByStride)])
        .write(to: chapter.figurePath("strides.svg").path)
    return SamplerComparison(faithfulSeconds: seconds[0], cachedSeconds: seconds[1], tokens: h * w)
}

// MARK: - Seams

//: ## Decoding without seams
//:
//: The panorama's 8,192 codes go back to pixels through the first stage — but not in one piece:
//: its GroupNorm would normalise over the whole panorama and its attention would read 8,192
//: positions, neither what it was trained on (and at 1024 × 1024 the attention alone would need
//: 17 GB). So it decodes tiles of 8 × 8 codes. Tiles decoded side by side disagree at their
//: edges (left: a seam every 32 pixels); tiles that overlap by four codes, blended with weights
//: that ramp across the overlap (`TiledCodes`), do not (right).
//:
//: ![A corner of the panorama, enlarged: decoded in tiles side by side (left), with seams every 32 pixels, and in overlapping, blended tiles (right).](Figures/06-megapixel/seams.png)
chapter.cell("Decoding without seams", "Tiles side by side against blended tiles.") {
    let plain = tokenizer.decodeTiled(panorama.codes, height: grid.height, width: grid.width, tile: 8, overlap: 0)
        .clamped(min: -1, max: 1)
    let (hp, wp) = (size.height, size.width)
    let seams = [("side by side", plain), ("blended", panorama.picture)].map { name, picture -> Double in
        let ratio = seamRatio(picture.reshaped([3, hp, wp]), period: settings.crop)
        chapter.console.line(String(format: "%@: colour steps across tile edges are %.2f× those elsewhere", name, ratio))
        return ratio
    }
    chapter.record("seam_ratio_side_by_side", seams[0])
    chapter.record("seam_ratio_blended", seams[1])
    let (ch, cw) = (min(64, hp), min(96, wp))
    let corner = { (t: Tensor) in
        upscaled(t.reshaped([3, hp, wp]).slice(axis: 1, (hp / 2 - ch / 2)..<(hp / 2 + ch / 2)).slice(axis: 2, 0..<cw), by: 4)
    }
    try PNGImage.write(sideBySide([corner(plain), corner(panorama.picture)], padding: 8), to: chapter.figurePath("seams.png").path)
}

// MARK: - Without a map

//: ## Without a map
//:
//: The paper's condition on sliding-window sampling: it works "as long as either the statistics
//: of the dataset are approximately spatially invariant or spatial conditioning information is
//: available". Our scenes are invariant along the width but not the height. An unconditional
//: transformer, trained on the same windows with only a start token in front, paints each window
//: like *some* window of *some* scene, and each window copies its neighbours: in the default run
//: it starts in sky and never leaves it — a panorama of sky texture with no horizon and no
//: ground, locally right, globally nowhere. (The authors say as much about unconditional sliding windows: it
//: depends on the data's spatial structure.)
//:
//: ![An unconditional panorama drawn with the same sliding window: local textures without a global layout.](Figures/06-megapixel/unconditional.png)
chapter.cell("Without a map", "The same windows, no conditioning.") {
    let model = try trainWindowTransformer("06-gpt-window-unconditional", layout: unconditionalLayout,
                                           steps: settings.unconditionalSteps)
    let (h, w) = (min(grid.height, 64), min(grid.width, 128))
    let progress = Workbook.Progress("drawing codes", total: h * w)
    let codes = model.sampleGrid(height: h, width: w, conditioning: [.prefix([0])], method: .strided(parsed.stride),
                                 sampler: sampler, seed: options.seed &+ 62) { progress.update(step: $0) }[0]
    progress.finish()
    let picture = tokenizer.decodeTiled(codes, height: h, width: w, tile: 8, overlap: 4).clamped(min: -1, max: 1)
    try PNGImage.write(picture.reshaped([3, 4 * h, 4 * w]), to: chapter.figurePath("unconditional.png").path)
}

// MARK: - Cost

//: ## What it costs
//:
//: Per code, the faithful sampler pays one full pass of 127 tokens; the cache-aware one pays a
//: prefix pass per run plus one single-token step per code. The chart extrapolates both measured
//: rates to larger pictures (the cost per code does not depend on the picture's size: the window
//: does not grow).
//:
//: ![Seconds to draw a picture against its size in megapixels, for both samplers, from the rates measured above.](Figures/06-megapixel/cost.svg)
//:
//: At the reference's scale — 16 × 16 windows, 256 map codes in front, a transformer of 8 layers
//: and width 256, f = 16 — `swift run -c release bench --filter sliding` measures both samplers
//: on this machine; the issue's PyTorch figure for the faithful algorithm is 0.12–0.14 s per
//: code, 500–565 s for a 1024² picture.
chapter.cell("What it costs", "Seconds per code and per picture.") {
    let faithful = comparison.faithfulSeconds / Double(comparison.tokens)
    let cached = comparison.cachedSeconds / Double(comparison.tokens)
    let megapixels = [0.25, 0.5, 1, 2, 4]
    let codesPerMegapixel = 1_048_576.0 / 16
    try LineChart(title: "Seconds per picture", subtitle: "extrapolated from the measured seconds per code",
                  xLabel: "megapixels", yLabel: "seconds",
                  series: [.init(name: "faithful", x: megapixels, y: megapixels.map { $0 * codesPerMegapixel * faithful }),
                           .init(name: "cache-aware, stride \(parsed.stride)", x: megapixels,
                                 y: megapixels.map { $0 * codesPerMegapixel * cached })])
        .write(to: chapter.figurePath("cost.svg").path)
    chapter.console.line(String(format: "a 1024 × 1024 picture (%d codes): faithful %.0f s, cache-aware %.0f s",
                                Int(codesPerMegapixel), codesPerMegapixel * faithful, codesPerMegapixel * cached))
    chapter.record("projected_seconds_1024_faithful", codesPerMegapixel * faithful)
    chapter.record("projected_seconds_1024_cached", codesPerMegapixel * cached)
}

chapter.finish()

//: ## Exercises
//:
//: 1. Train the window transformer twice as long (`gptSteps`). Do the lake and the mountains
//:    appear? Then run `--stride 1` and `--stride 8`: where do the differences show — at class
//:    borders, in flat sky, at the picture's edges?
//: 2. Train on all five scene classes (drop `scene: .day`) and put the scene's class token in
//:    front of the map's tokens, as chapter 05 does. Does the panorama keep one time of day?
//:    What happens without the class token?
//: 3. Draw a map of your own, much wider than tall, with `--segmentation`: a lake that runs the
//:    whole width. Does the water keep one colour from left to right? What carries the colour
//:    from window to window?
//: 4. The windows are placed per run of s codes in a row. Place them per block of s × s codes
//:    instead (the codes of a block's later rows would then see placeholders to their right in
//:    the rows above — why, and how much does it cost in bits per code?).
//: 5. The cache-aware sampler still reads each run's prefix afresh. Which prefixes of two
//:    consecutive runs share tokens, and could any of the cache be kept if the position
//:    embeddings were relative?
//: 6. Train the window transformer at another scale (`pixelsPerUnit`) and sample the panorama at
//:    the old one. What happens to clouds and mountains?

// fold: Helpers for the training and the figures
/// A red outline of the rectangle at `top`, `left` of `height` × `width` on a picture [3, H, W].
func outlined(_ picture: Tensor, top: Int, left: Int, height: Int, width: Int) -> Tensor {
    let (h, w) = (picture.shape[1], picture.shape[2])
    var values = picture.scalars
    let red: [Float] = [1, -0.9, -0.9]
    for y in max(0, top - 1)..<min(h, top + height + 1) {
        for x in max(0, left - 1)..<min(w, left + width + 1) {
            let edge = y < top + 1 || y >= top + height - 1 || x < left + 1 || x >= left + width - 1
            guard edge else { continue }
            for c in 0..<3 { values[(c * h + y) * w + x] = red[c] }
        }
    }
    return Tensor(shape: [3, h, w], values)
}

/// Mean absolute colour step between neighbouring pixels across the tile edges (every `period`
/// pixels), divided by the mean step elsewhere: about 1 without seams.
func seamRatio(_ picture: Tensor, period: Int) -> Double {
    let (h, w) = (picture.shape[1], picture.shape[2])
    let p = picture.scalars
    var edge = 0.0, edgeCount = 0, other = 0.0, otherCount = 0
    for c in 0..<3 {
        for y in 0..<h {
            for x in 1..<w {
                let step = Double(abs(p[(c * h + y) * w + x] - p[(c * h + y) * w + x - 1]))
                if x % period == 0 { edge += step; edgeCount += 1 } else { other += step; otherCount += 1 }
            }
        }
        for y in 1..<h {
            for x in 0..<w {
                let step = Double(abs(p[(c * h + y) * w + x] - p[(c * h + y - 1) * w + x]))
                if y % period == 0 { edge += step; edgeCount += 1 } else { other += step; otherCount += 1 }
            }
        }
    }
    return (edge / Double(max(edgeCount, 1))) / max(other / Double(max(otherCount, 1)), 1e-12)
}

/// Bits per code of `codes` under distributions [1, N, K], and the mean KL divergence (bits) of
/// `predicted` from `reference`.
func compare(_ predicted: Tensor, _ reference: Tensor, codes: [Int]) -> (bits: Double, kl: Double) {
    let k = predicted.shape[2]
    let (p, q) = (predicted.scalars, reference.scalars)
    var bits = 0.0, kl = 0.0
    for (i, code) in codes.enumerated() {
        bits -= log2(max(Double(p[i * k + code]), 1e-30))
        for j in 0..<k where q[i * k + j] > 0 {
            kl += Double(q[i * k + j]) * log2(Double(q[i * k + j]) / max(Double(p[i * k + j]), 1e-30))
        }
    }
    return (bits / Double(codes.count), kl / Double(codes.count))
}

/// Random `crop` × `crop` pieces of `scenes`: pictures [B, 3, c, c] and maps [B·c·c].
func randomCrops(count: Int, from scenes: [Scene], rng: inout RandomGenerator) -> (images: Tensor, maps: [UInt8]) {
    let (s, c) = (settings.sceneSide, settings.crop)
    var images: [Tensor] = [], maps: [UInt8] = []
    for _ in 0..<count {
        let scene = scenes[rng.int(below: scenes.count)]
        let (y, x) = (rng.int(below: s - c + 1), rng.int(below: s - c + 1))
        images.append(scene.image.slice(axis: 2, y..<(y + c)).slice(axis: 3, x..<(x + c)).reshaped([3, c, c]))
        for row in y..<(y + c) { maps += scene.map[(row * s + x)..<(row * s + x + c)] }
    }
    return (stack(images), maps)
}

/// The first stage at this scale: chapter 02's VQ-VAE recipe on random crops of the training
/// scenes (or loaded from the cache).
func trainFirstStage() throws -> VQModel {
    let recipe = VQRecipe.named(.workbook, resolution: settings.crop, downsampling: 4)
    var training = recipe.training
    training.batchSize = settings.batchSize
    return try StageTraining.firstStage("06-first-stage-f4-" + settings.world, cache: chapter.cache, recipe: recipe,
                                        training: training, steps: settings.firstStageSteps, seed: options.seed) { step in
        var rng = RandomGenerator(seed: options.seed &+ 3000 &+ UInt64(step))
        return randomCrops(count: settings.batchSize, from: trainScenes, rng: &rng).images
    }
}

/// Trains (or loads) a window transformer on random windows: chapter 05's recipe (AdamW 10⁻³,
/// warm-up and cosine decay, gradients clipped at norm 1, the loss on image codes only).
func trainWindowTransformer(_ name: String, layout: TokenLayout, steps: Int) throws -> TwoStageModel {
    var config = TwoStageModel.transformerConfig(layout: layout, layers: settings.layers, heads: settings.heads,
                                                 embeddingDim: settings.width)
    if layout.prefixLength > 1 { config.positionPeriod = layout.prefixLength }    // map token j and code j share a position
    return try StageTraining.transformer(name + "-" + settings.world, cache: chapter.cache, config: config,
                                         firstStage: tokenizer, layout: layout, grid: (windowSide, windowSide),
                                         budget: .steps(steps), plannedSteps: steps, learningRate: settings.learningRate,
                                         seed: options.seed) { rng in
        (0..<settings.batchSize).map { _ in windowSequence(trainCoded, layout: layout, rng: &rng) }
    }.model
}

/// Six frames of drawing the panorama: drawn codes as pixels, the rest as the map, the window in red.
func writeFrames(_ result: Panorama) throws {
    let (h, w) = (size.height, size.width)
    let window = SlidingWindow(gridHeight: grid.height, gridWidth: grid.width, windowHeight: windowSide, windowWidth: windowSide)
    let map = SemanticClass.colorize(result.map, width: w, height: h).scalars
    let picture = result.picture.scalars
    var frames: [Tensor] = []
    let total = grid.height * grid.width
    for k in 1...6 {
        let position = min(total - 1, total * k / 7)
        let (row, column) = (position / grid.width, position % grid.width)
        var values = map.map { 0.35 * $0 + 0.65 }          // the map, faded
        for y in 0..<h {
            for x in 0..<w where (y / 4) * grid.width + x / 4 < position {
                for c in 0..<3 { values[(c * h + y) * w + x] = picture[(c * h + y) * w + x] }
            }
        }
        let place = window.placement(row: row, column: column)
        let frame = outlined(Tensor(shape: [3, h, w], values), top: place.top * 4, left: place.left * 4, height: settings.crop,
                             width: settings.crop)
        frames.append(outlined(frame, top: row * 4, left: column * 4, height: 4, width: 4))
    }
    let shown = w > 512 ? frames.map { downscaled($0, to: 512) } : frames
    try PNGImage.write(ImageGrid(columns: 2, padding: 4).compose(shown), to: chapter.figurePath("frames.png").path)
}

/// A picture [3, H, W] shrunk by an integer factor so that its width is at most `width` (box filter).
func downscaled(_ picture: Tensor, to width: Int) -> Tensor {
    let (h, w) = (picture.shape[1], picture.shape[2])
    let k = (w + width - 1) / width
    let (oh, ow) = (h / k, w / k)
    let p = picture.scalars
    var out = [Float](repeating: 0, count: 3 * oh * ow)
    for c in 0..<3 {
        for y in 0..<oh {
            for x in 0..<ow {
                var sum: Float = 0
                for dy in 0..<k { for dx in 0..<k { sum += p[(c * h + y * k + dy) * w + x * k + dx] } }
                out[(c * oh + y) * ow + x] = sum / Float(k * k)
            }
        }
    }
    return Tensor(shape: [3, oh, ow], out)
}

/// The sampler's diagram: one code's trip through the window.
func writeSamplerDiagram() throws {
    let n = windowSide * windowSide
    let diagram = PipelineDiagram(title: "Sliding-window sampling, one code at (i, j)", lanes: [
        .init(title: "the condition", stages: [
            .data("large map", output: "\(size.width)×\(size.height) labels"),
            .operation("class per cell", detail: "4×4 pixels → majority", output: "\(grid.height)×\(grid.width) tokens"),
            .operation("crop window", detail: "8×8 around (i, j)", output: "\(n) class tokens", id: "condcrop"),
        ]),
        .init(title: "the picture so far", stages: [
            .data("code grid", output: "\(grid.height)×\(grid.width), drawn up to (i, j)", id: "grid"),
            .operation("crop window", detail: "the same 8×8", output: "\(n) codes", id: "codecrop"),
            .operation("[map; codes]", detail: "minus the last token", output: "\(windowLayout.blockSize) tokens", id: "sequence"),
            .model("GPT", detail: "one full pass", output: "logits at (local i, local j)"),
            .operation("top-k, draw", detail: "k = \(parsed.topK)", output: "code (i, j)", id: "draw"),
        ]),
    ], links: [
        .init(from: "condcrop", to: "sequence", label: "prefix"),
        .init(from: "draw", to: "grid", label: "written back"),
    ])
    for ext in ["dot", "svg", "png"] { _ = try chapter.figurePath("diagrams/sliding-window." + ext) }
    try diagram.write(to: chapter.figurePath("diagrams/sliding-window.png").deletingLastPathComponent(), name: "sliding-window")
}
// endfold
