import Foundation
import NN
import Tensors

/// One batch of labelled landscapes for training the feature network. (Taming knows nothing of
/// datasets: a chapter fills this from a `Datasets.Batch`'s images, segmentations and classes.)
public struct FeatureNetworkBatch {
    /// Pictures [B, 3, H, W] in [-1, 1].
    public var images: Tensor
    /// The class of every pixel, [B, H, W] row-major.
    public var segmentation: [UInt8]
    /// The scene class of every picture, [B].
    public var scenes: [Int]

    public init(images: Tensor, segmentation: [UInt8], scenes: [Int]) {
        self.images = images
        self.segmentation = segmentation
        self.scenes = scenes
    }

    /// Checks that the batch fits `config`: sizes, label ranges, sides divisible by the network's
    /// downsampling factor.
    func validate(for config: FeatureNetwork.Config) throws {
        guard images.rank == 4, images.shape[1] == 3, images.shape[0] > 0 else {
            throw PerceptualError("feature network batch: images must be [B, 3, H, W] with B > 0, not \(images.shape)")
        }
        let (b, h, w) = (images.shape[0], images.shape[2], images.shape[3])
        let f = config.downsamplingFactor
        guard h % f == 0, w % f == 0 else {
            throw PerceptualError("feature network batch: \(h)×\(w) images do not divide by the network's "
                                  + "downsampling factor \(f)")
        }
        guard segmentation.count == b * h * w else {
            throw PerceptualError("feature network batch: \(segmentation.count) segmentation labels for \(b) "
                                  + "images of \(h)×\(w) (expected \(b * h * w))")
        }
        guard scenes.count == b else {
            throw PerceptualError("feature network batch: \(scenes.count) scene labels for \(b) images")
        }
        if let bad = segmentation.first(where: { Int($0) >= config.segmentationClasses }) {
            throw PerceptualError("feature network batch: segmentation label \(bad) is not below "
                                  + "\(config.segmentationClasses) classes")
        }
        if let bad = scenes.first(where: { $0 < 0 || $0 >= config.sceneClasses }) {
            throw PerceptualError("feature network batch: scene label \(bad) is not in 0..<\(config.sceneClasses)")
        }
    }
}

/// What one training step (or an evaluation) measured.
public struct FeatureNetworkScores: Codable, Equatable, Sendable {
    /// Mean cross-entropy of the per-pixel classes and of the scene classes.
    public var segmentationLoss: Float
    public var sceneLoss: Float
    /// Fraction of pixels, and of pictures, whose most likely class is the right one.
    public var pixelAccuracy: Float
    public var sceneAccuracy: Float
}

/// Trains a `FeatureNetwork` on labelled landscapes: Adam on the sum of the two cross-entropies,
///
///     L = CE(segmentation logits, pixel classes) + CE(scene logits, scene class),
///
/// with the learning rate decayed along a cosine. There is no randomness in a step: the network's
/// initialisation seed and the batches decide everything.
///
/// The book's recipe: 300 steps of 16 landscapes at 32×32 (2,000 of them), learning rate 2e-3,
/// about 30–45 s on 2 cores in a release build. On 200 held-out landscapes that gives a pixel
/// accuracy of about 0.87 (the most common class, sky, covers 0.34) and a scene accuracy of 1.0
/// (the scenes' palettes make that part easy; the segmentation carries the signal). Trained at
/// 32×32 the network still segments 64×64 landscapes at about 0.85, so one network serves both
/// sizes; training at 64×64 costs four times as much per step.
///
///     let trainer = FeatureNetworkTrainer(network: net)
///     for step in 0..<steps {
///         trainer.scheduleLearningRate(step: step, totalSteps: steps)
///         let scores = try trainer.step(batch(step))
///     }
public final class FeatureNetworkTrainer {
    public let network: FeatureNetwork
    public let optimizer: Adam
    public let learningRate: Float
    /// The learning rate at the end of the cosine, as a fraction of the start.
    public let finalLearningRateFraction: Float

    public init(network: FeatureNetwork, learningRate: Float = 2e-3, finalLearningRateFraction: Float = 0.05) {
        self.network = network
        self.learningRate = learningRate
        self.finalLearningRateFraction = finalLearningRateFraction
        optimizer = Adam(namedParameters: network.namedParameters(), lr: learningRate)
    }

