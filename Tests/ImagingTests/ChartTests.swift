import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import Tensors
@testable import Imaging

/// What an SVG document contains, as seen by an XML parser.
final class SVGContents: NSObject, XMLParserDelegate {
    var texts: [String] = []
    var elements: [String: Int] = [:]
    var rootAttributes: [String: String] = [:]
    private var text: String?

    /// Parses `svg`; nil (and a recorded issue) when it is not well-formed XML.
    static func parse(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) -> SVGContents? {
        let contents = SVGContents()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = contents
        guard parser.parse() else {
            Issue.record("not well-formed XML: \(parser.parserError.map { "\($0)" } ?? "?")", sourceLocation: sourceLocation)
            return nil
        }
        return contents
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        if elements.isEmpty { rootAttributes = attributes }
        elements[name, default: 0] += 1
        if name == "text" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text", let t = text { texts.append(t); text = nil }
    }
}

@Suite struct ChartTests {
    func checkDocument(_ chart: some Chart, contains labels: [String],
                       sourceLocation: SourceLocation = #_sourceLocation) -> SVGContents? {
        let svg = chart.svg
        #expect(svg == chart.svg, "deterministic", sourceLocation: sourceLocation)
        #expect(!svg.lowercased().contains("nan") && !svg.contains("inf"), sourceLocation: sourceLocation)
        guard let contents = SVGContents.parse(svg, sourceLocation: sourceLocation) else { return nil }
        #expect(contents.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg", sourceLocation: sourceLocation)
        #expect(contents.rootAttributes["viewBox"] != nil, sourceLocation: sourceLocation)
        for label in labels {
            #expect(contents.texts.contains(label), "missing text \(label)", sourceLocation: sourceLocation)
        }
        return contents
    }

