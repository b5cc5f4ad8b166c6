import Testing
import Tensors
@testable import Datasets

@Suite("Procedural dataset and batch loader")
struct ProceduralDatasetTests {
    let train: ProceduralDataset

    init() throws { train = try ProceduralDataset(seed: 5, count: 20, width: 16, height: 16) }

    @Test("examples are the generator's samples at 8 bits, scenes balanced, splits disjoint")
    func examples() throws {
        var rng = RandomGenerator(seed: 0)
        #expect(train.count == 20 && train.hasSegmentation && train.classCount == SceneClass.count)
        let example = train.example(at: 7, rng: &rng)
        let sample = LandscapeGenerator(seed: 5).sample(index: 7, width: 16, height: 16, scene: train.scene(at: 7))
        #expect(example.image.shape == [3, 16, 16])
        #expect(example.segmentation == sample.segmentation)
        #expect(example.sceneClass == SceneClass.allCases[7 % SceneClass.count].rawValue)
        let maxDiff = zip(example.image.scalars, sample.image.scalars).map { abs($0 - $1) }.max() ?? 1
        #expect(maxDiff <= 1 / 127.5 + 1e-6)
        let counts = Dictionary(grouping: (0..<20).map { train.scene(at: $0) }, by: { $0 }).mapValues(\.count)
        #expect(counts.values.allSatisfy { $0 == 4 })
        let validation = try ProceduralDataset(seed: 5, count: 5, width: 16, height: 16, split: .validation)
        for i in 0..<5 {
            #expect(validation.example(at: i, rng: &rng).image.scalars != train.example(at: i, rng: &rng).image.scalars)
        }
    }

    @Test("batches: shapes, reproducible shuffles, every example once per epoch")
    func batches() throws {
        let loader = try BatchLoader(dataset: train, batchSize: 6, seed: 9)
        #expect(loader.batchesPerEpoch == 3)
        let batch = loader.next()
        #expect(batch.images.shape == [6, 3, 16, 16])
        #expect(batch.segmentations?.count == 6 * 16 * 16)
        #expect(batch.classes?.count == 6)
        #expect(batch.classes == batch.indices.map { train.scene(at: $0).rawValue })
        // Batch n's first image is example indices[n]'s picture.
        var rng = RandomGenerator(seed: 0)
        let first = train.example(at: batch.indices[0], rng: &rng).image.scalars
        #expect(Array(batch.images.scalars[0..<(3 * 256)]) == first)
        // The same seed gives the same sequence; another seed another order.
        let again = try BatchLoader(dataset: train, batchSize: 6, seed: 9)
        #expect(again.next().indices == batch.indices)
        let other = try BatchLoader(dataset: train, batchSize: 6, seed: 10)
        #expect(other.order(epoch: 0) != loader.order(epoch: 0))
        // Each epoch is a permutation; epochs differ.
        #expect(loader.order(epoch: 0).sorted() == Array(0..<20))
        #expect(loader.order(epoch: 1) != loader.order(epoch: 0))
        _ = loader.next(); _ = loader.next()
        #expect(loader.epoch == 1 && loader.position == 0)
    }

    @Test("prefetching gives exactly the batches of the plain loader")
    func prefetch() throws {
        let plain = try BatchLoader(dataset: train, batchSize: 4, seed: 3)
        let ahead = try BatchLoader(dataset: train, batchSize: 4, seed: 3, prefetch: true)
        for _ in 0..<7 {
            let a = plain.next(), b = ahead.next()
            #expect(a.indices == b.indices)
            #expect(a.images.scalars == b.images.scalars)
            #expect(a.segmentations == b.segmentations)
        }
    }

    @Test("one-hot segmentation, last partial batch, and impossible batch sizes")
    func details() throws {
        let loader = try BatchLoader(dataset: train, batchSize: 8, seed: 1, shuffle: false, dropLast: false)
        #expect(loader.batchesPerEpoch == 3)
        let b = loader.batch(epoch: 0, position: 2)
        #expect(b.indices == [16, 17, 18, 19])
        let oneHot = try #require(b.segmentationOneHot(classes: SemanticClass.count))
        #expect(oneHot.shape == [4, SemanticClass.count, 16, 16])
        // Exactly one 1 per pixel, at its label.
        let s = oneHot.scalars, labels = try #require(b.segmentations)
        for n in 0..<4 {
            for p in [0, 100, 255] {
                let column = (0..<SemanticClass.count).map { s[(n * SemanticClass.count + $0) * 256 + p] }
                #expect(column.reduce(0, +) == 1 && column[Int(labels[n * 256 + p])] == 1)
            }
        }
        #expect(throws: DatasetError.self) { try BatchLoader(dataset: train, batchSize: 0, seed: 1) }
        #expect(throws: DatasetError.self) { try BatchLoader(dataset: train, batchSize: 21, seed: 1) }
        #expect(throws: DatasetError.self) { try ProceduralDataset(seed: 1, count: 4, width: 0, height: 16) }
        #expect(throws: DatasetError.self) { try ProceduralDataset(seed: 1, count: 4, width: 8, height: 8, scenes: []) }
    }
}
