/// Named bars, one per category: metrics of two models side by side, timings per chapter, …
///
/// ```swift
/// BarChart(title: "Reconstruction error", xLabel: "model", yLabel: "L1",
///          bars: [.init(label: "VQ-VAE", value: 0.081), .init(label: "VQGAN", value: 0.064)])
/// ```
/// Bars start at zero on a linear axis (at the bottom of the axis on a log one). With up to 16
/// bars each shows its value; long or many category names are slanted.
public struct BarChart: Chart {
    public struct Bar {
        public var label: String
        public var value: Double
        /// The bar's colour; by default the first categorical colour.
        public var color: RGBColor?

        public init(label: String, value: Double, color: RGBColor? = nil) {
            self.label = label
            self.value = value
            self.color = color
        }
    }

    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var yScale: AxisScale
    public var bars: [Bar]
    public var width = 720.0, height = 440.0

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String,
                yScale: AxisScale = .linear, bars: [Bar]) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.yScale = yScale
        self.bars = bars
    }

    public var svg: String {
        let yAxis = Axis(scale: yScale, values: bars.map(\.value), includeZero: yScale == .linear)
        let labels = bars.map { $0.label.count > 24 ? String($0.label.prefix(23)) + "…" : $0.label }
        let longest = labels.map { textWidth($0, size: ChartFrame.tickSize) }.max() ?? 0
        // First guess of the band width, to decide whether names must be slanted.
        let roughBand = (width - 140) / Double(max(1, bars.count))
        let slanted = longest > roughBand * 0.95
        let labelEvery = max(1, Int((Double(bars.count) * 14 / (width - 140)).rounded(.up)))
        // Names slanted at 35° reach left by cos 35° of their length from the first bar's centre.
        let firstName = slanted ? textWidth(labels.first ?? "", size: ChartFrame.tickSize) * 0.82 - roughBand / 2 + 8 : 0
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty, hasSubtitle: subtitle != nil,
                               yTickLabels: yAxis.labels, right: 0, bottomExtra: slanted ? longest * 0.6 : 0,
                               leftExtra: firstName)
        var svg = SVGWriter(width: width, height: height)
        frame.drawTitle(&svg, title: title, subtitle: subtitle)
        frame.drawYAxis(&svg, yAxis, label: yLabel)
        let band = frame.plotW / Double(max(1, bars.count))
        let barWidth = min(band * 0.7, 110)
        let base = frame.y(yAxis.fraction(yScale == .linear ? 0 : yAxis.lower) ?? 0)
        for (i, bar) in bars.enumerated() {
            let center = frame.plotX + (Double(i) + 0.5) * band
            if let f = yAxis.fraction(bar.value) {
                let top = frame.y(f)
                let color = (bar.color ?? Palette.categorical.color(0)).hex
                svg.rect(x: center - barWidth / 2, y: min(top, base), width: barWidth, height: Swift.abs(base - top), fill: color)
                if bars.count <= 16 {
                    let above = bar.value >= 0 || yScale == .log
                    svg.text(ChartNumber.short(bar.value), x: center, y: above ? top - 5 : top + 14,
                             anchor: .middle, size: ChartFrame.tickSize, fill: "#333333")
                }
            }
            guard i % labelEvery == 0 else { continue }
            let labelY = frame.plotY + frame.plotH + 18
            if slanted {
                svg.text(labels[i], x: center, y: labelY, anchor: .end, size: ChartFrame.tickSize, rotate: -35)
            } else {
                svg.text(labels[i], x: center, y: labelY, anchor: .middle, size: ChartFrame.tickSize)
            }
        }
        frame.drawXLabel(&svg, xLabel, below: slanted ? longest * 0.6 : 0)
        frame.drawAxisLines(&svg)
        return svg.document
    }
}
