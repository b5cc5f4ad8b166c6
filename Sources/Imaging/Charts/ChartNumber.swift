import Foundation

/// Number formatting for tick and value labels: short, fixed, and locale-independent.
enum ChartNumber {
    /// A tick value on a linear axis whose ticks are `step` apart: as many decimals as the step
    /// needs (0.25 → 2), or powers-of-ten notation (2e5, 1.5e-4) for very large or small values.
    static func tick(_ value: Double, step: Double) -> String {
        if Swift.abs(value) < step * 1e-6 { return "0" }
        let magnitude = Swift.abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 { return scientific(value) }
        let decimals = max(0, Int(-floor(log10(step) + 1e-9)))
        return trimZero(String(format: "%.\(decimals)f", value))
    }

    /// Three significant digits, e.g. 0.0123, 4.56, 7890, 1.23e6.
    static func short(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "∞" : "−∞") }
        if value == 0 { return "0" }
        let magnitude = Swift.abs(value)
        if magnitude >= 1e6 || magnitude < 1e-3 { return scientific(value) }
        let decimals = max(0, 2 - Int(floor(log10(magnitude))))
        var s = String(format: "%.\(decimals)f", value)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        return trimZero(s)
    }

    /// `%g`-style with a compact exponent: 2e5, 1.5e-4.
    static func scientific(_ value: Double) -> String {
        var s = String(format: "%.3g", value)
        s = s.replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e+", with: "e")
        s = s.replacingOccurrences(of: "e-0", with: "e-")
        return s
    }

    /// "-0" and "-0.00" become "0".
    private static func trimZero(_ s: String) -> String {
        s.hasPrefix("-") && s.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(s.dropFirst()) : s
    }
}
