import Foundation

/// One axis of a chart: its scale, the interval of values it spans, and its labelled ticks.
///
/// Linear axes use "nice" ticks, 1, 2 or 5 times a power of ten apart, about five of them, and
/// (when `nice` is on) widen the interval to whole ticks. Log axes tick at powers of ten, adding
/// 2× and 5× ticks when the range spans two decades or fewer.
struct Axis {
    let scale: AxisScale
    /// The values at the two ends (for a log axis, both > 0).
    let lower: Double, upper: Double
    /// Tick values within [lower, upper] and their labels.
    let ticks: [Double]
    let labels: [String]

    /// An axis covering `values` (non-finite values, and values ≤ 0 on a log axis, are ignored).
    /// `fixed` overrides the interval; `includeZero` stretches a linear axis to 0 (for bars).
    init(scale: AxisScale, values: [Double], fixed: ClosedRange<Double>? = nil, includeZero: Bool = false,
         nice: Bool = true) {
        self.scale = scale
        let usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        var low = fixed?.lowerBound ?? usable.min() ?? (scale == .log ? 1 : 0)
        var high = fixed?.upperBound ?? usable.max() ?? (scale == .log ? 10 : 1)
        switch scale {
        case .linear:
            if includeZero && fixed == nil { low = min(low, 0); high = max(high, 0) }
            if high <= low {
                let pad = low == 0 ? 1 : Swift.abs(low) * 0.5
                (low, high) = (low - pad, high + pad)
            }
            let step = Axis.niceStep((high - low) / 5)
            if nice && fixed == nil {
                low = (low / step).rounded(.down) * step
                high = (high / step).rounded(.up) * step
            }
            let first = Int((low / step - 1e-9).rounded(.up)), last = Int((high / step + 1e-9).rounded(.down))
            let values = (first...max(first, last)).map { Double($0) * step }.filter { $0 >= low - step * 1e-9 && $0 <= high + step * 1e-9 }
            ticks = values
            labels = values.map { ChartNumber.tick($0, step: step) }
        case .log:
            if low <= 0 { low = 1e-3 }
            if high <= low { (low, high) = (low / 10, high * 10) }
            var lowExp = Int(floor(log10(low) + 1e-9)), highExp = Int(ceil(log10(high) - 1e-9))
            if highExp == lowExp { highExp += 1 }
            if nice && fixed == nil {
                low = pow(10, Double(lowExp))
                high = pow(10, Double(highExp))
            }
            let decades = highExp - lowExp
            let every = max(1, Int((Double(decades) / 8).rounded(.up)))
            let multiples: [Double] = decades <= 2 ? [1, 2, 5] : [1]
            var values: [Double] = []
            for e in stride(from: lowExp, through: highExp, by: every) {
                for m in multiples {
                    let v = m * pow(10, Double(e))
                    if v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9) { values.append(v) }
                }
            }
            ticks = values
            labels = values.map(Axis.logLabel)
        }
        self.lower = low
        self.upper = high
    }

    /// Where `value` falls between the ends: 0 at `lower`, 1 at `upper`; nil if it cannot be
    /// shown (not finite, or ≤ 0 on a log axis).
    func fraction(_ value: Double) -> Double? {
        guard value.isFinite else { return nil }
        switch scale {
        case .linear: return (value - lower) / (upper - lower)
        case .log:
            guard value > 0 else { return nil }
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// 1, 2 or 5 times a power of ten, the smallest such at least `rough`.
    static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let power = pow(10, floor(log10(rough)))
        for m in [1.0, 2, 5, 10] where m * power >= rough * (1 - 1e-9) { return m * power }
        return 10 * power
    }

    /// 0.01, 0.1, 1, 10, …, 10000, then 1e5; 2e-4 and the like below 0.001.
    static func logLabel(_ v: Double) -> String {
        if v >= 1e-3 && v < 1e5 {
            let decimals = max(0, Int(-floor(log10(v) + 1e-9)))
            return String(format: "%.\(decimals)f", v)
        }
        return ChartNumber.scientific(v)
    }
}
