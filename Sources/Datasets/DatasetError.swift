/// Errors a user can cause through the data they hand in: each message names the file or folder.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// The folder does not exist or is not a directory.
    case notAFolder(String)
    /// The folder has no PNG file at all.
    case emptyFolder(String)
    /// The folder has PNG files but none could be used (all unreadable or unpaired).
    case noUsableImages(folder: String, skipped: Int)
    /// A segmentation map that does not fit its picture.
    case mismatchedSegmentation(String)
    /// An impossible request: sizes, fractions, batch sizes.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .notAFolder(let path): "\(path) is not a folder"
        case .emptyFolder(let path): "\(path) holds no PNG images (searched recursively)"
        case .noUsableImages(let folder, let skipped):
            "\(folder) holds no usable PNG image (\(skipped) skipped, see the warnings above)"
        case .mismatchedSegmentation(let message): message
        case .invalidArgument(let message): message
        }
    }
}
