import Testing
import Tensors
@testable import Taming

/// Little landscapes for the cond stage: sky over a horizon at a random height, grass below, a
/// pond (water) somewhere in the grass. Labels as `SemanticClass` numbers: 0 sky, 4 grass, 6 water.
func toyMaps(count: Int, side: Int, seed: UInt64) -> [UInt8] {
    var rng = RandomGenerator(seed: seed)
    var labels = [UInt8](repeating: 0, count: count * side * side)
    for n in 0..<count {
        let horizon = side / 4 + rng.int(below: side / 2)
        let pondX = rng.int(below: side / 2), pondY = horizon + rng.int(below: max(side - horizon - 2, 1))
        for y in 0..<side {
            for x in 0..<side {
                var label: UInt8 = y < horizon ? 0 : 4
                if y >= pondY && y < pondY + 3 && x >= pondX && x < pondX + side / 3 { label = 6 }
                labels[(n * side + y) * side + x] = label
            }
        }
    }
    return labels
}

@Suite("The cond stage: a VQ autoencoder of segmentation maps")
struct SegmentationStageTests {
    @Test("one-hot maps: one 1 per pixel in its class's channel; out-of-range labels are named")
    func oneHot() throws {
        let labels: [UInt8] = [0, 2, 1, 2, /* second map */ 2, 2, 0, 1]
        let x = try VQSegmentationModel.oneHot(labels, batch: 2, height: 2, width: 2, classes: 3)   // [2, 3, 2, 2]
        #expect(x.shape == [2, 3, 2, 2])
        #expect(x.sum().item == 8)
        #expect(x[0, 2, 0, 1] == 1 && x[0, 1, 1, 0] == 1 && x[1, 0, 1, 0] == 1 && x[1, 2, 0, 0] == 1)
        #expect(x[0, 0, 0, 1] == 0)
        #expect(VQSegmentationModel.labels(fromLogits: x) == labels)
        #expect(throws: ConditioningError.labelOutOfRange(label: 7, index: 5, classes: 3)) {
            try VQSegmentationModel.oneHot([0, 1, 2, 0, 1, 7, 0, 0], batch: 2, height: 2, width: 2, classes: 3)
        }
        #expect(throws: ConditioningError.self) {
            try VQSegmentationModel.oneHot(labels, batch: 3, height: 2, width: 2, classes: 3)
        }
    }

    @Test("BCE + codebook loss falls on a tiny batch, and maps round-trip through codes")
    func trainsAndRoundTrips() throws {
        // The book's recipe at 8×8, f = 4, made smaller (8 channels, no attention) for speed.
        var config = VQSegmentationModel.config(classes: 9, resolution: 8, downsampling: 4, codes: 16)
        #expect(config.inChannels == 9 && config.outChannels == 9 && config.downsamplingFactor == 4)
        config.channels = 8
        config.zChannels = 8
        config.embedDim = 8
        config.attentionResolutions = []
        var rng = RandomGenerator(seed: 5)
        let stage = VQSegmentationModel(autoencoder: VQModel(config, rng: &rng))
        let trainer = VQSegmentationTrainer(stage: stage, config: VQSegmentationModel.trainingConfig(batch: 4), seed: 1)
        let labels = toyMaps(count: 4, side: 8, seed: 3)
        var losses: [SegmentationStepLosses] = []
        for step in 0..<30 {
            trainer.scheduleLearningRate(step: step, totalSteps: 30)
            losses.append(try trainer.step(labels: labels, batch: 4, height: 8, width: 8, step: step))
        }
        let first = losses[0].crossEntropy, last = losses[losses.count - 1].crossEntropy
        #expect(losses.allSatisfy { $0.crossEntropy.isFinite && $0.codebook.isFinite })
        #expect(last < 0.6 * first, "BCE \(first) → \(last)")
        #expect(losses[losses.count - 1].pixelAccuracy > 0.6)

        let codes = try stage.codes(for: labels, batch: 4, height: 8, width: 8)
        #expect(codes.count == 4 * 2 * 2)
        #expect(codes.allSatisfy { $0 >= 0 && $0 < 16 })
        let maps = try stage.maps(for: codes, gridShape: [4, 2, 2])
        #expect(maps.count == labels.count)
        #expect(maps.allSatisfy { $0 < 9 })
        #expect(try stage.reconstruct(labels, batch: 4, height: 8, width: 8) == maps)
        let evaluation = try stage.evaluate(labels, batch: 4, height: 8, width: 8)
        #expect(evaluation.confusion.total == labels.count)
        #expect(evaluation.pixelAccuracy > 0.6, "pixel accuracy \(evaluation.pixelAccuracy)")
        #expect(stage.autoencoder.isTraining)  // evaluation restored the training flag
    }

    @Test("bad maps and codes are errors that say what is wrong")
    func errors() throws {
        var rng = RandomGenerator(seed: 1)
        let stage = VQSegmentationModel(classes: 3, resolution: 8, downsampling: 4, codes: 4, rng: &rng)
        #expect(throws: ConditioningError.self) {   // 6 is not a multiple of f = 4
            try stage.codes(for: [UInt8](repeating: 0, count: 36), batch: 1, height: 6, width: 6)
        }
        var labels = [UInt8](repeating: 1, count: 64)
        labels[9] = 3
        #expect(throws: ConditioningError.labelOutOfRange(label: 3, index: 9, classes: 3)) {
            try stage.codes(for: labels, batch: 1, height: 8, width: 8)
        }
        #expect(throws: ConditioningError.codeOutOfRange(code: 4, index: 2, codebookSize: 4)) {
            try stage.maps(for: [0, 1, 4, 0], gridShape: [1, 2, 2])
        }
        #expect(throws: ConditioningError.self) { try stage.maps(for: [0, 1, 2], gridShape: [1, 2, 2]) }
        #expect(ConditioningError.labelOutOfRange(label: 3, index: 9, classes: 3).description
                == "label 3 at position 9 is not a class (expected 0…2)")
    }
}
