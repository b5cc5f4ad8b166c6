/// A map of small integer labels, one per pixel, row-major: a segmentation map whose values are
/// class indices, not colours (so it is never scaled or gamma-corrected).
public struct LabelMap: Equatable, Sendable {
    public var width: Int
    public var height: Int
    /// `width × height` labels, top row first.
    public var labels: [UInt8]

    public init(width: Int, height: Int, labels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && labels.count == width * height,  // invariant: a programming error, not user input
                     "\(labels.count) labels for a \(width)×\(height) map")
        self.width = width
        self.height = height
        self.labels = labels
    }

    /// The label at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> UInt8 {
        get { labels[y * width + x] }
        set { labels[y * width + x] = newValue }
    }

    /// The labels as `Int`s, e.g. as targets for a cross-entropy loss.
    public var indices: [Int] { labels.map(Int.init) }
}
