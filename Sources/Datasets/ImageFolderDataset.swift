import Foundation
import Imaging
import Tensors

/// Your own pictures: every PNG in a folder and its subfolders, cropped and area-averaged to the
/// training size, with optional segmentation maps and classes.
///
/// - Segmentation: a file `x.seg.png` beside `x.png` is `x`'s map, a gray or palette PNG whose
///   stored values are class indices (see `SemanticClass` for the landscapes' classes). If any
///   picture has a map, the dataset is a segmentation dataset and pictures without one are
///   skipped (with a warning), so every example has a map or none has.
/// - Classes: with `classesFromSubfolders`, the first-level subfolder a picture sits in is its
///   class (subfolder names sorted, index = position), as torchvision's ImageFolder does.
/// - Unreadable files: a file that is not a readable PNG (or a map that does not fit its picture)
///   is skipped, and a line `warning: skipping <path>: <reason>` goes to standard error (or to
///   `warn`). Loading never crashes. A missing folder, a folder without PNG files, or one where no
///   picture is usable throws a `DatasetError` naming the folder.
/// - Sizes: at load time each picture is area-averaged down just far enough that the smallest
///   crop (`minCropScale`) still has at least the training size, and kept at 8 bits. Each
///   example is then a crop with the training size's aspect ratio: with augmentation, a random
///   one whose side is a uniform fraction in [`minCropScale`, 1] of the largest such crop, at a
///   random place, mirrored with probability ½ when `flips`; without augmentation (validation),
///   the largest centred crop. The crop is area-averaged to the training size; its map is cropped
///   identically and reduced by majority vote. Pictures smaller than the training size are
///   enlarged (each output pixel then averages the one or two source pixels under it).
public struct ImageFolderDataset: Dataset {
    /// How training examples are varied.
    public struct Augmentation: Sendable, Equatable {
        /// Smallest crop side as a fraction of the largest crop (1: always the largest crop).
        public var minCropScale: Float
        /// Mirror left to right with probability ½.
        public var flips: Bool

        public init(minCropScale: Float = 0.6, flips: Bool = true) {
            self.minCropScale = minCropScale
            self.flips = flips
        }

        /// The largest centred crop, never mirrored.
        public static let none = Augmentation(minCropScale: 1, flips: false)
    }

    /// A file that was left out, and why.
    public struct SkippedFile: Sendable, Equatable {
        public var path: String
        public var reason: String
    }

    /// One picture as loaded: planar 8-bit RGB `[3, H, W]`, and its map `[H, W]`.
    struct Picture {
        var path: String
        var width: Int
        var height: Int
        var pixels: [UInt8]
        var labels: [UInt8]?
        var sceneClass: Int?

        /// The example cut out at `rect`, area-averaged to `width`×`height` (its map reduced by
        /// majority vote), mirrored when `flip`.
        func example(cut rect: AreaResampling.Rect, width: Int, height: Int, flip: Bool) -> Example {
            let image = Tensor.make([3, height, width]) { out in
                pixels.withUnsafeBufferPointer { src in
                    AreaResampling.resize(src, channels: 3, width: self.width, height: self.height, rect: rect,
                                          outWidth: width, outHeight: height, flip: flip, into: out)
                }
            }
            let segmentation = labels.map {
                AreaResampling.majority($0, width: self.width, height: self.height, rect: rect,
                                        outWidth: width, outHeight: height, flip: flip)
            }
            return Example(image: image, segmentation: segmentation, sceneClass: sceneClass)
        }
    }

    /// The loaded pictures, shared by the splits of one folder.
    final class Storage: @unchecked Sendable { // immutable after init
        let pictures: [Picture]
        init(_ pictures: [Picture]) { self.pictures = pictures }
    }

    public let folder: String
    public let width: Int
    public let height: Int
    public let augmentation: Augmentation
    /// Names of the classes when `classesFromSubfolders` was asked for, by class index.
    public let classNames: [String]?
    /// Files that were left out, in path order.
    public let skipped: [SkippedFile]
    public let hasSegmentation: Bool
    public var classCount: Int? { classNames?.count }
    /// Which loaded pictures this dataset (or split) holds.
    public let pictureIndices: [Int]
    let storage: Storage

    public var count: Int { pictureIndices.count }

    /// The paths of the pictures, in example order.
    public var paths: [String] { pictureIndices.map { storage.pictures[$0].path } }

