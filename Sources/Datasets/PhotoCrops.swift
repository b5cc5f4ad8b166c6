import Foundation
import Tensors

/// Patches of a few large photographs: every example is a `width`×`height` crop cut from a picture
/// at the picture's own resolution, never resampled. One 640×427 photo holds about 240,000
/// different 32×32 crops, so a single photo is a training set — this is how issue 12's reference
/// recipe trains (random 32×32 crops of one photo) and evaluates (fixed crops of another).
///
/// - Training (`fixedSeed` nil): each call draws a fresh place (and a mirror with probability ½
///   when `flips`), so epochs never repeat a batch.
/// - Held-out (`fixedSeed` set): crop `i` always has the same place, drawn from the seed and `i`,
///   so every model is scored on the same patches.
///
/// Example `i` comes from picture `i mod n` of the folder's n pictures (sorted by path), so
/// every picture contributes equally whatever its size. A picture smaller than the crop is
/// enlarged to it first.
public struct PhotoCrops: Dataset {
    public let pictures: ImageFolderDataset
    public let count: Int
    public let fixedSeed: UInt64?
    public let flips: Bool
    public var width: Int { pictures.width }
    public var height: Int { pictures.height }
    public var hasSegmentation: Bool { pictures.hasSegmentation }
    public var classCount: Int? { nil }

    /// Loads every PNG under `folder` at full resolution.
    ///
    /// - Parameters:
    ///   - count: examples in one epoch (any number: the crops are drawn, not enumerated).
    ///   - fixedSeed: nil for random crops; a seed for the same `count` crops every time.
    /// - Throws: `DatasetError` when the folder is missing or holds no usable PNG, or when the
    ///   crop size or count is not positive.
    public init(folder: String, width: Int, height: Int, count: Int, fixedSeed: UInt64? = nil, flips: Bool = false,
                warn: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        guard count > 0 else { throw DatasetError.invalidArgument("the number of crops must be positive, not \(count)") }
        pictures = try ImageFolderDataset(folder: folder, width: width, height: height, augmentation: .none,
                                          classesFromSubfolders: false, shrink: false, warn: warn)
        self.count = count
        self.fixedSeed = fixedSeed
        self.flips = flips
    }

    public func example(at index: Int, rng: inout RandomGenerator) -> Example {
        precondition(index >= 0 && index < count, "crop \(index) of \(count)") // invariant: a programming error, not user input
        let picture = pictures.storage.pictures[pictures.pictureIndices[index % pictures.count]]
        var placement = fixedSeed.map { RandomGenerator(seed: Noise.mix($0, UInt64(index))) } ?? rng
        defer { if fixedSeed == nil { rng = placement } }
        let cw = min(width, picture.width), ch = min(height, picture.height)
        let rect = AreaResampling.Rect(x: placement.int(below: picture.width - cw + 1),
                                       y: placement.int(below: picture.height - ch + 1), width: cw, height: ch)
        let flip = flips && placement.uniform() < 0.5
        return picture.example(cut: rect, width: width, height: height, flip: flip)
    }
}
