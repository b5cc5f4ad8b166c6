import Foundation

/// What went wrong reading or writing an image or chart file. Every case names the file, so a
/// chapter can print `error: \(error)` and the learner knows which file to look at.
public enum ImagingError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be read at all (missing, a folder, no permission).
    case unreadable(path: String, reason: String)
    /// The file has no bytes.
    case empty(path: String)
    /// The file does not start with the PNG signature.
    case notPNG(path: String)
    /// libpng rejected the data: bad chunk, bad checksum, truncated stream, …
    case corrupt(path: String, reason: String)
    /// The declared size is over the pixel limit; refused before anything large is allocated.
    case tooLarge(path: String, width: Int, height: Int, limit: Int)
    /// A valid PNG of a kind this reader does not accept here (e.g. an RGB file as a label map).
    case unsupported(path: String, reason: String)
    /// The data given to a writer cannot become an image (wrong shape, empty).
    case invalidImage(path: String, reason: String)
    /// The file or its folder could not be written.
    case unwritable(path: String, reason: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .empty(let path), .notPNG(let path), .corrupt(let path, _),
             .tooLarge(let path, _, _, _), .unsupported(let path, _), .invalidImage(let path, _),
             .unwritable(let path, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        case .empty(let path): return "\(path) is empty (0 bytes), not a PNG image"
        case .notPNG(let path): return "\(path) is not a PNG file (it does not start with the PNG signature)"
        case .corrupt(let path, let reason): return "\(path) is a damaged PNG file: \(reason)"
        case .tooLarge(let path, let width, let height, let limit):
            return "\(path) declares \(width)×\(height) pixels, more than the limit of \(limit) pixels"
        case .unsupported(let path, let reason): return "\(path): \(reason)"
        case .invalidImage(let path, let reason): return "cannot write \(path): \(reason)"
        case .unwritable(let path, let reason): return "cannot write \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
