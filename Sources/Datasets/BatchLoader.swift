import Dispatch
import Tensors

/// A batch of examples stacked for training.
public struct Batch {
    /// Pictures, `[B, 3, H, W]` in [-1, 1].
    public var images: Tensor
    /// Segmentation maps, `[B, H, W]` row-major, when the dataset has them.
    public var segmentations: [UInt8]?
    /// Picture classes, `[B]`, when the dataset has them.
    public var classes: [Int]?
    /// Which dataset examples these are, `[B]`.
    public var indices: [Int]

    public var count: Int { indices.count }

    /// The segmentation maps one-hot encoded, `[B, K, H, W]` (1 where a pixel has class k): the
    /// input of a segmentation-conditioned model. Labels ≥ `classes` are left all-zero.
    public func segmentationOneHot(classes k: Int) -> Tensor? {
        guard let segmentations else { return nil }
        let (b, h, w) = (images.shape[0], images.shape[2], images.shape[3])
        let plane = h * w
        return Tensor.make([b, k, h, w]) { out in
            for i in out.indices { out[i] = 0 }
            for n in 0..<b {
                for p in 0..<plane {
                    let label = Int(segmentations[n * plane + p])
                    if label < k { out[(n * k + label) * plane + p] = 1 }
                }
            }
        }
    }
}

/// Shuffled batches from a dataset, epoch after epoch, reproducible from a seed.
///
/// Epoch e visits the examples in an order shuffled by a generator seeded from (seed, e), so the
/// sequence of batches is a pure function of the seed: the same on every run, whether or not the
/// next batch is prepared in the background (`prefetch`). Augmentation draws come from a
/// generator seeded from (seed, e, position), so they do not depend on thread timing either.
///
///     let loader = try BatchLoader(dataset: train, batchSize: 16, seed: 7)
///     for step in 0..<steps {
///         let batch = loader.next()          // batch.images: [16, 3, H, W]
///     }
public final class BatchLoader {
    public let dataset: any Dataset
    public let batchSize: Int
    public let seed: UInt64
    public let shuffle: Bool
    /// Whether an epoch's last, incomplete batch is left out (keeps every batch the same size).
    public let dropLast: Bool
    /// Whether the next batch is assembled on a background thread while the caller trains.
    public let prefetch: Bool

    /// The epoch and batch position `next()` returns next.
    public private(set) var epoch = 0
    public private(set) var position = 0

    private var order: [Int] = []
    private var orderEpoch = -1
    private let queue = DispatchQueue(label: "Datasets.BatchLoader.prefetch")
    private var pending: (epoch: Int, position: Int, group: DispatchGroup, box: BatchBox)?

    /// - Throws: `DatasetError.invalidArgument` when the batch size is not positive or the
    ///   dataset too small for one batch (with `dropLast`).
    public init(dataset: any Dataset, batchSize: Int, seed: UInt64, shuffle: Bool = true,
                dropLast: Bool = true, prefetch: Bool = false) throws {
        guard batchSize > 0 else {
            throw DatasetError.invalidArgument("the batch size must be positive, not \(batchSize)")
        }
        guard dataset.count > 0, !dropLast || dataset.count >= batchSize else {
            throw DatasetError.invalidArgument(
                "a dataset of \(dataset.count) examples cannot fill a batch of \(batchSize)")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.prefetch = prefetch
    }

    /// Batches in one epoch.
    public var batchesPerEpoch: Int {
        dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
    }

    /// The order in which epoch `e` visits the examples.
    public func order(epoch e: Int) -> [Int] {
        var order = Array(0..<dataset.count)
        if shuffle {
            var rng = RandomGenerator(seed: Noise.mix(seed, UInt64(e)))
            rng.shuffle(&order)
        }
        return order
    }

    /// Batch `position` of epoch `e` (a pure function of the seed).
    public func batch(epoch e: Int, position p: Int) -> Batch {
        Self.assemble(dataset, indices: indices(epoch: e, position: p), seed: augmentationSeed(epoch: e, position: p))
    }

    /// The dataset indices of batch `p` of epoch `e`.
    private func indices(epoch e: Int, position p: Int) -> [Int] {
        precondition(p >= 0 && p < batchesPerEpoch, "batch \(p) of \(batchesPerEpoch)") // invariant: a programming error, not user input
        if orderEpoch != e { order = order(epoch: e); orderEpoch = e }
        return Array(order[(p * batchSize)..<Swift.min(order.count, (p + 1) * batchSize)])
    }

    private func augmentationSeed(epoch e: Int, position p: Int) -> UInt64 {
        Noise.mix(Noise.mix(seed, UInt64(e)), UInt64(p) &+ 0x5EED)
    }

    /// The next batch, moving on to the next epoch after the last one.
    public func next() -> Batch {
        let (e, p) = (epoch, position)
        position += 1
        if position == batchesPerEpoch { position = 0; epoch += 1 }
        guard prefetch else { return batch(epoch: e, position: p) }

        let result: Batch
        if let pending, pending.epoch == e, pending.position == p {
            pending.group.wait()
            result = pending.box.batch! // invariant: the group finished filling the box
        } else {
            result = batch(epoch: e, position: p)
        }
        // Start on the batch after this one.
        let (ne, np) = (epoch, position)
        let indices = indices(epoch: ne, position: np)
        let box = BatchBox(), group = DispatchGroup()
        let dataset = self.dataset, seed = augmentationSeed(epoch: ne, position: np)
        queue.async(group: group) { box.batch = Self.assemble(dataset, indices: indices, seed: seed) }
        pending = (ne, np, group, box)
        return result
    }

    /// Stacks the examples `indices` into a batch; augmentation generator per example from `seed`.
    static func assemble(_ dataset: any Dataset, indices: [Int], seed: UInt64) -> Batch {
        let (h, w) = (dataset.height, dataset.width)
        let plane = h * w
        var segmentations: [UInt8] = []
        var classes: [Int] = []
        if dataset.hasSegmentation { segmentations.reserveCapacity(indices.count * plane) }
        let images = Tensor.make([indices.count, 3, h, w]) { out in  // [B, 3, H, W]
            for (n, index) in indices.enumerated() {
                var rng = RandomGenerator(seed: Noise.mix(seed, UInt64(n)))
                let example = dataset.example(at: index, rng: &rng)
                example.image.withUnsafeBufferPointer { src in
                    for j in 0..<(3 * plane) { out[n * 3 * plane + j] = src[j] }
                }
                if dataset.hasSegmentation {
                    segmentations += example.segmentation ?? [UInt8](repeating: 0, count: plane)
                }
                classes.append(example.sceneClass ?? 0)
            }
        }
        return Batch(images: images, segmentations: dataset.hasSegmentation ? segmentations : nil,
                     classes: dataset.classCount == nil ? nil : classes, indices: indices)
    }
}

/// Where a background thread leaves the batch it assembled (read only after its group is done).
private final class BatchBox: @unchecked Sendable {
    var batch: Batch?
}
