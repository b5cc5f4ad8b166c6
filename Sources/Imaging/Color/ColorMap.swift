import Tensors

/// A continuous colour scale for heat maps: evenly spaced colour stops from the lowest value (0)
/// to the highest (1), linearly interpolated between stops.
public struct ColorMap: Sendable {
    /// The stops, low to high; at least two.
    public var stops: [RGBColor]

    public init(stops: [RGBColor]) {
        precondition(stops.count >= 2, "a colour map needs two stops") // invariant: a programming error, not user input
        self.stops = stops
    }

    /// Dark blue-violet through teal and green to yellow: lightness rises steadily, so the order of
    /// values reads correctly in colour and in gray print. Our own five stops, in the spirit of
    /// matplotlib's viridis.
    public static let viridisLike = ColorMap(stops: [
        0x450A57, 0x3A4D8C, 0x23898C, 0x52C46A, 0xF7E52A,
    ].map { RGBColor(hex: $0) })

    /// Black to white.
    public static let grays = ColorMap(stops: [.black, .white])

    /// Blue below the middle, white at it, red above: for signed values such as differences.
    public static let blueWhiteRed = ColorMap(stops: [
        0x2A4D9B, 0x8FAFD9, 0xF7F7F7, 0xE59A84, 0xB2182B,
    ].map { RGBColor(hex: $0) })

    /// The colour at `t` in 0…1 (clamped); NaN is mid gray.
    public func color(at t: Double) -> RGBColor {
        guard !t.isNaN else { return RGBColor(gray: 0.5) }
        let x = min(1, max(0, t)) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2)
        return stops[i].mixed(with: stops[i + 1], amount: Float(x - Double(i)))
    }

    /// A matrix as a picture: [H, W] values → [3, H, W] in [-1, 1]. `range` maps to the ends of
    /// the scale; by default the smallest and largest finite values.
    public func image(_ values: Tensor, range: ClosedRange<Float>? = nil) -> Tensor {
        precondition(values.rank == 2, "a heat map needs [H, W] values, not \(values.shape)") // invariant: a programming error, not user input
        return values.withUnsafeBufferPointer { data in
            let finite = data.filter { $0.isFinite }
            let low = range?.lowerBound ?? finite.min() ?? 0
            let high = range?.upperBound ?? finite.max() ?? 1
            let span = high > low ? high - low : 1
            return paint(count: data.count, height: values.shape[0], width: values.shape[1]) {
                color(at: Double((data[$0] - low) / span))
            }
        }
    }
}
