import Tensors

/// One training example: a picture, and what is known about it.
public struct Example {
    /// The picture, `[3, H, W]`, values in [-1, 1].
    public var image: Tensor
    /// Class index of every pixel, row-major `[H, W]`, when the dataset has segmentation maps.
    public var segmentation: [UInt8]?
    /// The picture's class (a `SceneClass` raw value for landscapes, a subfolder's index for
    /// folders sorted into classes), when the dataset has one.
    public var sceneClass: Int?

    public init(image: Tensor, segmentation: [UInt8]? = nil, sceneClass: Int? = nil) {
        self.image = image
        self.segmentation = segmentation
        self.sceneClass = sceneClass
    }
}

/// A fixed, indexable collection of equally sized examples: procedural landscapes or a folder of
/// PNG files. `BatchLoader` turns one into shuffled batches.
///
/// Implementations must be safe to read from several threads at once (a loader may prepare the
/// next batch while the current one trains).
public protocol Dataset {
    /// Number of examples.
    var count: Int { get }
    /// Size of every example's picture.
    var width: Int { get }
    var height: Int { get }
    /// Whether every example has a segmentation map.
    var hasSegmentation: Bool { get }
    /// Number of picture classes (class indices are `0..<n`), or nil when examples have none.
    var classCount: Int? { get }
    /// Example `index` (in `0..<count`). `rng` drives augmentation (random crops, flips) where
    /// the dataset has any; a dataset without augmentation ignores it.
    func example(at index: Int, rng: inout RandomGenerator) -> Example
}

/// How a training split of a dataset is split off from its validation split: a seeded
/// permutation of `0..<count`, the first `validationCount` for validation, the rest for training.
public enum DatasetSplit {
    /// The (train, validation) index lists for `count` examples, `fraction` of them (rounded,
    /// at least one when `fraction > 0` and `count > 1`) held out for validation.
    public static func indices(count: Int, validationFraction fraction: Float,
                               seed: UInt64) throws -> (train: [Int], validation: [Int]) {
        guard fraction >= 0, fraction < 1 else {
            throw DatasetError.invalidArgument("the validation fraction must be in [0, 1), not \(fraction)")
        }
        var order = Array(0..<count)
        var rng = RandomGenerator(seed: seed)
        rng.shuffle(&order)
        var held = Int((Float(count) * fraction).rounded())
        if fraction > 0 && count > 1 { held = Swift.max(1, held) }
        held = Swift.min(held, count - 1)
        guard held >= 0, count - held >= 1 else {
            throw DatasetError.invalidArgument("cannot split \(count) examples into training and validation sets")
        }
        return (Array(order[held...]).sorted(), Array(order[..<held]).sorted())
    }
}
