import NN
import Tensors

// Shape letters in this file: B batch, C channels, H × W a picture, K scene classes.

/// A small CNN that names a picture's scene class: the judge of class-conditional samples. Asked
/// for a sunset, did the transformer paint one? The judge is trained on the data (not on samples),
/// so its verdict on samples measures how recognisable the requested class is.
///
/// Stage l is a 3×3 convolution and a ReLU, with stride 2 from the second stage on; the deepest
/// stage is averaged over positions and a Linear layer gives K logits:
///
///     logits = head(mean_{H,W} stage_L(… stage_1(x)))
public final class SceneClassifier: Module {
    /// How the judge is sized; the defaults are the book's.
    public struct Config: Codable, Equatable, Sendable {
        /// Channels of each stage.
        public var widths: [Int]
        /// Number of scene classes K (the landscapes' `SceneClass.count`, 5).
        public var classes: Int

        public init(widths: [Int] = [16, 32, 64, 64], classes: Int = 5) {
            self.widths = widths
            self.classes = classes
        }
    }

    public let config: Config
    /// Stage l: conv3×3 → ReLU (`stages.l.0.weight`).
    public let stages: [Sequential]
    public let head: Linear

    public init(_ config: Config = Config(), rng: inout RandomGenerator) {
        precondition(!config.widths.isEmpty && config.widths.allSatisfy { $0 > 0 } && config.classes > 1,  // invariant: configs are made in code
                     "SceneClassifier config \(config)")
        self.config = config
        var channels = 3
        stages = config.widths.enumerated().map { l, width in
            defer { channels = width }
            return Sequential(Conv2d(inChannels: channels, outChannels: width, kernelSize: 3, stride: l == 0 ? 1 : 2,
                                     padding: 1, rng: &rng),
                              ReLU())
        }
        head = Linear(inFeatures: config.widths[config.widths.count - 1], outFeatures: config.classes, rng: &rng)
        super.init()
    }

    /// Class logits [B, K] of pictures [B, 3, H, W] in [-1, 1].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for stage in stages { h = stage(h) }
        return recordShapes(x, output: head(h.mean(axes: [2, 3])))
    }

    /// Mean cross-entropy of the logits of `images` [B, 3, H, W] against their `classes` [B].
    /// - Throws: `ConditioningError` when the sizes do not fit or a class is out of range.
    public func loss(images: Tensor, classes: [Int]) throws -> Tensor {
        try checkBatch(images, classes: classes)
        return crossEntropy(logits: self(images), targets: classes)
    }

    /// The most likely class of each picture [N, 3, H, W], in batches, without gradients.
    public func predict(_ images: Tensor, batchSize: Int = 64) throws -> [Int] {
        try checkBatch(images, classes: nil)
        return inEvaluation(images, batchSize: batchSize) { self($0).argmaxLast() }
    }

    /// Predicted against true classes of pictures [N, 3, H, W].
    public func evaluate(_ images: Tensor, classes: [Int]) throws -> ConfusionMatrix {
        try checkBatch(images, classes: classes)
        return try ConfusionMatrix(classes: config.classes, truth: classes, predicted: predict(images))
    }

    func checkBatch(_ images: Tensor, classes: [Int]?) throws {
        guard images.rank == 4, images.shape[1] == 3, images.shape[0] > 0, images.shape[2] > 0, images.shape[3] > 0 else {
            throw ConditioningError.shapeMismatch("the scene classifier reads pictures [B, 3, H, W], not \(images.shape)")
        }
        guard let classes else { return }
        guard classes.count == images.shape[0] else {
            throw ConditioningError.shapeMismatch("\(classes.count) classes for \(images.shape[0]) pictures")
        }
        if let bad = classes.first(where: { $0 < 0 || $0 >= config.classes }) {
            throw ConditioningError.classOutOfRange(value: bad, classes: config.classes)
        }
    }
}

extension Module {
    /// `body` on consecutive batches of `images` [N, …] in evaluation mode without gradients,
    /// results concatenated; the training flag is restored afterwards.
    func inEvaluation<R>(_ images: Tensor, batchSize: Int, _ body: (Tensor) -> [R]) -> [R] {
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return withNoGrad {
            var out: [R] = []
            let n = images.shape[0], step = max(batchSize, 1)
            for start in stride(from: 0, to: n, by: step) {
                out += body(images.slice(axis: 0, start..<min(n, start + step)))
            }
            return out
        }
    }
}