    /// Sets the learning rate for `step` of `totalSteps` (cosine decay; constant when unknown).
    public func scheduleLearningRate(step: Int, totalSteps: Int?) {
        guard let total = totalSteps, total > 1 else { optimizer.lr = learningRate; return }
        let progress = Float(min(step, total)) / Float(total)
        let floor = finalLearningRateFraction
        optimizer.lr = learningRate * (floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * progress)))
    }

    /// One Adam step on `batch`; returns the batch's losses and accuracies (before the update).
    public func step(_ batch: FeatureNetworkBatch) throws -> FeatureNetworkScores {
        try batch.validate(for: network.config)
        network.train()
        let p = network.predict(batch.images)
        let (segmentationLoss, sceneLoss) = Self.losses(p, batch)
        let loss = segmentationLoss + sceneLoss
        network.zeroGrad()
        loss.backward()
        optimizer.step()
        let (pixels, scenes) = Self.accuracies(p, batch)
        return FeatureNetworkScores(segmentationLoss: segmentationLoss.item, sceneLoss: sceneLoss.item,
                                    pixelAccuracy: pixels, sceneAccuracy: scenes)
    }

    /// The two cross-entropies of predictions on a batch.
    static func losses(_ p: FeatureNetwork.Predictions, _ batch: FeatureNetworkBatch) -> (Tensor, Tensor) {
        let k = p.segmentation.shape[1]
        let perPixel = p.segmentation.permuted([0, 2, 3, 1]).reshaped([-1, k])   // [B·H·W, K]
        let segmentation = crossEntropy(logits: perPixel, targets: batch.segmentation.map(Int.init))
        return (segmentation, crossEntropy(logits: p.scene, targets: batch.scenes))
    }

    /// Pixel and scene accuracy of predictions on a batch.
    static func accuracies(_ p: FeatureNetwork.Predictions, _ batch: FeatureNetworkBatch) -> (Float, Float) {
        let (b, k, h, w) = (p.segmentation.shape[0], p.segmentation.shape[1], p.segmentation.shape[2],
                            p.segmentation.shape[3])
        let plane = h * w
        var correctPixels = 0
        p.segmentation.withUnsafeBufferPointer { logits in
            for n in 0..<b {
                for i in 0..<plane {
                    var best = 0
                    for c in 1..<max(k, 1) where logits[(n * k + c) * plane + i] > logits[(n * k + best) * plane + i] {
                        best = c
                    }
                    if best == Int(batch.segmentation[n * plane + i]) { correctPixels += 1 }
                }
            }
        }
        let predictedScenes = p.scene.argmaxLast()
        let correctScenes = zip(predictedScenes, batch.scenes).filter { $0 == $1 }.count
        return (Float(correctPixels) / Float(max(b * plane, 1)), Float(correctScenes) / Float(max(b, 1)))
    }
}

extension FeatureNetwork {
    /// Losses and accuracies on held-out batches (no gradients, weights unchanged), averaged over
    /// the batches weighted by their sizes.
    public func evaluate(_ batches: [FeatureNetworkBatch]) throws -> FeatureNetworkScores {
        guard !batches.isEmpty else { throw PerceptualError("feature network evaluation: no batches") }
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        var sums = [Double](repeating: 0, count: 4), pictures = 0
        for batch in batches {
            try batch.validate(for: config)
            let b = batch.images.shape[0]
            let (segmentation, scene, pixels, scenes) = withNoGrad { () -> (Float, Float, Float, Float) in
                let p = predict(batch.images)
                let (s, c) = FeatureNetworkTrainer.losses(p, batch)
                let (pa, sa) = FeatureNetworkTrainer.accuracies(p, batch)
                return (s.item, c.item, pa, sa)
            }
            for (i, v) in [segmentation, scene, pixels, scenes].enumerated() { sums[i] += Double(v) * Double(b) }
            pictures += b
        }
        let mean = sums.map { Float($0 / Double(pictures)) }
        return FeatureNetworkScores(segmentationLoss: mean[0], sceneLoss: mean[1], pixelAccuracy: mean[2],
                                    sceneAccuracy: mean[3])
    }
}
