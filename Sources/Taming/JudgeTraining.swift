import Foundation
import NN
import Tensors

/// Trains a judge (`SceneClassifier`, `PixelSegmenter`) on labelled data: Adam on the judge's
/// cross-entropy, the learning rate decayed along a cosine to `finalLearningRateFraction` of its
/// start. A step has no randomness: the judge's initialisation and the batches decide everything.
///
///     let trainer = JudgeTrainer(judge: classifier)
///     for step in 0..<steps {
///         trainer.scheduleLearningRate(step: step, totalSteps: steps)
///         let loss = try trainer.step { try classifier.loss(images: x, classes: y) }
///     }
public final class JudgeTrainer {
    public let judge: Module
    public let optimizer: Adam
    public let learningRate: Float
    public let finalLearningRateFraction: Float

    public init(judge: Module, learningRate: Float = 3e-3, finalLearningRateFraction: Float = 0.05) {
        self.judge = judge
        self.learningRate = learningRate
        self.finalLearningRateFraction = finalLearningRateFraction
        optimizer = Adam(namedParameters: judge.namedParameters(), lr: learningRate)
    }

    /// Sets the learning rate for `step` of `totalSteps` (cosine decay; constant when unknown).
    public func scheduleLearningRate(step: Int, totalSteps: Int?) {
        guard let total = totalSteps, total > 1 else { optimizer.lr = learningRate; return }
        let progress = Float(min(step, total)) / Float(total)
        let floor = finalLearningRateFraction
        optimizer.lr = learningRate * (floor + (1 - floor) * 0.5 * (1 + cos(Float.pi * progress)))
    }

    /// One Adam step on the loss `loss` builds (in training mode); returns the loss before the
    /// update.
    public func step(_ loss: () throws -> Tensor) rethrows -> Float {
        judge.train()
        let value = try loss()
        judge.zeroGrad()
        value.backward()
        optimizer.step()
        return value.item
    }
}
