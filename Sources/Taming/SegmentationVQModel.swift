import NN
import Tensors

// Shape letters in this file: B batch, K label classes, H × W a map, h × w its latent grid
// (h = H/f), D the code width.

/// The cond stage of the paper's §4.1 (the reference's `VQSegmentationModel`,
/// configs/sflckr_cond_stage.yaml): a second VQ autoencoder, trained on segmentation maps instead
/// of pictures, whose code indices become the conditioning tokens a transformer reads before it
/// writes a picture's tokens.
///
/// A map of K classes goes in one-hot, [B, K, H, W] with a 1 in the channel of each pixel's
/// class and 0 elsewhere, and comes out as K logits per pixel; the argmax over K gives the map
/// back. The network is the image model's (`VQModel`: encoder, codebook, decoder) with K channels
/// in and out. Maps carry far less information than pictures (a few smooth regions), so a small
/// codebook suffices.
///
///     let stage = VQSegmentationModel(classes: 9, resolution: 32, downsampling: 4, codes: 64,
///                                     rng: &rng)
///     let codes = try stage.codes(for: labels, batch: b, height: 32, width: 32)   // [B·8·8]
///     let maps = try stage.maps(for: codes, gridShape: [b, 8, 8])              // [B·32·32]
public struct VQSegmentationModel {
    /// The autoencoder: K one-hot channels in, K logits out. Save and load this module.
    public let autoencoder: VQModel

    /// Wraps an autoencoder whose input and output channels are the map's classes.
    public init(autoencoder: VQModel) {
        precondition(autoencoder.config.inChannels == autoencoder.config.outChannels,  // invariant: configs are made in code
                     "a segmentation model reads and writes the same \(autoencoder.config.inChannels) classes")
        self.autoencoder = autoencoder
    }

    /// A fresh cond stage for `classes`-class maps of side `resolution` at downsampling factor
    /// `f`, with `codes` codebook entries (see `config(classes:resolution:downsampling:codes:)`).
    public init(classes: Int, resolution: Int, downsampling f: Int, codes: Int, rng: inout RandomGenerator) {
        self.init(autoencoder: VQModel(Self.config(classes: classes, resolution: resolution, downsampling: f,
                                                   codes: codes), rng: &rng))
    }

    /// The workbook's autoencoder recipe (`VQRecipe.named(.workbook, …)`: ch 16, one ResnetBlock
    /// per level, attention at the latent grid, one GroupNorm group) with `classes` channels in
    /// and out. The reference's cond stages (182 and 183 classes) are its image VQGAN with
    /// n_labels channels in and out in the same way.
    public static func config(classes: Int, resolution: Int, downsampling f: Int, codes: Int) -> AutoencoderConfig {
        var config = VQRecipe.named(.workbook, resolution: resolution, downsampling: f, codes: codes).autoencoder
        config.inChannels = classes
        config.outChannels = classes
        return config
    }

    /// The workbook's optimisation for the cond stage: Adam 2e-3 with betas (0.5, 0.9) decayed
    /// along a cosine to a tenth, the codebook initialised by k-means on the first batch, and dead
    /// codes restarted after 20 idle steps rather than the image recipe's 100: maps are so
    /// regular that most codes die within the first few dozen steps, and reviving them early
    /// measured better (32×32 landscapes, f = 4, 64 codes, 150 steps of 16: pixel accuracy 0.85
    /// and mean IoU 0.47 against 0.81 and 0.43). The pixel-loss setting is unused: the loss is BCE.
    public static func trainingConfig(batch: Int = 16) -> VQTrainingConfig {
        var config = VQRecipe.named(.workbook, batch: batch).training
        config.codebook.restartAfter = 20
        return config
    }

    /// Number of label classes K.
    public var classes: Int { autoencoder.config.inChannels }

    /// The factor f between a map's side and its latent grid's side.
    public var downsamplingFactor: Int { autoencoder.config.downsamplingFactor }

    /// Size of the codebook: the cond stage's token vocabulary.
    public var codebookSize: Int { autoencoder.quantize.codebookSize }

    /// Maps as one-hot channels: labels [B·H·W] (row-major per map) → [B, K, H, W].
    /// - Throws: `ConditioningError` when the label count does not fit B·H·W or a label is not
    ///   below `classes`.
    public static func oneHot(_ labels: [UInt8], batch b: Int, height h: Int, width w: Int,
                              classes k: Int) throws -> Tensor {
        guard b > 0, h > 0, w > 0, labels.count == b * h * w else {
            throw ConditioningError.shapeMismatch(
                "\(labels.count) labels do not make \(b) maps of \(h)×\(w) (expected \(max(b, 0) * max(h, 0) * max(w, 0)))")
        }
        if let bad = labels.firstIndex(where: { Int($0) >= k }) {
            throw ConditioningError.labelOutOfRange(label: Int(labels[bad]), index: bad, classes: k)
        }
        let plane = h * w
        return Tensor.make([b, k, h, w]) { out in
            out.update(repeating: 0)
            labels.withUnsafeBufferPointer { l in
                for n in 0..<b {
                    for i in 0..<plane { out[(n * k + Int(l[n * plane + i])) * plane + i] = 1 }
                }
            }
        }
    }

