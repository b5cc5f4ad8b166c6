import Foundation

/// Counts over adjacent bins, drawn as touching bars: the distribution of a set of values, or how
/// often each codebook entry is used.
///
/// ```swift
/// Histogram(title: "Codebook usage", xLabel: "code", counts: usage)   // one bin per code
/// Histogram(title: "Pixel values", xLabel: "value", values: pixels, bins: 50)
/// ```
public struct Histogram: Chart {
    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    /// Bin edges, one more than `counts`, increasing.
    public private(set) var edges: [Double]
    /// How many values fell into each bin.
    public private(set) var counts: [Double]
    public var width = 720.0, height = 440.0

    /// One bin per index: `counts[i]` is the height of the bin centred on i (e.g. code i's usage).
    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String = "count", counts: [Int]) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.counts = counts.map(Double.init)
        self.edges = (0...counts.count).map { Double($0) - 0.5 }
    }

    /// Values sorted into `bins` equal bins over `range` (by default from the smallest to the
    /// largest finite value); values outside the range and non-finite values are not counted.
    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String = "count",
                values: [Double], bins: Int = 30, range: ClosedRange<Double>? = nil) {
        precondition(bins >= 1, "a histogram needs at least one bin") // invariant: a programming error, not user input
        let finite = values.filter(\.isFinite)
        var low = range?.lowerBound ?? finite.min() ?? 0
        var high = range?.upperBound ?? finite.max() ?? 1
        if high <= low { (low, high) = (low - 0.5, high + 0.5) }
        let width = (high - low) / Double(bins)
        var counts = [Double](repeating: 0, count: bins)
        for v in finite where v >= low && v <= high {
            counts[min(bins - 1, Int((v - low) / width))] += 1
        }
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.counts = counts
        self.edges = (0...bins).map { low + Double($0) * width }
    }

    public var svg: String {
        let xAxis = Axis(scale: .linear, values: [edges.first ?? 0, edges.last ?? 1], nice: false)
        let yAxis = Axis(scale: .linear, values: counts, includeZero: true)
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty, hasSubtitle: subtitle != nil,
                               yTickLabels: yAxis.labels, right: 0)
        var svg = SVGWriter(width: width, height: height)
        frame.drawTitle(&svg, title: title, subtitle: subtitle)
        frame.drawXAxis(&svg, xAxis, label: xLabel)
        frame.drawYAxis(&svg, yAxis, label: yLabel)
        // One filled outline for all bins: up to each bin's height, across, on to the next.
        let base = frame.y(yAxis.fraction(0) ?? 0)
        var d = "M\(n(frame.x(0))) \(n(base))"
        for (i, count) in counts.enumerated() {
            let top = frame.y(yAxis.fraction(count) ?? 0)
            d += "V\(n(top))H\(n(frame.x(xAxis.fraction(edges[i + 1]) ?? 1)))"
        }
        d += "V\(n(base))Z"
        svg.path(d, fill: Palette.categorical.color(0).hex, stroke: "#1f3f6e", strokeWidth: counts.count > 200 ? 0.3 : 0.8)
        frame.drawAxisLines(&svg)
        return svg.document
    }
}
