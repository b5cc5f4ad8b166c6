import Tensors

/// Images laid out in rows and columns on a background, for sample sheets and reconstructions.
///
/// Images are [3, H, W] or [1, H, W] (gray, repeated into RGB) in [-1, 1]. Cells take the size of
/// the largest image; a smaller one sits centred in its cell. Cells are filled row by row and
/// `padding` pixels of background surround every cell, so the result is
/// [3, rows·(H + p) + p, columns·(W + p) + p].
public struct ImageGrid: Sendable {
    /// Images per row.
    public var columns: Int
    /// Background pixels between cells and around the edge.
    public var padding: Int
    /// The colour of the padding and of empty cells.
    public var background: RGBColor

    public init(columns: Int, padding: Int = 2, background: RGBColor = .white) {
        precondition(columns >= 1 && padding >= 0, "grid of \(columns) columns, padding \(padding)") // invariant: a programming error, not user input
        self.columns = columns
        self.padding = padding
        self.background = background
    }

    /// The grid of `images`, left to right, top to bottom: [3, H', W'].
    public func compose(_ images: [Tensor]) -> Tensor {
        for image in images {
            precondition(image.rank == 3 && (image.shape[0] == 1 || image.shape[0] == 3),  // invariant: a programming error, not user input
                         "grid images must be [3, H, W] or [1, H, W], not \(image.shape)")
        }
        let cellH = images.map { $0.shape[1] }.max() ?? 0
        let cellW = images.map { $0.shape[2] }.max() ?? 0
        let cols = max(1, min(columns, images.count))
        let rows = (images.count + columns - 1) / columns
        let height = rows * (cellH + padding) + padding
        let width = cols * (cellW + padding) + padding
        let canvas = Canvas(height: height, width: width, background: background)
        for (n, image) in images.enumerated() {
            let (row, col) = (n / columns, n % columns)
            let top = padding + row * (cellH + padding) + (cellH - image.shape[1]) / 2
            let left = padding + col * (cellW + padding) + (cellW - image.shape[2]) / 2
            canvas.place(image, top: top, left: left)
        }
        return canvas.tensor
    }

    /// The grid of a batch [B, C, H, W], one cell per item.
    public func compose(batch: Tensor) -> Tensor {
        precondition(batch.rank == 4, "a batch must be [B, C, H, W], not \(batch.shape)") // invariant: a programming error, not user input
        return compose((0..<batch.shape[0]).map { batch.slice(axis: 0, $0..<($0 + 1)).reshaped(Array(batch.shape.dropFirst())) })
    }
}

/// Images next to each other in one row, tops aligned (heights may differ): a comparison strip
/// such as input | VQ-VAE | VQGAN.
public func sideBySide(_ images: [Tensor], padding: Int = 2, background: RGBColor = .white) -> Tensor {
    for image in images {
        precondition(image.rank == 3 && (image.shape[0] == 1 || image.shape[0] == 3),  // invariant: a programming error, not user input
                     "images must be [3, H, W] or [1, H, W], not \(image.shape)")
    }
    let height = (images.map { $0.shape[1] }.max() ?? 0) + 2 * padding
    let width = images.reduce(padding) { $0 + $1.shape[2] + padding }
    let canvas = Canvas(height: height, width: width, background: background)
    var left = padding
    for image in images {
        canvas.place(image, top: padding, left: left)
        left += image.shape[2] + padding
    }
    return canvas.tensor
}

/// Nearest-neighbour enlargement by a whole factor, so that small images and code maps show
/// their pixels as crisp squares: [C, H, W] → [C, sH, sW] (or [B, C, H, W] → [B, C, sH, sW]).
public func upscaled(_ image: Tensor, by factor: Int) -> Tensor {
    precondition(factor >= 1 && (image.rank == 3 || image.rank == 4),  // invariant: a programming error, not user input
                 "upscaled(by: \(factor)) of \(image.shape)")
    let batch = image.rank == 4 ? image.detached() : image.detached().reshaped([1] + image.shape)
    let big = withNoGrad { upsampleNearest(batch, scale: factor) }
    return image.rank == 4 ? big : big.reshaped(Array(big.shape.dropFirst()))
}

/// An RGB picture [3, H, W] being assembled from smaller ones.
final class Canvas {
    let height: Int, width: Int
    let tensor: Tensor

    init(height: Int, width: Int, background: RGBColor) {
        self.height = height
        self.width = width
        let rgb = background.tensorValues
        let plane = height * width
        tensor = Tensor.make([3, height, width]) { out in
            for c in 0..<3 { out[c * plane..<(c + 1) * plane].update(repeating: rgb[c]) }
        }
    }

    /// Copies `image` ([3, h, w] or [1, h, w]) with its top-left corner at (top, left).
    func place(_ image: Tensor, top: Int, left: Int) {
        let (channels, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        precondition(top >= 0 && left >= 0 && top + h <= height && left + w <= width,  // invariant: a programming error, not user input
                     "image \(image.shape) at (\(top), \(left)) outside \(height)×\(width)")
        image.withUnsafeBufferPointer { src in
            tensor.withUnsafeMutableBufferPointer { dst in
                for c in 0..<3 {
                    let from = src.baseAddress! + (channels == 1 ? 0 : c) * h * w
                    let to = dst.baseAddress! + c * height * width + top * width + left
                    for y in 0..<h { (to + y * width).update(from: from + y * w, count: w) }
                }
            }
        }
    }
}