    @Test func lineChart() throws {
        let chart = LineChart(
            title: "Loss <VQ-VAE> & VQGAN", xLabel: "step", yLabel: "loss", yScale: .log,
            series: [.init(name: "train", values: (0..<200).map { 2 * exp(-Double($0) / 50) + 0.01 }),
                     .init(name: "validation", x: [0, 50, 100, 150], y: [2, .nan, 0.1, 0.05], dashed: true)])
        let contents = try #require(checkDocument(chart, contains: ["Loss <VQ-VAE> & VQGAN", "step", "loss", "train",
                                                                    "validation", "0.01", "0.1", "1"]))
        #expect(contents.elements["path", default: 0] == 2)
        #expect(contents.elements["circle", default: 0] == 3)  // dots on the short series, none at NaN
        #expect(chart.svg.contains("stroke-dasharray"))
    }

    @Test func seriesCanShareAColour() {
        let measured = LineChart.Series(name: "measured", x: [1, 2], y: [1, 2])
        let own = LineChart(title: "t", xLabel: "x", yLabel: "y",
                            series: [measured, .init(name: "", x: [2, 4], y: [2, 4], dashed: true)])
        let shared = LineChart(title: "t", xLabel: "x", yLabel: "y",
                               series: [measured, .init(name: "", x: [2, 4], y: [2, 4], dashed: true, colorSlot: 0)])
        let second = Palette.categorical.color(1).hex
        #expect(own.svg.contains(second))
        #expect(!shared.svg.contains(second))
    }

    @Test func logXAndLinearTicks() {
        let chart = LineChart(title: "Time per step", xLabel: "pixels", yLabel: "seconds", xScale: .log,
                              series: [.init(name: "transformer", x: [64, 256, 1024, 4096], y: [0.13, 0.4, 0.6, 0.87])])
        _ = checkDocument(chart, contains: ["100", "1000", "0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    @Test func axisTicks() {
        let linear = Axis(scale: .linear, values: [0.13, 0.87])
        #expect(linear.ticks.count == 6 && linear.labels == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(linear.lower == 0 && linear.upper == 1)
        let big = Axis(scale: .linear, values: [0, 2_000_000])
        #expect(big.labels.contains("1e6") && big.labels.contains("2e6"))
        let log = Axis(scale: .log, values: [0.003, 20, -1])
        #expect(log.labels == ["0.001", "0.01", "0.1", "1", "10", "100"])
        let narrow = Axis(scale: .log, values: [3, 40])
        #expect(narrow.labels == ["1", "2", "5", "10", "20", "50", "100"])
        #expect(Axis(scale: .linear, values: [5, 5]).ticks.contains(5))
        #expect(Axis.niceStep(0.148) == 0.2 && Axis.niceStep(30) == 50 && Axis.niceStep(1) == 1)
        #expect(n(12.5) == "12.5" && n(-0.004) == "0" && n(3.14159) == "3.14" && n(2.05) == "2.05" && n(100) == "100")
        #expect(ChartNumber.short(0.012345) == "0.0123" && ChartNumber.short(1234.6) == "1235")
    }

    @Test func barChart() throws {
        let chart = BarChart(title: "Reconstruction", xLabel: "model", yLabel: "L1 error",
                             bars: [.init(label: "VQ-VAE", value: 0.081), .init(label: "VQGAN", value: 0.064)])
        let contents = try #require(checkDocument(chart, contains: ["Reconstruction", "VQ-VAE", "VQGAN", "0.081", "0.064",
                                                                    "model", "L1 error"]))
        #expect(contents.elements["rect", default: 0] == 3)  // background + two bars
        let many = BarChart(title: "Per class", xLabel: "class", yLabel: "IoU",
                            bars: (0..<40).map { .init(label: "a rather long class name \($0)", value: Double($0)) })
        _ = checkDocument(many, contains: ["Per class"])
    }

    @Test func histograms() throws {
        var usage = [Int](repeating: 0, count: 1024)
        for i in 0..<1024 where i % 3 != 0 { usage[i] = (i * 37) % 50 }
        let codes = Histogram(title: "Codebook usage", subtitle: "683 of 1024 codes used", xLabel: "code", counts: usage)
        #expect(codes.counts.count == 1024 && codes.edges.first == -0.5 && codes.edges.last == 1023.5)
        _ = checkDocument(codes, contains: ["Codebook usage", "683 of 1024 codes used", "code", "count"])
        let values = Histogram(title: "Pixels", xLabel: "value", values: [0, 0.1, 0.1, 0.5, 1, .nan], bins: 4)
        #expect(values.counts == [3, 0, 1, 1])
        _ = checkDocument(values, contains: ["Pixels", "value"])
    }

    @Test func smallHeatMapDrawsCells() throws {
        let chart = HeatMap(title: "Confusion", xLabel: "predicted", yLabel: "true",
                            values: [[5, 1, 0], [2, 7, 1], [0, 0, 9]])
        var labelled = chart
        labelled.rowLabels = ["sky", "sea", "sand"]
        labelled.columnLabels = ["sky", "sea", "sand"]
        let contents = try #require(checkDocument(labelled, contains: ["Confusion", "predicted", "true", "sky", "sand"]))
        #expect(contents.elements["rect", default: 0] >= 9 + 1)
        #expect(contents.elements["linearGradient", default: 0] == 1)
        _ = checkDocument(chart, contains: ["0", "2", "8"])  // colour-bar ticks over 0…9
    }

    @Test func largeHeatMapEmbedsAPicture() throws {
        let t = 100
        let attention = Tensor.make([t, t]) { b in for i in 0..<t { for j in 0..<t { b[i * t + j] = j <= i ? 1 / Float(i + 1) : 0 } } }
        let chart = HeatMap(title: "Attention", xLabel: "key", yLabel: "query", matrix: attention)
        let contents = try #require(checkDocument(chart, contains: ["Attention", "key", "query"]))
        #expect(contents.elements["image", default: 0] == 1)
        #expect(contents.elements["rect", default: 0] < 10)
        #expect(chart.svg.contains("data:image/png;base64,iVBOR"))  // a PNG signature in base64
    }

    @Test func scatterPlot() throws {
        var rng = RandomGenerator(seed: 5)
        let points = (0..<300).map { i in
            ScatterPlot.Point(x: Double(rng.normal()) + Double(i % 3) * 3, y: Double(rng.normal()), label: i % 3)
        }
        let chart = ScatterPlot(title: "Latents", xLabel: "PC 1", yLabel: "PC 2", points: points,
                                classNames: ["sky", "water", "grass"],
                                markers: .init(name: "codebook", points: [(0, 0), (3, 0), (6, 0)]))
        let contents = try #require(checkDocument(chart, contains: ["Latents", "PC 1", "PC 2", "sky", "water", "grass", "codebook"]))
        #expect(contents.elements["circle", default: 0] == 300 + 3)  // points + legend dots
    }

    @Test func writesFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanUp() }
        let chart = LineChart(title: "T", xLabel: "x", yLabel: "y", series: [.init(name: "s", values: [1, 2, 3])])
        let path = folder.path("charts/line.svg")
        try chart.write(to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == chart.svg)
    }
}
