import Tensors

/// Colours for categories: segmentation classes, scene classes, chart series, codebook entries.
///
/// The first twenty indices get hand-picked colours that are easy to tell apart; every index
/// beyond them (codebooks have 1024 or 8192 entries) gets a colour derived from a hash of the
/// index, so the same code always has the same colour in every figure.
public struct Palette: Sendable {
    /// The hand-picked colours, used for indices below `colors.count`.
    public var colors: [RGBColor]

    public init(colors: [RGBColor]) { self.colors = colors }

    /// Twenty distinct colours, strong ones first.
    public static let categorical = Palette(colors: [
        0x3B6FB6, 0xE8833A, 0x4FA658, 0xD1495B, 0x8E6CBF, 0x9C6B4E, 0xDE7FB8, 0x808080, 0xB8BD3C,
        0x2FB5C6, 0x173F7A, 0xF2C14E, 0x1F7A4D, 0x8C1C3A, 0xC9B3E6, 0x66D1A4, 0xF4A6A0, 0x4D4D4D,
        0xA0C4EA, 0xB5651D,
    ].map { RGBColor(hex: $0) })

    /// The colour of category `index`: hand-picked below `colors.count`, hashed above.
    public func color(_ index: Int) -> RGBColor {
        index >= 0 && index < colors.count ? colors[index] : Palette.codeColor(index)
    }

    /// A colour for any non-negative index (negative indices, e.g. "ignore", are mid gray).
    ///
    /// Hue advances by the golden ratio from one index to the next, so neighbouring indices
    /// differ strongly; lightness and chroma come from a hash of the index, within ranges that
    /// stay pleasant (OKLab lightness 0.5–0.85, moderate chroma).
    public static func codeColor(_ index: Int) -> RGBColor {
        guard index >= 0 else { return RGBColor(gray: 0.5) }
        let bits = mix(UInt64(index))
        let u1 = Double(bits & 0xFFFF) / 65536, u2 = Double((bits >> 16) & 0xFFFF) / 65536
        let u3 = Double((bits >> 32) & 0xFFFF) / 65536
        let hue = (Double(index) * 0.6180339887498949 + 0.15 * u3).truncatingRemainder(dividingBy: 1)
        let lightness = 0.5 + 0.35 * u1
        var chroma = 0.07 + 0.09 * u2
        // Pull chroma in until the colour fits in sRGB.
        for _ in 0..<12 {
            if let color = OKLab.color(lightness: lightness, chroma: chroma, hue: hue) { return color.quantized }
            chroma *= 0.8
        }
        return RGBColor(gray: Float(lightness)).quantized
    }

    /// SplitMix64's finaliser: a well-mixed 64-bit hash of `x`.
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A label map as a picture: [3, H, W] in [-1, 1], label i painted `palette.color(i)`.
public func colorize(labels: [UInt8], width: Int, height: Int, palette: Palette = .categorical) -> Tensor {
    precondition(labels.count == width * height, "\(labels.count) labels for \(width)×\(height)") // invariant: a programming error, not user input
    let table = (0..<256).map { palette.color($0) }
    return labels.withUnsafeBufferPointer { labels in
        paint(count: labels.count, height: height, width: width) { table[Int(labels[$0])] }
    }
}

/// A label map as a picture, coloured with `palette`.
public func colorize(_ map: LabelMap, palette: Palette = .categorical) -> Tensor {
    colorize(labels: map.labels, width: map.width, height: map.height, palette: palette)
}

/// A map of code indices (a VQ model's tokens) as a picture: [3, H, W] in [-1, 1], each code in
/// its hashed `Palette.codeColor`, so equal codes look equal across figures.
public func colorize(codes: [Int], width: Int, height: Int) -> Tensor {
    precondition(codes.count == width * height, "\(codes.count) codes for \(width)×\(height)") // invariant: a programming error, not user input
    var table: [Int: RGBColor] = [:]
    for code in Set(codes) { table[code] = Palette.codeColor(code) }
    return paint(count: codes.count, height: height, width: width) { table[codes[$0]]! } // invariant: every code is in the table
}

/// A [3, H, W] tensor in [-1, 1] whose pixel i (row-major) has the colour `colorOf(i)`.
func paint(count: Int, height: Int, width: Int, _ colorOf: (Int) -> RGBColor) -> Tensor {
    precondition(count == height * width, "\(count) colours for \(height)×\(width)") // invariant: a programming error, not user input
    return Tensor.make([3, height, width]) { out in
        for i in 0..<count {
            let color = colorOf(i)
            out[i] = 2 * color.red - 1
            out[count + i] = 2 * color.green - 1
            out[2 * count + i] = 2 * color.blue - 1
        }
    }
}