    /// Loads every PNG under `folder` for training at `width`×`height`.
    ///
    /// - Parameters:
    ///   - augmentation: how examples are cropped and mirrored (`.none` for evaluation).
    ///   - classesFromSubfolders: take each picture's class from its first-level subfolder;
    ///     pictures directly in `folder` are then skipped.
    ///   - warn: receives one line per skipped file (default: standard error).
    /// - Throws: `DatasetError` when the folder is missing, holds no PNG file, or no usable one,
    ///   or when a size or crop scale is impossible.
    public init(folder: String, width: Int, height: Int, augmentation: Augmentation = Augmentation(),
                classesFromSubfolders: Bool = false,
                warn: (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) throws {
        try self.init(folder: folder, width: width, height: height, augmentation: augmentation,
                      classesFromSubfolders: classesFromSubfolders, shrink: true, warn: warn)
    }

    /// Loads the folder; with `shrink` false every picture keeps its own resolution (`PhotoCrops`).
    init(folder: String, width: Int, height: Int, augmentation: Augmentation, classesFromSubfolders: Bool,
         shrink: Bool, warn: (String) -> Void) throws {
        guard width > 0, height > 0 else {
            throw DatasetError.invalidArgument("the training size must be positive, not \(width)×\(height)")
        }
        guard augmentation.minCropScale > 0, augmentation.minCropScale <= 1 else {
            throw DatasetError.invalidArgument(
                "the smallest crop scale must be in (0, 1], not \(augmentation.minCropScale)")
        }
        let files = try Self.pngFiles(in: folder)
        let mapSuffix = ".seg.png"
        let images = files.filter { !$0.lowercased().hasSuffix(mapSuffix) }
        let maps = Set(files.filter { $0.lowercased().hasSuffix(mapSuffix) }.map { $0.lowercased() })
        guard !images.isEmpty else { throw DatasetError.emptyFolder(folder) }
        let mapPath = { (image: String) -> String in String(image.dropLast(4)) + ".seg.png" }
        let withMaps = images.contains { maps.contains(mapPath($0).lowercased()) }

        // Classes from the first path component below the folder.
        let root = URL(fileURLWithPath: folder).standardizedFileURL.path
        func subfolder(_ path: String) -> String? {
            let relative = path.dropFirst(root.count).drop { $0 == "/" }
            let parts = relative.split(separator: "/")
            return parts.count > 1 ? String(parts[0]) : nil
        }
        let classNames = classesFromSubfolders ? Array(Set(images.compactMap(subfolder))).sorted() : nil

        // Decode and shrink every picture, in parallel; results in path order.
        let minScale = augmentation.minCropScale
        var results = [Result<Picture, LoadFailure>?](repeating: nil, count: images.count)
        results.withUnsafeMutableBufferPointer { results in
            Parallel.forEach(images.count) { i in
                let path = images[i]
                var sceneClass: Int?
                if let classNames {
                    guard let name = subfolder(path) else {
                        results[i] = .failure(LoadFailure(path: path, reason: "it is not in a class subfolder"))
                        return
                    }
                    sceneClass = classNames.firstIndex(of: name)
                }
                let map: String? = withMaps ? mapPath(path) : nil
                results[i] = Result {
                    try Self.load(path, mapPath: map, sceneClass: sceneClass, width: width, height: height,
                                  minCropScale: shrink ? minScale : nil)
                }.mapError { $0 as? LoadFailure ?? LoadFailure(path: path, reason: "\($0)") }
            }
        }
        var pictures: [Picture] = []
        var skipped: [SkippedFile] = []
        for result in results {
            switch result {
            case .success(let picture)?: pictures.append(picture)
            case .failure(let failure)?:
                skipped.append(SkippedFile(path: failure.path, reason: failure.reason))
                warn("warning: skipping \(failure.path): \(failure.reason)")
            case nil: break
            }
        }
        guard !pictures.isEmpty else {
            throw DatasetError.noUsableImages(folder: folder, skipped: skipped.count)
        }
        self.folder = folder
        self.width = width
        self.height = height
        self.augmentation = augmentation
        self.classNames = classNames
        self.skipped = skipped
        self.hasSegmentation = withMaps
        self.storage = Storage(pictures)
        self.pictureIndices = Array(pictures.indices)
    }

    private init(_ base: ImageFolderDataset, indices: [Int], augmentation: Augmentation) {
        folder = base.folder
        width = base.width
        height = base.height
        self.augmentation = augmentation
        classNames = base.classNames
        skipped = base.skipped
        hasSegmentation = base.hasSegmentation
        storage = base.storage
        pictureIndices = indices
    }

    /// A seeded split into a training set (with this dataset's augmentation) and a validation set
    /// (largest centred crops, no flips); `validationFraction` of the pictures are held out.
    public func split(validationFraction: Float, seed: UInt64) throws
        -> (train: ImageFolderDataset, validation: ImageFolderDataset) {
        let (train, validation) = try DatasetSplit.indices(count: count, validationFraction: validationFraction, seed: seed)
        return (ImageFolderDataset(self, indices: train.map { pictureIndices[$0] }, augmentation: augmentation),
                ImageFolderDataset(self, indices: validation.map { pictureIndices[$0] }, augmentation: .none))
    }

    /// The same pictures with another augmentation.
    public func with(augmentation: Augmentation) -> ImageFolderDataset {
        ImageFolderDataset(self, indices: pictureIndices, augmentation: augmentation)
    }

    public func example(at index: Int, rng: inout RandomGenerator) -> Example {
        precondition(index >= 0 && index < count, "example \(index) of \(count)") // invariant: a programming error, not user input
        let picture = storage.pictures[pictureIndices[index]]
        let rect = Self.crop(pictureWidth: picture.width, pictureHeight: picture.height, width: width,
                             height: height, augmentation: augmentation, rng: &rng)
        let flip = augmentation.flips && rng.uniform() < 0.5
        return picture.example(cut: rect, width: width, height: height, flip: flip)
    }

    // MARK: Loading

    struct LoadFailure: Error {
        var path: String
        var reason: String
    }

    /// The PNG files under `folder`, recursively, sorted by path (hidden files left out).
    static func pngFiles(in folder: String) throws -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw DatasetError.notAFolder(folder)
        }
        let root = URL(fileURLWithPath: folder).standardizedFileURL
        guard let walker = FileManager.default.enumerator(
            at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            throw DatasetError.notAFolder(folder)
        }
        var files: [String] = []
        for case let url as URL in walker where url.pathExtension.lowercased() == "png" {
            if (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true {
                files.append(url.standardizedFileURL.path)
            }
        }
        return files.sorted()
    }

