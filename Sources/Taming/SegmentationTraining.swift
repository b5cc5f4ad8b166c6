import Foundation
import NN
import Tensors

/// The numbers of one cond-stage training step.
public struct SegmentationStepLosses: Codable, Equatable, Sendable {
    public var step: Int
    /// Mean binary cross-entropy of the K logits per pixel against the one-hot map.
    public var crossEntropy: Float
    /// ‖sg[ẑ] − z_q‖² and ‖ẑ − sg[z_q]‖², unweighted.
    public var codebook: Float
    public var commitment: Float
    /// Fraction of pixels whose argmax class is the true one (before the update).
    public var pixelAccuracy: Float
    /// Fraction of the codebook chosen in this batch, and the perplexity of the batch's codes.
    public var batchUsage: Float
    public var perplexity: Float
}

/// Trains the cond stage as the reference does (`BCELossWithQuant`,
/// taming/modules/losses/segmentation.py) — one optimiser, no discriminator, no perceptual loss:
///
///     L = BCE(logits, one-hot) + w · (‖sg[ẑ] − z_q‖² + β‖ẑ − sg[z_q]‖²),    w = 1
///
/// Binary cross-entropy asks K yes/no questions per pixel ("is this pixel grass?") rather than one
/// K-way question; with one-hot targets both are minimised by the right class. The step is the
/// image model's (`VQTrainer`'s forward and update halves), so the codebook is kept alive the same
/// way: k-means on the first batch and restarts of dead codes, as `config.codebook` says.
///
///     let trainer = VQSegmentationTrainer(stage: stage, config: VQSegmentationModel.trainingConfig(),
///                                         seed: 1)
///     for step in 0..<steps {
///         trainer.scheduleLearningRate(step: step, totalSteps: steps)
///         let losses = try trainer.step(labels: batchLabels, batch: 16, height: 32, width: 32, step: step)
///     }
public final class VQSegmentationTrainer {
    public let stage: VQSegmentationModel
    /// The image model's trainer, reused for its Adam, schedule and codebook maintenance.
    public let vq: VQTrainer
    /// The weight w of the quantiser's loss (the reference's `codebook_weight`, 1.0).
    public let codebookWeight: Float

    public init(stage: VQSegmentationModel, config: VQTrainingConfig, codebookWeight: Float = 1, seed: UInt64) {
        self.stage = stage
        self.codebookWeight = codebookWeight
        vq = VQTrainer(model: stage.autoencoder, config: config, seed: seed)
    }

    /// The optimiser, for checkpoints.
    public var optimizer: Adam { vq.optimizer }

    /// Sets the learning rate for `step` of `totalSteps` (cosine decay; constant when unknown).
    public func scheduleLearningRate(step: Int, totalSteps: Int?) { vq.scheduleLearningRate(step: step, totalSteps: totalSteps) }

    /// Sets the learning rate for a run that has spent `progress` ∈ [0, 1] of its budget.
    public func scheduleLearningRate(progress: Double) { vq.scheduleLearningRate(progress: progress) }

    /// Continuing a saved run: the codebook was already initialised.
    public func resume() { vq.resume() }

    /// Trains on one batch of maps, labels [B·H·W] row-major per map.
    /// - Throws: `ConditioningError` when the labels do not fit, a label is not a class, or a
    ///   side is not a multiple of f.
    public func step(labels: [UInt8], batch b: Int, height h: Int, width w: Int, step: Int) throws -> SegmentationStepLosses {
        try stage.checkSides(height: h, width: w)
        let x = try VQSegmentationModel.oneHot(labels, batch: b, height: h, width: w, classes: stage.classes) // [B, K, H, W]
        let pass = vq.forward(x)
        let bce = binaryCrossEntropyWithLogits(pass.reconstruction, targets: x)
        let usage = vq.update(pass, loss: bce + pass.quantized.loss * codebookWeight)
        let predicted = VQSegmentationModel.labels(fromLogits: pass.reconstruction.detached())
        let correct = zip(predicted, labels).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return SegmentationStepLosses(step: step, crossEntropy: bce.item, codebook: pass.quantized.codebookLoss,
                                      commitment: pass.quantized.commitmentLoss,
                                      pixelAccuracy: Float(correct) / Float(labels.count),
                                      batchUsage: Float(usage.usage), perplexity: Float(usage.perplexity))
    }
}

/// How faithfully the cond stage keeps held-out maps, and how it uses its codebook.
public struct SegmentationEvaluation: Codable, Equatable, Sendable {
    /// Reconstructed labels against the originals.
    public var confusion: ConfusionMatrix
    public var codebookUsage: Double
    public var perplexity: Double

    public var pixelAccuracy: Double { confusion.accuracy }
    public var meanIntersectionOverUnion: Double { confusion.meanIntersectionOverUnion }
}

extension VQSegmentationModel {
    /// Pixel accuracy, IoUs and codebook use of maps (labels [B·H·W]) sent through the cond stage
    /// and back.
    public func evaluate(_ labels: [UInt8], batch b: Int, height h: Int, width w: Int) throws -> SegmentationEvaluation {
        let codes = try codes(for: labels, batch: b, height: h, width: w)
        let f = downsamplingFactor
        let back = try maps(for: codes, gridShape: [b, h / f, w / f])
        let usage = CodebookUsage(indices: codes, codebookSize: codebookSize)
        return SegmentationEvaluation(confusion: try ConfusionMatrix(classes: classes, truth: labels, predicted: back),
                                      codebookUsage: usage.usage, perplexity: usage.perplexity)
    }
}
