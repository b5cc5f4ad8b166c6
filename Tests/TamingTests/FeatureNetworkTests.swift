import Foundation
import NN
import Taming
import Tensors
import TestSupport
import Testing

@Suite struct FeatureNetworkTests {
    @Test func bookConfigurationShapesAndNames() {
        var rng = RandomGenerator(seed: 1)
        let net = FeatureNetwork(rng: &rng)
        #expect(net.featureChannels == [32, 64, 128, 128])
        let stacks = net.featureStacks(seededUniform([2, 3, 32, 32], seed: 2))
        #expect(stacks.map(\.shape) == [[2, 32, 32, 32], [2, 64, 16, 16], [2, 128, 8, 8], [2, 128, 4, 4]])
        let p = net.predict(seededUniform([2, 3, 16, 24], seed: 3))
        #expect(p.segmentation.shape == [2, 9, 16, 24])
        #expect(p.scene.shape == [2, 5])
        let names = net.stateDict().map(\.0)
        for name in ["stages.0.0.weight", "stages.0.2.bias", "stages.3.2.weight", "segmentation.3.weight", "scene.weight"] {
            #expect(names.contains(name), "missing \(name)")
        }
        // Feature maps need no particular size: odd sides round up.
        #expect(net.featureStacks(seededUniform([1, 3, 9, 9], seed: 4)).map { $0.shape[2] } == [9, 5, 3, 2])
    }

    /// Synthetic labelled pictures: the class of a pixel is which of three colour channels is the
    /// brightest there; the scene is whether the picture is brighter than zero on average.
    static func toyBatch(seed: UInt64, count: Int = 8, side: Int = 8) -> FeatureNetworkBatch {
        let images = seededUniform([count, 3, side, side], seed: seed)
        let plane = side * side
        var labels = [UInt8](repeating: 0, count: count * plane), scenes: [Int] = []
        for n in 0..<count {
            var total: Float = 0
            for p in 0..<plane {
                let v = (0..<3).map { images[n, $0, p / side, p % side] }
                labels[n * plane + p] = UInt8(v.firstIndex(of: v.max()!)!)
                total += v.reduce(0, +)
            }
            scenes.append(total > 0 ? 1 : 0)
        }
        return FeatureNetworkBatch(images: images, segmentation: labels, scenes: scenes)
    }

    @Test func trainingLearnsAndIsReproducible() throws {
        func run() throws -> (FeatureNetwork, [FeatureNetworkScores]) {
            var rng = RandomGenerator(seed: 5)
            let net = FeatureNetwork(.init(widths: [8, 8], segmentationClasses: 3, sceneClasses: 2), rng: &rng)
            let trainer = FeatureNetworkTrainer(network: net, learningRate: 1e-2)
            var scores: [FeatureNetworkScores] = []
            for step in 0..<40 {
                trainer.scheduleLearningRate(step: step, totalSteps: 40)
                scores.append(try trainer.step(Self.toyBatch(seed: UInt64(100 + step % 10))))
            }
            return (net, scores)
        }
        let (net, scores) = try run()
        let held = try net.evaluate([Self.toyBatch(seed: 999)])
        #expect(scores.last!.segmentationLoss < 0.6 * scores.first!.segmentationLoss)
        #expect(held.pixelAccuracy > 0.6, "3 classes: chance is about 0.33")
        // Same seed, same numbers.
        let (_, again) = try run()
        #expect(again == scores)
    }

    @Test func badBatchesAreRefusedWithAReason() throws {
        var rng = RandomGenerator(seed: 6)
        let net = FeatureNetwork(.init(widths: [4, 4, 4], segmentationClasses: 3, sceneClasses: 2), rng: &rng)
        let trainer = FeatureNetworkTrainer(network: net)
        var batch = Self.toyBatch(seed: 7)
        batch.segmentation[5] = 3
        #expect(throws: PerceptualError("feature network batch: segmentation label 3 is not below 3 classes")) {
            try trainer.step(batch)
        }
        let odd = FeatureNetworkBatch(images: seededUniform([1, 3, 6, 6], seed: 8), segmentation: .init(repeating: 0, count: 36),
                                      scenes: [0])
        #expect(throws: PerceptualError.self) { try trainer.step(odd) }
        var short = Self.toyBatch(seed: 9)
        short.scenes = [0]
        #expect(throws: PerceptualError.self) { try net.evaluate([short]) }
        #expect(throws: PerceptualError.self) { try net.evaluate([]) }
    }

    @Test func checkpointsRoundTripBeforeAndAfterFreezing() throws {
        var rng = RandomGenerator(seed: 10)
        let net = FeatureNetwork(.init(widths: [4, 8]), rng: &rng)
        let url = temporaryFile("features.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try net.saveSafeTensors(to: url)
        let x = seededUniform([2, 3, 8, 8], seed: 11)
        let copy = FeatureNetwork(.init(widths: [4, 8]), rng: &rng)
        copy.freeze()
        try copy.loadSafeTensors(from: url)
        for (a, b) in zip(net.featureStacks(x), copy.featureStacks(x)) { expectBitIdentical(b, a) }
        // A checkpoint of another width is refused, naming the tensor.
        let other = FeatureNetwork(.init(widths: [4, 6]), rng: &rng)
        #expect(throws: SafeTensorsError.self) { try other.loadSafeTensors(from: url) }
    }
}
