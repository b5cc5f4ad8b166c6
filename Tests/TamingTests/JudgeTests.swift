import Testing
import Tensors
@testable import Taming

@Suite("Judges: confusion matrices, a scene classifier, a pixel segmenter")
struct JudgeTests {
    @Test("accuracy, per-class accuracy and IoU of a hand-made confusion")
    func handMadeConfusion() throws {
        // truth:     0 0 1 1 2     class 3 is in neither
        // predicted: 0 1 1 1 0
        let m = try ConfusionMatrix(classes: 4, truth: [0, 0, 1, 1, 2], predicted: [0, 1, 1, 1, 0])
        #expect(m[truth: 0, predicted: 1] == 1 && m[truth: 2, predicted: 0] == 1 && m.total == 5)
        #expect(m.truthCounts == [2, 2, 1, 0] && m.predictedCounts == [2, 3, 0, 0])
        #expect(m.accuracy == 3.0 / 5)
        #expect(m.classAccuracies == [0.5, 1, 0, nil])
        // IoU: class 0 1/(2+2−1), class 1 2/(2+3−2), class 2 0/(1+0−0), class 3 undefined.
        #expect(m.intersectionsOverUnions == [1.0 / 3, 2.0 / 3, 0, nil])
        #expect(abs(m.meanIntersectionOverUnion - 1.0 / 3) < 1e-12)
        #expect(abs(m.meanClassAccuracy - 0.5) < 1e-12)
    }

    @Test("a map painted all sky keeps a high pixel accuracy but a low mean IoU")
    func allSky() throws {
        // 8 pixels: 6 sky (0), 1 grass (4), 1 water (6); the prediction says sky everywhere.
        let truth: [UInt8] = [0, 0, 0, 0, 0, 0, 4, 6]
        let m = try ConfusionMatrix(classes: 9, truth: truth, predicted: [UInt8](repeating: 0, count: 8))
        #expect(m.accuracy == 0.75)
        #expect(m.intersectionsOverUnions[0] == 0.75 && m.intersectionsOverUnions[4] == 0 && m.intersectionsOverUnions[6] == 0)
        #expect(abs(m.meanIntersectionOverUnion - 0.25) < 1e-12)
        let perfect = try ConfusionMatrix(classes: 9, truth: truth, predicted: truth)
        #expect(perfect.accuracy == 1 && perfect.meanIntersectionOverUnion == 1)
        var both = m
        both.add(perfect)
        #expect(both.total == 16 && both.accuracy == 14.0 / 16)
        #expect(ConfusionMatrix(classes: 3).accuracy == 0 && ConfusionMatrix(classes: 3).meanIntersectionOverUnion == 0)
        #expect(throws: ConditioningError.labelOutOfRange(label: 9, index: 1, classes: 9)) {
            try ConfusionMatrix(classes: 9, truth: [UInt8]([0, 9]), predicted: [0, 0])
        }
        #expect(throws: ConditioningError.self) { try ConfusionMatrix(classes: 9, truth: [0, 1], predicted: [0]) }
    }

    /// Pictures [N, 3, 8, 8] of K flat colours with noise; picture n has class n % K.
    static func colouredPictures(count: Int, classes: Int, seed: UInt64) -> (Tensor, [Int]) {
        var rng = RandomGenerator(seed: seed)
        let palette: [[Float]] = [[0.8, -0.6, -0.6], [-0.6, 0.8, -0.6], [-0.6, -0.6, 0.8]]
        let labels = (0..<count).map { $0 % classes }
        let x = Tensor.make([count, 3, 8, 8]) { out in
            for n in 0..<count { for c in 0..<3 { for i in 0..<64 {
                out[(n * 3 + c) * 64 + i] = palette[labels[n]][c] + 0.3 * rng.normal()
            } } }
        }
        return (x, labels)
    }

    @Test("the scene classifier's loss falls and it learns colours")
    func classifierLearns() throws {
        var rng = RandomGenerator(seed: 2)
        let judge = SceneClassifier(.init(widths: [8, 16], classes: 3), rng: &rng)
        let (x, y) = Self.colouredPictures(count: 12, classes: 3, seed: 4)
        let trainer = JudgeTrainer(judge: judge, learningRate: 1e-2)
        var losses: [Float] = []
        for step in 0..<30 {
            trainer.scheduleLearningRate(step: step, totalSteps: 30)
            losses.append(try trainer.step { try judge.loss(images: x, classes: y) })
        }
        #expect(losses[losses.count - 1] < 0.5 * losses[0], "loss \(losses[0]) → \(losses[losses.count - 1])")
        let (heldOut, truth) = Self.colouredPictures(count: 9, classes: 3, seed: 9)
        let confusion = try judge.evaluate(heldOut, classes: truth)
        #expect(confusion.accuracy > 0.6, "accuracy \(confusion.accuracy)")
        #expect(throws: ConditioningError.classOutOfRange(value: 3, classes: 3)) {
            try judge.loss(images: x, classes: y.map { $0 == 2 ? 3 : $0 })
        }
        #expect(throws: ConditioningError.self) { try judge.predict(Tensor.zeros([2, 1, 8, 8])) }
    }

    @Test("the pixel segmenter's loss falls on maps of coloured rectangles")
    func segmenterLearns() throws {
        var rng = RandomGenerator(seed: 3)
        let judge = PixelSegmenter(.init(widths: [8, 16], classes: 3), rng: &rng)
        // Each 8×8 picture: a colour per rectangle, class = colour; the rectangles move.
        let (solid, classes) = Self.colouredPictures(count: 6, classes: 3, seed: 1)
        var labels = [UInt8](repeating: 0, count: 6 * 64)
        let x = Tensor.make([6, 3, 8, 8]) { out in
            solid.withUnsafeBufferPointer { s in
                for n in 0..<6 {
                    let other = (n + 1) % 6, left = n % 4
                    for y in 0..<8 { for i in 0..<8 {
                        let inBox = i >= left && i < left + 4 && y >= 2 && y < 6
                        let source = inBox ? other : n
                        labels[n * 64 + y * 8 + i] = UInt8(classes[source])
                        for c in 0..<3 { out[(n * 3 + c) * 64 + y * 8 + i] = s[(source * 3 + c) * 64 + y * 8 + i] }
                    } }
                }
            }
        }
        let trainer = JudgeTrainer(judge: judge, learningRate: 1e-2)
        var losses: [Float] = []
        for step in 0..<30 {
            trainer.scheduleLearningRate(step: step, totalSteps: 30)
            losses.append(try trainer.step { try judge.loss(images: x, labels: labels) })
        }
        #expect(losses[losses.count - 1] < 0.5 * losses[0], "loss \(losses[0]) → \(losses[losses.count - 1])")
        let confusion = try judge.evaluate(x, labels: labels)
        #expect(confusion.accuracy > 0.8, "pixel accuracy \(confusion.accuracy)")
        #expect(try judge.predict(x).count == 6 * 64)
        #expect(throws: ConditioningError.self) { try judge.predict(Tensor.zeros([1, 3, 7, 8])) }   // 7 is odd
        var bad = labels
        bad[70] = 3
        #expect(throws: ConditioningError.labelOutOfRange(label: 3, index: 70, classes: 3)) {
            try judge.loss(images: x, labels: bad)
        }
    }
}
