import Foundation

/// One measured kernel, printed as a table row or a JSON line.
struct Measurement {
    let name: String
    let shape: String
    let milliseconds: Double
    let gflops: Double?
    let ratioToSGEMM: Double?
    let gbps: Double?
    /// Items per second and their unit, for benchmarks that count items (tokens sampled).
    let rate: (perSecond: Double, unit: String)?

    init(name: String, shape: String, milliseconds: Double, flops: Double?, bytes: Double?,
         items: (count: Double, unit: String)? = nil, sgemmGFLOPS: Double) {
        self.name = name
        self.shape = shape
        self.milliseconds = milliseconds
        gflops = flops.map { $0 / (milliseconds * 1e-3) / 1e9 }
        ratioToSGEMM = gflops.map { $0 / sgemmGFLOPS }
        gbps = bytes.map { $0 / (milliseconds * 1e-3) / 1e9 }
        rate = items.map { ($0.count / (milliseconds * 1e-3), $0.unit) }
    }

    static let tableHeader = pad("name", 22) + pad("shape", 36) + lpad("ms", 10) + lpad("GFLOP/s", 10)
        + lpad("×sgemm", 8) + lpad("GB/s", 8)

    var tableRow: String {
        Self.pad(name, 22) + Self.pad(shape, 36) + Self.lpad(String(format: "%.3f", milliseconds), 10)
            + Self.lpad(gflops.map { String(format: "%.1f", $0) } ?? "-", 10)
            + Self.lpad(ratioToSGEMM.map { String(format: "%.2f", $0) } ?? "-", 8)
            + (gbps.map { Self.lpad(String(format: "%.1f", $0), 8) } ?? "")
            + (rate.map { "  " + String(format: "%.0f", $0.perSecond) + " \($0.unit)/s" } ?? "")
    }

    /// {"name":…,"shape":…,"ms":…,"gflops":…,"ratio_to_sgemm":…} (+ "gbps" and "tok_per_second" or
    /// another unit's rate when defined);
    /// null where a number does not apply.
    var jsonLine: String {
        var fields = [
            "\"name\":\(Self.quote(name))", "\"shape\":\(Self.quote(shape))",
            "\"ms\":\(Self.number(milliseconds))", "\"gflops\":\(gflops.map(Self.number) ?? "null")",
            "\"ratio_to_sgemm\":\(ratioToSGEMM.map(Self.number) ?? "null")",
        ]
        if let gbps { fields.append("\"gbps\":\(Self.number(gbps))") }
        if let rate { fields.append("\"\(rate.unit)_per_second\":\(Self.number(rate.perSecond))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func number(_ x: Double) -> String { String(format: "%.4g", x) }

    private static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where ch.value < 0x20: out += String(format: "\\u%04x", ch.value)
            default: out.unicodeScalars.append(ch)
            }
        }
        return out + "\""
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }

    private static func lpad(_ s: String, _ width: Int) -> String {
        s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
    }
}
