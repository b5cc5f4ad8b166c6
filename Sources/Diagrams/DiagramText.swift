/// How diagrams write numbers: parameter counts as `36.9 k` / `1.2 M`, shapes as `8×64×32×32`.
public enum DiagramText {
    /// A count with a metric suffix and three significant figures at most: 864, 1.8 k, 36.9 k,
    /// 295 k, 1.2 M, 4.1 B.
    public static func count(_ value: Int) -> String {
        let suffixes = ["", "k", "M", "B"]
        var scaled = Double(value.magnitude)
        var unit = 0
        while scaled >= 1000, unit < suffixes.count - 1 {
            scaled /= 1000
            unit += 1
        }
        guard unit > 0 else { return String(value) }
        var rounded = roundedForDisplay(scaled)
        // 999_950 rounds to "1000 k": say "1.0 M" instead.
        if rounded >= 1000, unit < suffixes.count - 1 {
            rounded = roundedForDisplay(rounded / 1000)
            unit += 1
        }
        return (value < 0 ? "-" : "") + format(rounded) + " " + suffixes[unit]
    }

    /// A tensor shape, dimensions joined with `×`: `[8, 64, 32, 32]` → `8×64×32×32`.
    public static func shape(_ dimensions: [Int]) -> String {
        dimensions.isEmpty ? "scalar" : dimensions.map(String.init).joined(separator: "×")
    }

    /// One decimal below 100, whole numbers above: three significant figures at most.
    private static func roundedForDisplay(_ value: Double) -> Double {
        let tenths = (value * 10).rounded()
        return tenths >= 1000 ? value.rounded() : tenths / 10
    }

    private static func format(_ value: Double) -> String {
        if value >= 100 { return String(Int(value)) }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
