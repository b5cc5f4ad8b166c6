import Foundation

/// Accumulates SVG elements as text. Coordinates are written with at most two decimals, so the
/// output depends only on the data, never on the locale or on printing quirks.
struct SVGWriter {
    let width: Double, height: Double
    private(set) var body = ""

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
        body.reserveCapacity(16_384)
        rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
    }

    enum Anchor: String { case start, middle, end }

    mutating func raw(_ element: String) {
        body += element
        body += "\n"
    }

    mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String,
                       stroke: String? = nil, extra: String = "") {
        var e = "<rect x=\"\(n(x))\" y=\"\(n(y))\" width=\"\(n(width))\" height=\"\(n(height))\" fill=\"\(fill)\""
        if let stroke { e += " stroke=\"\(stroke)\"" }
        raw(e + extra + "/>")
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                       width: Double = 1, dashed: Bool = false) {
        raw("<line x1=\"\(n(x1))\" y1=\"\(n(y1))\" x2=\"\(n(x2))\" y2=\"\(n(y2))\" stroke=\"\(stroke)\""
            + " stroke-width=\"\(n(width))\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>")
    }

    mutating func text(_ string: String, x: Double, y: Double, anchor: Anchor = .start, size: Double = 12,
                       bold: Bool = false, fill: String = "#222222", rotate: Double? = nil) {
        var e = "<text x=\"\(n(x))\" y=\"\(n(y))\" font-size=\"\(n(size))\""
        if anchor != .start { e += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { e += " font-weight=\"bold\"" }
        if fill != "#222222" { e += " fill=\"\(fill)\"" }
        if let rotate { e += " transform=\"rotate(\(n(rotate)) \(n(x)) \(n(y)))\"" }
        raw(e + ">\(SVGWriter.escape(string))</text>")
    }

    mutating func circle(x: Double, y: Double, radius: Double, fill: String, extra: String = "") {
        raw("<circle cx=\"\(n(x))\" cy=\"\(n(y))\" r=\"\(n(radius))\" fill=\"\(fill)\"\(extra)/>")
    }

    mutating func path(_ d: String, fill: String = "none", stroke: String? = nil, strokeWidth: Double = 1,
                       dashed: Bool = false, extra: String = "") {
        var e = "<path d=\"\(d)\" fill=\"\(fill)\""
        if let stroke {
            e += " stroke=\"\(stroke)\" stroke-width=\"\(n(strokeWidth))\" stroke-linejoin=\"round\""
            if dashed { e += " stroke-dasharray=\"6 4\"" }
        }
        raw(e + extra + "/>")
    }

    /// The finished document.
    var document: String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\""
            + " width=\"\(n(width))\" height=\"\(n(height))\" viewBox=\"0 0 \(n(width)) \(n(height))\""
            + " font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n" + body + "</svg>\n"
    }

    /// Text made safe for XML content and attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }
}

/// A coordinate with at most two decimals and no trailing zeros: 12, 12.5, 12.25, -0.4.
func n(_ x: Double) -> String {
    guard x.isFinite, Swift.abs(x) < 1e12 else { return "0" }
    let hundredths = Int((x * 100).rounded())
    if hundredths == 0 { return "0" }
    let magnitude = Swift.abs(hundredths)
    var s = (hundredths < 0 ? "-" : "") + String(magnitude / 100)
    let fraction = magnitude % 100
    if fraction != 0 {
        s += fraction % 10 == 0 ? ".\(fraction / 10)" : (fraction < 10 ? ".0\(fraction)" : ".\(fraction)")
    }
    return s
}

/// A rough width of `text` in pixels at `size` (average glyph width of a sans-serif face), for
/// sizing margins and legends without a font engine.
func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }
