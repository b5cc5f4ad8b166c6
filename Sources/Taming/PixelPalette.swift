import Tensors

/// A palette of K colours that turns pixels into tokens, as Image GPT does (Chen et al., 2020,
/// §3.1: 512 colours by k-means on RGB values). A picture [3, H, W] becomes H·W indices into the
/// palette in raster order, and indices become a picture again by looking their colours up.
///
/// Colours are RGB in [-1, 1] (the library's picture range), sorted from dark to light by luma,
/// so index order means something when a palette is drawn.
public struct PixelPalette: Equatable, Sendable {
    /// The colours, [K, 3] row-major.
    public let colors: [Float]

    /// A palette of the given colours ([K, 3] row-major RGB in [-1, 1], K ≥ 1), sorted by luma.
    public init(colors: [Float]) {
        precondition(colors.count >= 3 && colors.count % 3 == 0, "palette of \(colors.count) values") // invariant: a programming error, not user input
        let k = colors.count / 3
        func luma(_ i: Int) -> Float { 0.299 * colors[3 * i] + 0.587 * colors[3 * i + 1] + 0.114 * colors[3 * i + 2] }
        let order = (0..<k).sorted { (luma($0), $0) < (luma($1), $1) }
        self.colors = order.flatMap { colors[(3 * $0)..<(3 * $0 + 3)] }
    }

    /// Number of colours K.
    public var count: Int { colors.count / 3 }

    /// The colours as a tensor [K, 3].
    public var tensor: Tensor { Tensor(shape: [count, 3], colors) }

    /// Fits `count` colours to the pixels of `images` [B, 3, H, W] by k-means (k-means++ seeding,
    /// then Lloyd's iterations), on at most `samplePixels` pixels drawn at random.
    public static func fit(images: Tensor, count k: Int, samplePixels: Int = 50_000, iterations: Int = 15,
                           rng: inout RandomGenerator) -> PixelPalette {
        let pixels = rgbRows(images)                                       // [N·H·W, 3]
        let n = pixels.count / 3
        precondition(n >= k && k >= 1, "\(n) pixels cannot make \(k) colours") // invariant: a programming error, not user input
        var sample: [Float]
        if n <= samplePixels {
            sample = pixels
        } else {
            sample = []
            sample.reserveCapacity(3 * samplePixels)
            for _ in 0..<samplePixels {
                let i = rng.int(below: n)
                sample += pixels[(3 * i)..<(3 * i + 3)]
            }
        }
        let centres = kMeans(sample, count: sample.count / 3, dimension: 3, clusters: k,
                             iterations: iterations, rng: &rng)
        return PixelPalette(colors: centres)
    }

    /// The index of the nearest colour for every pixel of `images` [B, 3, H, W]: [B][H·W] in
    /// raster order (row by row, left to right).
    public func indices(of images: Tensor) -> [[Int]] {
        let b = images.shape[0], plane = images.shape[2] * images.shape[3]
        let nearest = pairwiseSquaredDistances(Tensor(shape: [b * plane, 3], Self.rgbRows(images)), tensor)
            .argminLast()
        return (0..<b).map { Array(nearest[($0 * plane)..<(($0 + 1) * plane)]) }
    }

    /// Pictures [B, 3, H, W] from palette indices [B][H·W] in raster order.
    public func images(from indices: [[Int]], height: Int, width: Int) -> Tensor {
        let plane = height * width
        return Tensor.make([indices.count, 3, height, width]) { out in
            for (n, row) in indices.enumerated() {
                precondition(row.count == plane, "\(row.count) indices for \(height)×\(width)") // invariant: a programming error, not user input
                for (p, index) in row.enumerated() {
                    precondition(index >= 0 && index < count, "colour \(index) of \(count)") // invariant: a programming error, not user input
                    for c in 0..<3 { out[(n * 3 + c) * plane + p] = colors[3 * index + c] }
                }
            }
        }
    }

    /// `images` [B, 3, H, W] with every pixel replaced by its nearest palette colour.
    public func quantized(_ images: Tensor) -> Tensor {
        self.images(from: indices(of: images), height: images.shape[2], width: images.shape[3])
    }

    /// A short hexadecimal digest of the colours (FNV-1a over their bits), to name files that
    /// depend on this exact palette.
    public var fingerprint: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for value in colors {
            for shift in stride(from: 0, to: 32, by: 8) {
                hash = (hash ^ UInt64((value.bitPattern >> UInt32(shift)) & 0xFF)) &* 0x100_0000_01B3
            }
        }
        return String(hash >> 32, radix: 16)
    }

    /// Pixels of [B, 3, H, W] as RGB rows [B·H·W, 3].
    static func rgbRows(_ images: Tensor) -> [Float] {
        precondition(images.rank == 4 && images.shape[1] == 3, "pictures must be [B, 3, H, W], not \(images.shape)") // invariant: a programming error, not user input
        let b = images.shape[0], plane = images.shape[2] * images.shape[3]
        var rows = [Float](repeating: 0, count: b * plane * 3)
        images.withUnsafeBufferPointer { src in
            for n in 0..<b {
                for c in 0..<3 {
                    let from = (n * 3 + c) * plane
                    for p in 0..<plane { rows[(n * plane + p) * 3 + c] = src[from + p] }
                }
            }
        }
        return rows
    }
}
