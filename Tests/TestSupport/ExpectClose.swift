import Foundation
import Testing
import Tensors

/// Approximate equality for tests: |a − b| ≤ atol + rtol·|b| element-wise, where `b` is the
/// expected value. On failure one issue is recorded naming the worst element (index, both values,
/// absolute difference) and the maximum absolute difference over all elements, so a failing test
/// says where and by how much, not just "false".

/// The worst mismatch between two equally long arrays, compared as Doubles.
public struct CloseReport: Sendable {
    /// Elements compared.
    public var count: Int
    /// Largest |a − b| over all elements.
    public var maxAbsDiff: Double
    /// Index of the element that most exceeds its tolerance (or of the largest difference).
    public var worstIndex: Int
    public var worstActual: Double
    public var worstExpected: Double
    /// Largest |a − b| / (atol + rtol·|b|): ≤ 1 means every element is within tolerance.
    public var worstRatio: Double
    /// Index of the first NaN or infinity in `actual` where `expected` is finite, if any.
    public var firstNonFinite: Int?

    public var passed: Bool { worstRatio <= 1 && firstNonFinite == nil }

    /// Compares `actual` to `expected` with tolerance atol + rtol·|expected|.
    public init(actual: [Double], expected: [Double], rtol: Double, atol: Double) {
        precondition(actual.count == expected.count, "compare \(actual.count) to \(expected.count) values") // invariant
        count = actual.count
        maxAbsDiff = 0; worstIndex = 0; worstRatio = -1
        worstActual = actual.first ?? 0; worstExpected = expected.first ?? 0
        firstNonFinite = nil
        for i in 0..<actual.count {
            let a = actual[i], e = expected[i]
            if !a.isFinite || !e.isFinite {
                // Equal infinities match; anything else non-finite is a failure.
                if a == e { continue }
                if firstNonFinite == nil { firstNonFinite = i }
                continue
            }
            let d = Swift.abs(a - e)
            maxAbsDiff = Swift.max(maxAbsDiff, d)
            let ratio = d == 0 ? 0 : d / (atol + rtol * Swift.abs(e))
            if ratio > worstRatio { worstRatio = ratio; worstIndex = i; worstActual = a; worstExpected = e }
        }
    }

    /// One line for an issue: worst element, its values, the max difference.
    public func message(shape: [Int]? = nil, label: String = "values") -> String {
        if let i = firstNonFinite {
            return "\(label): non-finite value at \(Self.describe(index: i, shape: shape))"
        }
        let where_ = Self.describe(index: worstIndex, shape: shape)
        return "\(label) differ: worst at \(where_): got \(worstActual), expected \(worstExpected) "
            + "(|diff| \(fmt(Swift.abs(worstActual - worstExpected))), \(fmt(worstRatio))× tolerance); "
            + "max |diff| \(fmt(maxAbsDiff)) over \(count) elements"
    }

    /// A flat index shown as a multi-index when the shape is known.
    public static func describe(index: Int, shape: [Int]?) -> String {
        guard let shape, !shape.isEmpty, shape.reduce(1, *) > index else { return "[\(index)]" }
        var rem = index, multi = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) { multi[d] = rem % shape[d]; rem /= shape[d] }
        return "[" + multi.map(String.init).joined(separator: ", ") + "] (flat \(index))"
    }

    private func fmt(_ x: Double) -> String { String(format: "%.3g", x) }
}

/// Expects two tensors to have the same shape and close values.
public func expectClose(_ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record(Comment(rawValue: "shapes differ: got \(actual.shape), expected \(expected.shape)"
                     + suffix(comment)), sourceLocation: sourceLocation)
        return
    }
    let report = CloseReport(actual: actual.scalars.map(Double.init), expected: expected.scalars.map(Double.init),
                             rtol: Double(rtol), atol: Double(atol))
    if !report.passed {
        Issue.record(Comment(rawValue: "\(report.message(shape: actual.shape))" + suffix(comment)),
                     sourceLocation: sourceLocation)
    }
}

/// Expects a tensor's values (in row-major order) to be close to `expected`; the shape is not checked
/// beyond the element count.
public func expectClose(_ actual: Tensor, _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual.scalars, expected, rtol: rtol, atol: atol, comment, shape: actual.shape,
                sourceLocation: sourceLocation)
}

/// Expects two arrays to have the same length and close values.
public func expectClose(_ actual: [Float], _ expected: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ comment: Comment? = nil, shape: [Int]? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(actual.map(Double.init), expected.map(Double.init), rtol: Double(rtol), atol: Double(atol),
                comment, shape: shape, sourceLocation: sourceLocation)
}

/// Expects two arrays of Doubles to have the same length and close values.
public func expectClose(_ actual: [Double], _ expected: [Double], rtol: Double = 1e-5, atol: Double = 1e-6,
                        _ comment: Comment? = nil, shape: [Int]? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record(Comment(rawValue: "lengths differ: got \(actual.count) values, expected \(expected.count)"
                     + suffix(comment)), sourceLocation: sourceLocation)
        return
    }
    let report = CloseReport(actual: actual, expected: expected, rtol: rtol, atol: atol)
    if !report.passed {
        Issue.record(Comment(rawValue: "\(report.message(shape: shape))" + suffix(comment)),
                     sourceLocation: sourceLocation)
    }
}

/// Expects two numbers to be close.
public func expectClose(_ actual: Float, _ expected: Float, rtol: Float = 1e-5, atol: Float = 1e-6,
                        _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose([actual], [expected], rtol: rtol, atol: atol, comment, sourceLocation: sourceLocation)
}

/// Expects two numbers to be close (Double).
public func expectClose(_ actual: Double, _ expected: Double, rtol: Double = 1e-9, atol: Double = 1e-12,
                        _ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose([actual], [expected], rtol: rtol, atol: atol, comment, sourceLocation: sourceLocation)
}

/// Expects two tensors to hold bit-identical values (and the same shape): for determinism tests.
public func expectBitIdentical(_ actual: Tensor, _ expected: Tensor, _ comment: Comment? = nil,
                               sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.shape == expected.shape else {
        Issue.record(Comment(rawValue: "shapes differ: got \(actual.shape), expected \(expected.shape)"
                     + suffix(comment)), sourceLocation: sourceLocation)
        return
    }
    let a = actual.scalars, b = expected.scalars
    var differing = 0, first = -1
    for i in a.indices where a[i].bitPattern != b[i].bitPattern {
        differing += 1
        if first < 0 { first = i }
    }
    if differing > 0 {
        Issue.record(Comment(rawValue: "\(differing) of \(a.count) values differ in their bits; first at "
                     + "\(CloseReport.describe(index: first, shape: actual.shape)): \(a[first]) vs \(b[first])"
                     + suffix(comment)), sourceLocation: sourceLocation)
    }
}

/// " — comment" for appending a caller's comment to a message, or "".
func suffix(_ comment: Comment?) -> String {
    comment.map { " — " + $0.rawValue } ?? ""
}