    /// The most likely class of every pixel: logits [B, K, H, W] → labels [B·H·W].
    public static func labels(fromLogits logits: Tensor) -> [UInt8] {
        precondition(logits.rank == 4, "logits must be [B, K, H, W], not \(logits.shape)") // invariant: a programming error
        let (b, k, h, w) = (logits.shape[0], logits.shape[1], logits.shape[2], logits.shape[3])
        let plane = h * w
        var out = [UInt8](repeating: 0, count: b * plane)
        logits.withUnsafeBufferPointer { x in
            for n in 0..<b {
                for i in 0..<plane {
                    var best = 0, bestValue = x[n * k * plane + i]
                    for c in 1..<max(k, 1) where x[(n * k + c) * plane + i] > bestValue {
                        best = c
                        bestValue = x[(n * k + c) * plane + i]
                    }
                    out[n * plane + i] = UInt8(best)
                }
            }
        }
        return out
    }

    /// The cond-stage tokens of maps: labels [B·H·W] → code indices [B·h·w], raster order per
    /// map. Runs in evaluation mode, without gradients, `chunk` maps at a time.
    /// - Throws: `ConditioningError` when the labels do not fit, a label is out of range, or a
    ///   side is not a multiple of f.
    public func codes(for labels: [UInt8], batch b: Int, height h: Int, width w: Int,
                      chunk: Int = 32) throws -> [Int] {
        try checkSides(height: h, width: w)
        _ = try Self.oneHot(labels, batch: b, height: h, width: w, classes: classes)  // validates everything
        return try inEvaluation {
            var codes: [Int] = []
            codes.reserveCapacity(b * (h / downsamplingFactor) * (w / downsamplingFactor))
            for start in stride(from: 0, to: b, by: max(chunk, 1)) {
                let n = min(b, start + max(chunk, 1)) - start
                let part = Array(labels[(start * h * w)..<((start + n) * h * w)])
                let x = try Self.oneHot(part, batch: n, height: h, width: w, classes: classes)  // [n, K, H, W]
                codes += autoencoder.encode(x).indices
            }
            return codes
        }
    }

    /// The maps that code indices [B·h·w] on a grid `gridShape` [B, h, w] decode to:
    /// labels [B·H·W], H = f·h, W = f·w.
    /// - Throws: `ConditioningError` when the codes do not fit the grid or one is not in the
    ///   codebook.
    public func maps(for codes: [Int], gridShape: [Int], chunk: Int = 32) throws -> [UInt8] {
        guard gridShape.count == 3, gridShape.allSatisfy({ $0 > 0 }), codes.count == gridShape.product else {
            throw ConditioningError.shapeMismatch("\(codes.count) codes do not fill a grid of shape \(gridShape)")
        }
        if let bad = codes.firstIndex(where: { $0 < 0 || $0 >= codebookSize }) {
            throw ConditioningError.codeOutOfRange(code: codes[bad], index: bad, codebookSize: codebookSize)
        }
        let (b, h, w) = (gridShape[0], gridShape[1], gridShape[2])
        return inEvaluation {
            var labels: [UInt8] = []
            for start in stride(from: 0, to: b, by: max(chunk, 1)) {
                let n = min(b, start + max(chunk, 1)) - start
                let part = Array(codes[(start * h * w)..<((start + n) * h * w)])
                labels += Self.labels(fromLogits: autoencoder.decode(indices: part, gridShape: [n, h, w]))
            }
            return labels
        }
    }

    /// Maps through the cond stage and back: labels [B·H·W] → codes → labels [B·H·W].
    public func reconstruct(_ labels: [UInt8], batch b: Int, height h: Int, width w: Int) throws -> [UInt8] {
        let codes = try codes(for: labels, batch: b, height: h, width: w)
        let f = downsamplingFactor
        return try maps(for: codes, gridShape: [b, h / f, w / f])
    }

    /// Map sides must be positive multiples of f.
    func checkSides(height h: Int, width w: Int) throws {
        let f = downsamplingFactor
        guard h > 0, w > 0, h % f == 0, w % f == 0 else {
            throw ConditioningError.shapeMismatch(
                "a \(h)×\(w) map does not divide into the cond stage's \(f)×\(f) cells (sides must be multiples of \(f))")
        }
    }

    /// Runs `body` in evaluation mode without gradients, then restores the training flag.
    func inEvaluation<R>(_ body: () throws -> R) rethrows -> R {
        let wasTraining = autoencoder.isTraining
        autoencoder.eval()
        defer { autoencoder.train(wasTraining) }
        return try withNoGrad { try body() }
    }
}
