import NN
import Tensors

// Shape letters in this file: B batch, C channels, H × W a picture, K semantic classes.

/// A small fully convolutional network that labels every pixel with its semantic class: the
/// judge of segmentation-conditional samples. Asked to paint water along the bottom, did the
/// transformer? Comparing the judge's map of a sample with the requested map gives pixel
/// accuracy and mean IoU (`ConfusionMatrix`).
///
/// Stage l is two 3×3 convolutions with ReLUs, the first with stride 2 from the second stage on,
/// so stage l sees the picture at 1/2^l of its size. Each stage's features go through a 1×1
/// "probe" to K logits, upsampled to full size, and the probes are summed (an FCN's skip sum):
/// fine stages place edges, coarse stages see enough context to tell sky from water.
///
/// The picture gets one more input channel, the row coordinate (−1 on the top row, +1 on the
/// bottom): sky and water can both be blue, and in a landscape it is largely their height that
/// tells them apart (the CoordConv idea). The judge is therefore tied to one framing — the
/// landscapes' horizon-level view — which is the framing of everything it judges here.
public final class PixelSegmenter: Module {
    /// How the judge is sized; the defaults are the book's.
    public struct Config: Codable, Equatable, Sendable {
        /// Channels of each stage.
        public var widths: [Int]
        /// Number of semantic classes K (the landscapes' `SemanticClass.count`, 9).
        public var classes: Int

        public init(widths: [Int] = [16, 32, 64, 64], classes: Int = 9) {
            self.widths = widths
            self.classes = classes
        }

        /// Picture sides must be multiples of this: 2^(stages − 1).
        public var sizeMultiple: Int { 1 << max(widths.count - 1, 0) }
    }

    public let config: Config
    /// Stage l: conv3×3 → ReLU → conv3×3 → ReLU (`stages.l.0.weight`, `stages.l.2.weight`).
    public let stages: [Sequential]
    /// Per stage, a 1×1 convolution to K logits.
    public let probes: [Conv2d]

    public init(_ config: Config = Config(), rng: inout RandomGenerator) {
        precondition(!config.widths.isEmpty && config.widths.allSatisfy { $0 > 0 } && config.classes > 1,  // invariant: configs are made in code
                     "PixelSegmenter config \(config)")
        self.config = config
        var channels = 4   // RGB and the row coordinate
        stages = config.widths.enumerated().map { l, width in
            defer { channels = width }
            return Sequential(
                Conv2d(inChannels: channels, outChannels: width, kernelSize: 3, stride: l == 0 ? 1 : 2, padding: 1, rng: &rng),
                ReLU(),
                Conv2d(inChannels: width, outChannels: width, kernelSize: 3, padding: 1, rng: &rng),
                ReLU())
        }
        probes = config.widths.map { Conv2d(inChannels: $0, outChannels: config.classes, kernelSize: 1, rng: &rng) }
        super.init()
    }

    /// Per-pixel class logits [B, K, H, W] of pictures [B, 3, H, W] in [-1, 1] whose sides are
    /// multiples of `config.sizeMultiple`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let rows = Tensor.make([b, 1, h, w]) { out in  // [B, 1, H, W]: −1 at the top, +1 at the bottom
            for n in 0..<b {
                for y in 0..<h {
                    let v: Float = h > 1 ? 2 * Float(y) / Float(h - 1) - 1 : 0
                    for i in 0..<w { out[(n * h + y) * w + i] = v }
                }
            }
        }
        var features = concat([x, rows], axis: 1)                           // [B, 4, H, W]
        var logits: Tensor? = nil
        for (l, (stage, probe)) in zip(stages, probes).enumerated() {
            features = stage(features)                                      // [B, C_l, H/2^l, W/2^l]
            let scaled = l == 0 ? probe(features) : upsampleNearest(probe(features), scale: 1 << l)
            logits = logits.map { $0 + scaled } ?? scaled
        }
        return recordShapes(x, output: logits!) // invariant: at least one stage
    }

    /// Mean cross-entropy over pixels of the logits of `images` [B, 3, H, W] against their maps
    /// (labels [B·H·W], row-major per picture).
    /// - Throws: `ConditioningError` when the sizes do not fit or a label is not a class.
    public func loss(images: Tensor, labels: [UInt8]) throws -> Tensor {
        try checkBatch(images, labels: labels)
        let k = config.classes
        let perPixel = self(images).permuted([0, 2, 3, 1]).reshaped([-1, k])   // [B·H·W, K]
        return crossEntropy(logits: perPixel, targets: labels.map(Int.init))
    }

    /// The most likely class of every pixel of pictures [N, 3, H, W]: labels [N·H·W], in
    /// batches, without gradients.
    public func predict(_ images: Tensor, batchSize: Int = 64) throws -> [UInt8] {
        try checkBatch(images, labels: nil)
        return inEvaluation(images, batchSize: batchSize) { VQSegmentationModel.labels(fromLogits: self($0)) }
    }

    /// The judge's maps of pictures [N, 3, H, W] against the maps `labels` [N·H·W].
    public func evaluate(_ images: Tensor, labels: [UInt8]) throws -> ConfusionMatrix {
        try checkBatch(images, labels: labels)
        return try ConfusionMatrix(classes: config.classes, truth: labels, predicted: predict(images))
    }

    func checkBatch(_ images: Tensor, labels: [UInt8]?) throws {
        let f = config.sizeMultiple
        guard images.rank == 4, images.shape[1] == 3, images.shape[0] > 0 else {
            throw ConditioningError.shapeMismatch("the segmenter reads pictures [B, 3, H, W], not \(images.shape)")
        }
        let (b, h, w) = (images.shape[0], images.shape[2], images.shape[3])
        guard h > 0, w > 0, h % f == 0, w % f == 0 else {
            throw ConditioningError.shapeMismatch("the segmenter reads pictures whose sides are multiples of \(f), not \(h)×\(w)")
        }
        guard let labels else { return }
        guard labels.count == b * h * w else {
            throw ConditioningError.shapeMismatch("\(labels.count) labels for \(b) pictures of \(h)×\(w)")
        }
        if let bad = labels.firstIndex(where: { Int($0) >= config.classes }) {
            throw ConditioningError.labelOutOfRange(label: Int(labels[bad]), index: bad, classes: config.classes)
        }
    }
}
