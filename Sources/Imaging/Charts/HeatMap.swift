import Foundation
import Tensors

/// A matrix as coloured cells with a colour bar: attention weights, distance matrices,
/// confusion matrices. Row 0 is at the top, as when a matrix is printed.
///
/// ```swift
/// HeatMap(title: "Attention, head 0", xLabel: "key position", yLabel: "query position",
///         matrix: weights)   // [T, T]
/// ```
/// Cells are square. Up to 1024 cells are drawn as SVG rectangles; larger matrices are embedded
/// as one PNG picture (nearest-neighbour enlarged, so cells stay sharp) to keep the file small.
public struct HeatMap: Chart {
    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    /// The matrix, row by row; all rows equally long.
    public var values: [[Double]]
    public var colorMap: ColorMap
    /// The values at the two ends of the colour bar; by default the smallest and largest finite.
    public var range: ClosedRange<Double>?
    /// Names for rows and columns (e.g. class names), shown when there are at most 40.
    public var rowLabels: [String]?
    public var columnLabels: [String]?
    public var width = 720.0, height = 560.0

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String, values: [[Double]],
                colorMap: ColorMap = .viridisLike, range: ClosedRange<Double>? = nil) {
        precondition(Set(values.map(\.count)).count <= 1, "heat map rows of different lengths") // invariant: a programming error, not user input
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.values = values
        self.colorMap = colorMap
        self.range = range
    }

    /// A heat map of a [R, C] tensor.
    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String, matrix: Tensor,
                colorMap: ColorMap = .viridisLike, range: ClosedRange<Double>? = nil) {
        precondition(matrix.rank == 2, "a heat map needs a [R, C] matrix, not \(matrix.shape)") // invariant: a programming error, not user input
        let (rows, cols) = (matrix.shape[0], matrix.shape[1])
        let data = matrix.scalars.map(Double.init)
        self.init(title: title, subtitle: subtitle, xLabel: xLabel, yLabel: yLabel,
                  values: (0..<rows).map { Array(data[$0 * cols..<($0 + 1) * cols]) },
                  colorMap: colorMap, range: range)
    }

    static let maxCellsAsRectangles = 1024

    public var svg: String {
        let rows = values.count, cols = values.first?.count ?? 0
        let finite = values.flatMap { $0 }.filter(\.isFinite)
        var low = range?.lowerBound ?? finite.min() ?? 0, high = range?.upperBound ?? finite.max() ?? 1
        if high <= low { (low, high) = (low - 0.5, high + 0.5) }
        let barAxis = Axis(scale: .linear, values: [low, high], fixed: low...high)

        let rowNames = (rowLabels?.count == rows && rows <= 40) ? rowLabels : nil
        let colNames = (columnLabels?.count == cols && cols <= 40) ? columnLabels : nil
        let rowTicks = Self.indexTicks(rows), colTicks = Self.indexTicks(cols)
        let yTickLabels = rowNames ?? rowTicks.map(String.init)
        let colorBarRoom = 30 + 16 + (barAxis.labels.map { textWidth($0, size: ChartFrame.tickSize) }.max() ?? 0)
        let longestColumn = colNames.map { $0.map { textWidth($0, size: ChartFrame.tickSize) }.max() ?? 0 } ?? 0
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty, hasSubtitle: subtitle != nil,
                               yTickLabels: yTickLabels, right: colorBarRoom, bottomExtra: longestColumn * 0.6)
        var svg = SVGWriter(width: width, height: height)
        frame.drawTitle(&svg, title: title, subtitle: subtitle)

        // Square cells, as large as fit.
        let cell = (rows > 0 && cols > 0) ? min(frame.plotW / Double(cols), frame.plotH / Double(rows)) : 0
        let (x0, y0) = (frame.plotX, frame.plotY)
        let (mapW, mapH) = (cell * Double(cols), cell * Double(rows))
        func fraction(_ v: Double) -> Double { (v - low) / (high - low) }

        if rows * cols <= Self.maxCellsAsRectangles {
            svg.raw("<g shape-rendering=\"crispEdges\">")
            defer { svg.raw("</g>") }
            for r in 0..<rows {
                for c in 0..<cols {
                    let color = colorMap.color(at: fraction(values[r][c])).hex
                    svg.rect(x: x0 + Double(c) * cell, y: y0 + Double(r) * cell, width: cell, height: cell, fill: color)
                }
            }
        } else if let png = embeddedPNG(rows: rows, cols: cols, cell: cell, fraction: fraction) {
            svg.raw("<image x=\"\(n(x0))\" y=\"\(n(y0))\" width=\"\(n(mapW))\" height=\"\(n(mapH))\""
                    + " preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\""
                    + " xlink:href=\"data:image/png;base64,\(png)\"/>")
        }
        svg.rect(x: x0, y: y0, width: mapW, height: mapH, fill: "none", stroke: ChartFrame.axisColor)

        // Row and column ticks at cell centres.
        for (i, r) in (rowNames.map { Array(0..<$0.count) } ?? rowTicks).enumerated() {
            let py = y0 + (Double(r) + 0.5) * cell
            svg.line(x0 - 4, py, x0, py, stroke: ChartFrame.axisColor)
            svg.text(rowNames?[i] ?? String(r), x: x0 - 7, y: py + 4, anchor: .end, size: ChartFrame.tickSize)
        }
        for (i, c) in (colNames.map { Array(0..<$0.count) } ?? colTicks).enumerated() {
            let px = x0 + (Double(c) + 0.5) * cell
            svg.line(px, y0 + mapH, px, y0 + mapH + 4, stroke: ChartFrame.axisColor)
            if let colNames {
                svg.text(colNames[i], x: px, y: y0 + mapH + 16, anchor: .end, size: ChartFrame.tickSize, rotate: -35)
            } else {
                svg.text(String(c), x: px, y: y0 + mapH + 16, anchor: .middle, size: ChartFrame.tickSize)
            }
        }
        if !xLabel.isEmpty {
            svg.text(xLabel, x: x0 + mapW / 2, y: y0 + mapH + 40 + longestColumn * 0.6, anchor: .middle,
                     size: ChartFrame.labelSize)
        }
        if !yLabel.isEmpty {
            svg.text(yLabel, x: 20, y: y0 + mapH / 2, anchor: .middle, size: ChartFrame.labelSize, rotate: -90)
        }
        drawColorBar(&svg, axis: barAxis, x: x0 + mapW + 24, y: y0, height: max(mapH, 60))
        return svg.document
    }

    /// The vertical colour bar with its value ticks; high values at the top.
    private func drawColorBar(_ svg: inout SVGWriter, axis: Axis, x: Double, y: Double, height: Double) {
        var stops = ""
        for i in 0...10 {
            let t = Double(i) / 10
            stops += "<stop offset=\"\(n(t))\" stop-color=\"\(colorMap.color(at: 1 - t).hex)\"/>"
        }
        svg.raw("<defs><linearGradient id=\"color-bar\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">\(stops)</linearGradient></defs>")
        svg.rect(x: x, y: y, width: 16, height: height, fill: "url(#color-bar)", stroke: ChartFrame.axisColor)
        for (tick, label) in zip(axis.ticks, axis.labels) {
            guard let f = axis.fraction(tick) else { continue }
            let py = y + (1 - f) * height
            svg.line(x + 16, py, x + 20, py, stroke: ChartFrame.axisColor)
            svg.text(label, x: x + 23, y: py + 4, size: ChartFrame.tickSize)
        }
    }

    /// The matrix as a base64 PNG, each cell enlarged to about its size on the page.
    private func embeddedPNG(rows: Int, cols: Int, cell: Double, fraction: (Double) -> Double) -> String? {
        let factor = max(1, min(8, Int(cell.rounded(.up))))
        let image = paint(count: rows * cols, height: rows, width: cols) {
            colorMap.color(at: fraction(values[$0 / cols][$0 % cols]))
        }
        guard let bytes = try? PNGImage.encode(upscaled(image, by: factor)) else { return nil }
        return Data(bytes).base64EncodedString()
    }

    /// About eight evenly spaced index ticks for n cells: 0, step, 2·step, …
    static func indexTicks(_ count: Int) -> [Int] {
        guard count > 0 else { return [] }
        let step = max(1, Int(Axis.niceStep(Double(count) / 8)))
        return Array(stride(from: 0, to: count, by: step))
    }
}
