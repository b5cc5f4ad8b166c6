/// Points in the plane coloured by class, with an optional set of larger markers on top: e.g.
/// encoder outputs projected to 2-D, coloured by the code they snap to, with the codebook vectors
/// as black-edged diamonds.
///
/// ```swift
/// ScatterPlot(title: "Latents and codebook", xLabel: "PC 1", yLabel: "PC 2",
///             points: latents, classNames: ["sky", "water", "grass"],
///             markers: .init(name: "codebook", points: codebook2D))
/// ```
public struct ScatterPlot: Chart {
    /// A point and the class that colours it (an index into `classNames` and the categorical palette).
    public struct Point {
        public var x: Double
        public var y: Double
        public var label: Int

        public init(x: Double, y: Double, label: Int = 0) {
            self.x = x
            self.y = y
            self.label = label
        }
    }

    /// A second set of points drawn as large diamonds above the others.
    public struct Markers {
        public var name: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.points = points
        }
    }

    public var title: String
    public var subtitle: String?
    public var xLabel: String
    public var yLabel: String
    public var points: [Point]
    /// Legend names of the classes; classes without a name are called "class i".
    public var classNames: [String]
    public var markers: Markers?
    public var xScale: AxisScale
    public var yScale: AxisScale
    public var width = 720.0, height = 480.0

    public init(title: String, subtitle: String? = nil, xLabel: String, yLabel: String, points: [Point],
                classNames: [String] = [], markers: Markers? = nil,
                xScale: AxisScale = .linear, yScale: AxisScale = .linear) {
        self.title = title
        self.subtitle = subtitle
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
        self.classNames = classNames
        self.markers = markers
        self.xScale = xScale
        self.yScale = yScale
    }

    public var svg: String {
        let allX = points.map(\.x) + (markers?.points.map(\.x) ?? [])
        let allY = points.map(\.y) + (markers?.points.map(\.y) ?? [])
        let xAxis = Axis(scale: xScale, values: allX), yAxis = Axis(scale: yScale, values: allY)
        let classes = Set(points.map(\.label)).sorted()
        var legend = classes.map { label in
            LegendEntry(name: label >= 0 && label < classNames.count ? classNames[label] : "class \(label)",
                        color: Palette.categorical.color(label).hex, mark: .dot)
        }
        if classes.count == 1 && classNames.isEmpty { legend = [] }
        if let markers { legend.insert(LegendEntry(name: markers.name, color: "#222222", mark: .diamond), at: 0) }
        let frame = ChartFrame(width: width, height: height, hasTitle: !title.isEmpty, hasSubtitle: subtitle != nil,
                               yTickLabels: yAxis.labels, right: Legend.width(legend))
        var svg = SVGWriter(width: width, height: height)
        frame.drawTitle(&svg, title: title, subtitle: subtitle)
        frame.drawXAxis(&svg, xAxis, label: xLabel)
        frame.drawYAxis(&svg, yAxis, label: yLabel)
        let radius = points.count > 2000 ? 1.6 : 2.6
        svg.raw("<g fill-opacity=\"0.75\">")
        for p in points {
            guard let fx = xAxis.fraction(p.x), let fy = yAxis.fraction(p.y) else { continue }
            svg.circle(x: frame.x(fx), y: frame.y(fy), radius: radius, fill: Palette.categorical.color(p.label).hex)
        }
        svg.raw("</g>")
        if let markers {
            svg.raw("<g>")
            for p in markers.points {
                guard let fx = xAxis.fraction(p.x), let fy = yAxis.fraction(p.y) else { continue }
                svg.path(Legend.diamond(x: frame.x(fx), y: frame.y(fy), radius: 6), fill: "#222222",
                         stroke: "#ffffff", strokeWidth: 1.2)
            }
            svg.raw("</g>")
        }
        frame.drawAxisLines(&svg)
        Legend.draw(&svg, legend, x: frame.plotX + frame.plotW + 16, y: frame.plotY + 8)
        return svg.document
    }
}
