import Foundation
import Testing
import Tensors

/// Finite-difference gradient checking.
///
/// Reverse-mode autodiff is checked against the definition of the derivative. A tensor-valued
/// function f is turned into a scalar with a fixed random projection R (same shape as f's output),
///
///     L(x) = Σⱼ f(x)ⱼ · Rⱼ,
///
/// so that every output element, and every path to it, influences the gradient. The analytic
/// gradient ∂L/∂x comes from the library's backward pass; the numeric one from central differences
///
///     ∂L/∂xᵢ ≈ (L(x + h·eᵢ) − L(x − h·eᵢ)) / (x⁺ᵢ − x⁻ᵢ),
///
/// where L is accumulated in Double from f's Float outputs, and x⁺ᵢ, x⁻ᵢ are the perturbed values
/// as actually stored in Float (so the rounding of x ± h does not bias the quotient). With Float32
/// forward passes the truncation error O(h²) and the rounding error O(ε·|L|/h) balance around
/// h ≈ 1e-2…1e-3, which leaves about two to three significant digits: hence rtol ≈ 1e-2.

/// The outcome of one gradient check: one comparison per input.
public struct GradientCheckResult: Sendable {
    /// Per input: analytic (actual) against numeric (expected) at the checked elements.
    public var reports: [CloseReport]
    /// Per input: the flat indices that were checked.
    public var checkedIndices: [[Int]]
    public var passed: Bool { reports.allSatisfy(\.passed) }
}

/// Checks the gradients of `f` with respect to every tensor in `inputs` by central differences.
///
/// - Parameters:
///   - inputs: the values at which to check. They are cloned; `f` receives the clones (leaves with
///     `requiresGrad`) for the analytic pass and plain clones for the numeric passes, so the
///     caller's tensors are never modified and no graph is recorded while probing.
///   - rtol, atol: an element passes when |analytic − numeric| ≤ atol·s + rtol·|numeric|, where
///     s = max(1, RMS of the numeric gradient of that input): the noise of finite differences grows
///     with the gradient's scale, and would otherwise fail elements whose gradient is near zero.
///   - step: h, relative to max(1, |xᵢ|).
///   - maxElementsPerInput: larger inputs are checked at this many elements, chosen at random
///     (seeded), always including the first and the last.
///   - seed: seeds the projection R and the element sample.
///   - f: the function under test; it must be deterministic (fix dropout masks and the like).
/// - Returns: the per-input reports (an issue is also recorded for every failing input).
@discardableResult
public func gradientCheck(inputs: [Tensor], rtol: Double = 1e-2, atol: Double = 1e-3, step: Float = 1e-2,
                          maxElementsPerInput: Int = 48, seed: UInt64 = 0x5EED,
                          _ comment: Comment? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation,
                          _ f: ([Tensor]) -> Tensor) -> GradientCheckResult {
    var rng = RandomGenerator(seed: seed)

    // Analytic pass.
    let leaves = inputs.map { x -> Tensor in let c = x.clone(); c.requiresGrad = true; return c }
    let output = f(leaves)
    let projection = Tensor.normal(output.shape, rng: &rng)
    let r = projection.scalars.map(Double.init)
    let analytic: [[Float]]
    if output.requiresGrad {
        let loss = (output * projection).sum()
        analytic = loss.gradients(with: leaves).map(\.scalars)
    } else {
        analytic = inputs.map { [Float](repeating: 0, count: $0.count) }
    }

    // Numeric pass, on plain clones that record no graph.
    let probes = inputs.map { $0.clone() }
    func loss() -> Double {
        let y = f(probes)
        precondition(y.count == r.count, "gradientCheck: f changed its output shape") // invariant: f is fixed
        return y.withUnsafeBufferPointer { b in
            var acc = 0.0
            for j in 0..<b.count { acc += Double(b[j]) * r[j] }
            return acc
        }
    }

    var reports: [CloseReport] = []
    var checked: [[Int]] = []
    for (k, probe) in probes.enumerated() {
        let indices = sampleIndices(count: probe.count, limit: maxElementsPerInput, rng: &rng)
        var numeric: [Double] = []
        numeric.reserveCapacity(indices.count)
        for i in indices {
            let x = probe.withUnsafeBufferPointer { $0[i] }
            let h = step * Swift.max(1, Swift.abs(x))
            let xPlus = x + h, xMinus = x - h
            probe.withUnsafeMutableBufferPointer { $0[i] = xPlus }
            let lPlus = loss()
            probe.withUnsafeMutableBufferPointer { $0[i] = xMinus }
            let lMinus = loss()
            probe.withUnsafeMutableBufferPointer { $0[i] = x }
            numeric.append((lPlus - lMinus) / (Double(xPlus) - Double(xMinus)))
        }
        let rms = numeric.isEmpty ? 0 : (numeric.reduce(0) { $0 + $1 * $1 } / Double(numeric.count)).squareRoot()
        let scale = Swift.max(1, rms)
        let actual = indices.map { Double(analytic[k][$0]) }
        let report = CloseReport(actual: actual, expected: numeric, rtol: rtol, atol: atol * scale)
        if !report.passed {
            var fixed = report
            fixed.worstIndex = indices.isEmpty ? 0 : indices[report.worstIndex]
            if let n = report.firstNonFinite { fixed.firstNonFinite = indices[n] }
            Issue.record(Comment(rawValue: "gradient check of input \(k) \(inputs[k].shape): analytic vs numeric — "
                         + fixed.message(shape: inputs[k].shape, label: "gradients")
                         + suffix(comment)), sourceLocation: sourceLocation)
        }
        if logGradientChecks {
            print("gradientCheck \(sourceLocation.fileName):\(sourceLocation.line) input \(k) \(inputs[k].shape): "
                  + "worst \(String(format: "%.3f", report.worstRatio))× tolerance, max |diff| \(report.maxAbsDiff)")
        }
        reports.append(report)
        checked.append(indices)
    }
    return GradientCheckResult(reports: reports, checkedIndices: checked)
}

/// Set GRADIENT_CHECK_LOG=1 to print every check's worst ratio to its tolerance (to see the margins).
let logGradientChecks = ProcessInfo.processInfo.environment["GRADIENT_CHECK_LOG"] == "1"

/// All of `0..<count` when it is small, otherwise `limit` distinct indices in increasing order that
/// include the first and the last.
func sampleIndices(count: Int, limit: Int, rng: inout RandomGenerator) -> [Int] {
    guard count > limit, limit >= 2 else { return Array(0..<count) }
    var chosen: Set<Int> = [0, count - 1]
    while chosen.count < limit { chosen.insert(rng.int(below: count)) }
    return chosen.sorted()
}