    /// Reads one picture (and its map), shrinking both so the smallest crop keeps the training size
    /// (or not at all when `minCropScale` is nil).
    static func load(_ path: String, mapPath: String?, sceneClass: Int?, width: Int, height: Int,
                     minCropScale: Float?) throws -> Picture {
        let image: Tensor
        do { image = try PNGImage.read(path: path) } catch {
            throw LoadFailure(path: path, reason: "\(error)")
        }
        let (h, w) = (image.shape[1], image.shape[2])
        var pixels = image.withUnsafeBufferPointer { $0.map(quantize) }
        var labels: [UInt8]?
        if let mapPath {
            guard FileManager.default.fileExists(atPath: mapPath) else {
                throw LoadFailure(path: path, reason: "it has no segmentation map \((mapPath as NSString).lastPathComponent) while other pictures have one")
            }
            let map: LabelMap
            do { map = try PNGImage.readLabels(path: mapPath) } catch {
                throw LoadFailure(path: path, reason: "its segmentation map is unusable: \(error)")
            }
            guard map.width == w, map.height == h else {
                throw LoadFailure(path: path, reason: "its segmentation map is \(map.width)×\(map.height), the picture \(w)×\(h)")
            }
            labels = map.labels
        }
        // Shrink so the largest crop is about 1/minCropScale times the training size.
        let largest = largestCrop(pictureWidth: w, pictureHeight: h, width: width, height: height)
        let factor = minCropScale.map {
            Swift.max(Double(width) / Double($0) / Double(largest.width),
                      Double(height) / Double($0) / Double(largest.height))
        } ?? 1
        var (pw, ph) = (w, h)
        if factor < 1 {
            pw = Swift.max(1, Int((Double(w) * factor).rounded(.up)))
            ph = Swift.max(1, Int((Double(h) * factor).rounded(.up)))
            pixels = AreaResampling.resizeBytes(pixels, channels: 3, width: w, height: h, outWidth: pw, outHeight: ph)
            labels = labels.map {
                AreaResampling.majority($0, width: w, height: h, rect: .init(x: 0, y: 0, width: w, height: h),
                                        outWidth: pw, outHeight: ph, flip: false)
            }
        }
        return Picture(path: path, width: pw, height: ph, pixels: pixels, labels: labels, sceneClass: sceneClass)
    }

    // MARK: Crops

    /// The largest rectangle with the training size's aspect ratio that fits the picture.
    static func largestCrop(pictureWidth: Int, pictureHeight: Int, width: Int, height: Int) -> (width: Int, height: Int) {
        let aspect = Double(width) / Double(height)
        if Double(pictureWidth) / Double(pictureHeight) > aspect {
            return (Swift.max(1, Swift.min(pictureWidth, Int((Double(pictureHeight) * aspect).rounded()))), pictureHeight)
        }
        return (pictureWidth, Swift.max(1, Swift.min(pictureHeight, Int((Double(pictureWidth) / aspect).rounded()))))
    }

    /// The crop of one example: random scale and place with augmentation, else the largest centred.
    static func crop(pictureWidth: Int, pictureHeight: Int, width: Int, height: Int,
                     augmentation: Augmentation, rng: inout RandomGenerator) -> AreaResampling.Rect {
        let largest = largestCrop(pictureWidth: pictureWidth, pictureHeight: pictureHeight, width: width, height: height)
        let scale = augmentation.minCropScale >= 1 ? 1 : rng.uniform(augmentation.minCropScale, 1)
        let cw = Swift.max(1, Swift.min(largest.width, Int((Float(largest.width) * scale).rounded())))
        let ch = Swift.max(1, Swift.min(largest.height, Int((Float(largest.height) * scale).rounded())))
        if augmentation == .none {
            return .init(x: (pictureWidth - cw) / 2, y: (pictureHeight - ch) / 2, width: cw, height: ch)
        }
        let x = rng.int(below: pictureWidth - cw + 1), y = rng.int(below: pictureHeight - ch + 1)
        return .init(x: x, y: y, width: cw, height: ch)
    }
}
