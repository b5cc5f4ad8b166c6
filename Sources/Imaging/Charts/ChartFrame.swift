/// The layout every chart shares: title (and subtitle) on top, the plot area with its axes, axis
/// labels below and to the left, and room on the right for a legend or colour bar.
struct ChartFrame {
    let width: Double, height: Double
    /// The plot area: where data is drawn.
    let plotX: Double, plotY: Double, plotW: Double, plotH: Double

    static let titleSize = 16.0, labelSize = 13.0, tickSize = 11.0
    static let axisColor = "#444444", gridColor = "#e6e6e6"

    /// `right` is the room kept right of the plot (legend, colour bar); `bottomExtra` and
    /// `leftExtra` make room for slanted category names.
    init(width: Double, height: Double, hasTitle: Bool, hasSubtitle: Bool, yTickLabels: [String],
         right: Double, bottomExtra: Double = 0, leftExtra: Double = 0) {
        self.width = width
        self.height = height
        let top: Double = 14 + (hasTitle ? 24 : 0) + (hasSubtitle ? 18 : 0) + 8
        let tickWidth = yTickLabels.map { textWidth($0, size: Self.tickSize) }.max() ?? 0
        let left = max(16 + 14 + tickWidth + 8, leftExtra)
        let bottom: Double = 14 + 18 + 22 + bottomExtra
        plotX = left
        plotY = top
        plotW = max(40, width - left - right - (right > 0 ? 28 : 16))
        plotH = max(40, height - top - bottom)
    }

    /// Horizontal position of a fraction of the plot width.
    func x(_ fraction: Double) -> Double { plotX + fraction * plotW }
    /// Vertical position of a fraction of the plot height, measured from the bottom.
    func y(_ fraction: Double) -> Double { plotY + (1 - fraction) * plotH }

    func drawTitle(_ svg: inout SVGWriter, title: String, subtitle: String?) {
        if !title.isEmpty {
            svg.text(title, x: width / 2, y: 28, anchor: .middle, size: Self.titleSize, bold: true)
        }
        if let subtitle, !subtitle.isEmpty {
            svg.text(subtitle, x: width / 2, y: title.isEmpty ? 28 : 48, anchor: .middle, size: 12, fill: "#555555")
        }
    }

    /// Grid lines, ticks and tick labels of a continuous x axis, and its label.
    func drawXAxis(_ svg: inout SVGWriter, _ axis: Axis, label: String) {
        for (tick, text) in zip(axis.ticks, axis.labels) {
            guard let f = axis.fraction(tick) else { continue }
            let px = x(f)
            svg.line(px, plotY, px, plotY + plotH, stroke: Self.gridColor)
            svg.line(px, plotY + plotH, px, plotY + plotH + 5, stroke: Self.axisColor)
            svg.text(text, x: px, y: plotY + plotH + 18, anchor: .middle, size: Self.tickSize)
        }
        drawXLabel(&svg, label)
    }

    /// Grid lines, ticks and tick labels of a continuous y axis, and its label.
    func drawYAxis(_ svg: inout SVGWriter, _ axis: Axis, label: String) {
        for (tick, text) in zip(axis.ticks, axis.labels) {
            guard let f = axis.fraction(tick) else { continue }
            let py = y(f)
            svg.line(plotX, py, plotX + plotW, py, stroke: Self.gridColor)
            svg.line(plotX - 5, py, plotX, py, stroke: Self.axisColor)
            svg.text(text, x: plotX - 8, y: py + 4, anchor: .end, size: Self.tickSize)
        }
        drawYLabel(&svg, label)
    }

    func drawXLabel(_ svg: inout SVGWriter, _ label: String, below extra: Double = 0) {
        guard !label.isEmpty else { return }
        svg.text(label, x: plotX + plotW / 2, y: plotY + plotH + 42 + extra, anchor: .middle, size: Self.labelSize)
    }

    func drawYLabel(_ svg: inout SVGWriter, _ label: String) {
        guard !label.isEmpty else { return }
        svg.text(label, x: 20, y: plotY + plotH / 2, anchor: .middle, size: Self.labelSize, rotate: -90)
    }

    /// The left and bottom axis lines, drawn last so data does not cover them.
    func drawAxisLines(_ svg: inout SVGWriter) {
        svg.line(plotX, plotY, plotX, plotY + plotH, stroke: Self.axisColor)
        svg.line(plotX, plotY + plotH, plotX + plotW, plotY + plotH, stroke: Self.axisColor)
    }

    /// A clip path named `id` covering the plot area, for data that may run outside it.
    /// (A few pixels larger, so that dots on the edge are not cut in half.)
    func defineClip(_ svg: inout SVGWriter, id: String) {
        svg.raw("<defs><clipPath id=\"\(id)\"><rect x=\"\(n(plotX - 4))\" y=\"\(n(plotY - 4))\""
                + " width=\"\(n(plotW + 8))\" height=\"\(n(plotH + 8))\"/></clipPath></defs>")
    }
}

/// One line of a legend: a mark in a colour, and a name.
struct LegendEntry {
    enum Mark { case line(dashed: Bool), dot, diamond, box }
    var name: String
    var color: String
    var mark: Mark
}

/// A legend column placed to the right of the plot area.
enum Legend {
    /// Entries beyond this many are summarised as "… and N more".
    static let maxEntries = 16
    static let size = 12.0, rowHeight = 18.0

    /// Horizontal room the legend needs (0 when there is nothing to show).
    static func width(_ entries: [LegendEntry]) -> Double {
        guard !entries.isEmpty else { return 0 }
        let widest = entries.prefix(maxEntries).map { textWidth($0.name, size: size) }.max() ?? 0
        return 30 + max(widest, entries.count > maxEntries ? textWidth("… and 999 more", size: size) : 0)
    }

    static func draw(_ svg: inout SVGWriter, _ entries: [LegendEntry], x: Double, y: Double) {
        for (i, entry) in entries.prefix(maxEntries).enumerated() {
            let cy = y + Double(i) * rowHeight
            switch entry.mark {
            case .line(let dashed):
                svg.line(x, cy, x + 22, cy, stroke: entry.color, width: 2.5, dashed: dashed)
            case .dot:
                svg.circle(x: x + 11, y: cy, radius: 4, fill: entry.color)
            case .diamond:
                svg.path(diamond(x: x + 11, y: cy, radius: 6), fill: entry.color, stroke: "#111111", strokeWidth: 1)
            case .box:
                svg.rect(x: x + 5, y: cy - 6, width: 12, height: 12, fill: entry.color)
            }
            svg.text(entry.name, x: x + 30, y: cy + 4, size: size)
        }
        if entries.count > maxEntries {
            svg.text("… and \(entries.count - maxEntries) more", x: x + 30,
                     y: y + Double(maxEntries) * rowHeight + 4, size: size, fill: "#555555")
        }
    }

    /// An SVG path for a diamond of the given radius.
    static func diamond(x: Double, y: Double, radius r: Double) -> String {
        "M\(n(x)) \(n(y - r))L\(n(x + r)) \(n(y))L\(n(x)) \(n(y + r))L\(n(x - r)) \(n(y))Z"
    }
}
