import Imaging
import Tensors

/// A segmentation map drawn by the user, read from a PNG of label indices: an 8-bit (or 1–4-bit)
/// grayscale PNG whose stored gray level at each pixel is a class index (for the landscapes, a
/// `SemanticClass` raw value: 0 sky, 1 cloud, 2 mountain, 3 snow, 4 grass, 5 tree, 6 water,
/// 7 sand, 8 rock), or a palette PNG whose palette indices are the classes (as
/// `PNGImage.writeLabels` and `write` write them). Gray level 6 is a very dark gray, not a
/// visible colour: draw with the gray values 0…8, or start from a palette map this workbook wrote
/// and paint with its palette's colours.
///
/// A map may have the model's size exactly, or be a whole multiple of it (say 128×128 for a
/// 32×32 model, easier to draw); a larger map is reduced by majority vote over each k×k block
/// (ties to the smaller class).
public enum SegmentationMapFile {
    /// Reads the map at `path` as labels [H·W], row-major, for a `width`×`height` model with
    /// `classes` classes.
    /// - Throws: `SegmentationMapError` naming the file: missing, not a label image, the wrong
    ///   size, or a label that is not a class (with its value and pixel position).
    public static func read(path: String, width: Int, height: Int,
                            classes: Int = SemanticClass.count) throws -> [UInt8] {
        let map: LabelMap
        do {
            map = try PNGImage.readLabels(path: path)
        } catch let error as ImagingError {
            if case .unreadable(_, let reason) = error, reason == "no such file" {
                throw SegmentationMapError.missing(path: path)
            }
            throw SegmentationMapError.notALabelImage(path: path, reason: error.description)
        }
        return try labels(of: map, path: path, width: width, height: height, classes: classes)
    }

    /// Checks a decoded map and brings it to `width`×`height` (see `read`).
    static func labels(of map: LabelMap, path: String, width: Int, height: Int, classes: Int) throws -> [UInt8] {
        let k = map.width / max(width, 1)
        guard width > 0, height > 0, k >= 1, map.width == k * width, map.height == k * height else {
            throw SegmentationMapError.wrongSize(path: path, width: map.width, height: map.height,
                                                 expectedWidth: width, expectedHeight: height)
        }
        if let bad = map.labels.firstIndex(where: { Int($0) >= classes }) {
            throw SegmentationMapError.labelOutOfRange(path: path, label: Int(map.labels[bad]), x: bad % map.width,
                                                       y: bad / map.width, classes: classes)
        }
        guard k > 1 else { return map.labels }
        return majorityLabels(map.labels, width: map.width, height: map.height, cell: k)
    }

    /// Writes labels [H·W] as a palette PNG whose palette indices are the labels (each label a
    /// distinct colour of `Palette.categorical`, so the file opens as a readable picture): a file
    /// `read` reads back exactly, for a user to start drawing from in an editor that keeps the
    /// palette (indexed mode). Atomic, creates the folder.
    public static func write(_ labels: [UInt8], width: Int, height: Int, to path: String) throws {
        guard width > 0, height > 0, labels.count == width * height else {
            throw ImagingError.invalidImage(path: path, reason: "\(labels.count) labels do not make a \(width)×\(height) map")
        }
        try PNGImage.writeLabels(LabelMap(width: width, height: height, labels: labels), to: path)
    }
}

/// What is wrong with a user's segmentation map file; every message names the file.
public enum SegmentationMapError: Error, Equatable, CustomStringConvertible {
    /// No file at the path.
    case missing(path: String)
    /// Not a PNG, damaged, or a PNG of colours (RGB, gray + alpha, 16-bit) rather than labels.
    case notALabelImage(path: String, reason: String)
    /// The map's size is neither the model's nor a whole multiple of it.
    case wrongSize(path: String, width: Int, height: Int, expectedWidth: Int, expectedHeight: Int)
    /// A pixel's value is not a class; `x`, `y` from the top-left corner.
    case labelOutOfRange(path: String, label: Int, x: Int, y: Int, classes: Int)

    public var description: String {
        switch self {
        case .missing(let path):
            return "segmentation map \(path) does not exist"
        case .notALabelImage(let path, let reason):
            return "segmentation map \(path) is not a grayscale or palette PNG of class indices (\(reason))"
        case .wrongSize(let path, let width, let height, let expectedWidth, let expectedHeight):
            return "segmentation map \(path) is \(width)×\(height); the model needs \(expectedWidth)×\(expectedHeight) "
                + "(or a whole multiple, such as \(4 * expectedWidth)×\(4 * expectedHeight))"
        case .labelOutOfRange(let path, let label, let x, let y, let classes):
            return "segmentation map \(path) has label \(label) at pixel (x \(x), y \(y)); "
                + "labels must be class indices 0…\(classes - 1)"
        }
    }
}
