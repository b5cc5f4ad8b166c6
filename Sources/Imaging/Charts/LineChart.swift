/// Curves over a shared x axis: loss curves, timings against resolution, and the like.
///
/// ```swift
/// let chart = LineChart(title: "Training loss", xLabel: "step", yLabel: "loss", yScale: .log,
///                       series: [.init(name: "VQ-VAE", values: losses)])
/// try chart.write(to: "Figures/02-vqvae/loss.svg")
/// ```
/// Each series gets a colour from `Palette.categorical` and a line in the legend. Points that
/// cannot be shown (NaN, infinities, values ≤ 0 on a log axis) leave a gap in the line. Series
/// of at most 30 points also get a dot at each point.
public struct LineChart: Chart {
    /// One named curve.
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        /// Drawn dashed, e.g. for a validation curve beside its training curve.
        public var dashed: Bool
        /// The palette slot of the series' colour; nil takes the series' position. Two series with
        /// one slot share a colour, e.g. a measurement and its dashed extrapolation.
        public var colorSlot: Int?

        public init(name: String, points: [(x: Double, y: Double)], dashed: Bool = false, colorSlot: Int? = nil) {
            self.name = name
            self.points = points
            self.dashed = dashed
            self.colorSlot = colorSlot
        }

        /// Values at x = 0, 1, 2, …
        public init(name: String, values: [Double], dashed: Bool = false, colorSlot: Int? = nil) {
            self.init(name: name, points: values.enumerated().map { (Double($0.offset), $0.element) },
                      dashed: dashed, colorSlot: colorSlot)
        }

        /// Values `y` at positions `x` (paired up to the shorter of the two).
        public init(name: String, x: [Double], y: [Double], dashed: Bool = false, colorSlot: Int? = nil) {
            self.init(name: name, points: zip(x, y).map { ($0, $1) }, dashed: dashed, colorSlot: colorSlot)
        }
    }

    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var xScale: AxisScale
    public var yScale: AxisScale
    /// The y interval to show; by default it covers all points. Set it to cut off a spike (the
    /// first steps of a loss curve); lines leaving it are clipped.
    public var yRange: ClosedRange<Double>?
    public var series: [Series]
    public var width = 720.0, height = 440.0

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String,
                xScale: AxisScale = .linear, yScale: AxisScale = .linear,
                yRange: ClosedRange<Double>? = nil, series: [Series]) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.xScale = xScale
        self.yScale = yScale
        self.yRange = yRange
        self.series = series
    }

    public var svg: String {
        let xAxis = Axis(scale: xScale, values: series.flatMap { $0.points.map(\.x) }, nice: false)
        let yAxis = Axis(scale: yScale, values: series.flatMap { $0.points.map(\.y) }, fixed: yRange)
        let colors = series.indices.map { Palette.categorical.color(series[$0].colorSlot ?? $0).hex }
        let legend = zip(series, colors).filter { !$0.0.name.isEmpty }
            .map { LegendEntry(name: $0.name, color: $1, mark: .line(dashed: $0.dashed)) }
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty, hasSubtitle: subtitle != nil,
                               yTickLabels: yAxis.labels, right: Legend.width(legend))
        var svg = SVGWriter(width: width, height: height)
        frame.drawTitle(&svg, title: title, subtitle: subtitle)
        frame.drawXAxis(&svg, xAxis, label: xLabel)
        frame.drawYAxis(&svg, yAxis, label: yLabel)
        frame.defineClip(&svg, id: "plot-area")
        svg.raw("<g clip-path=\"url(#plot-area)\">")
        for (s, color) in zip(series, colors) {
            var d = "", penDown = false
            var dots: [(Double, Double)] = []
            for p in s.points {
                guard let fx = xAxis.fraction(p.x), let fy = yAxis.fraction(p.y) else { penDown = false; continue }
                let (px, py) = (frame.x(fx), frame.y(fy))
                d += (penDown ? "L" : "M") + n(px) + " " + n(py)
                penDown = true
                dots.append((px, py))
            }
            if !d.isEmpty { svg.path(d, stroke: color, strokeWidth: 2, dashed: s.dashed) }
            if s.points.count <= 30 {
                for (px, py) in dots { svg.circle(x: px, y: py, radius: 3, fill: color) }
            }
        }
        svg.raw("</g>")
        frame.drawAxisLines(&svg)
        Legend.draw(&svg, legend, x: frame.plotX + frame.plotW + 16, y: frame.plotY + 8)
        return svg.document
    }
}
