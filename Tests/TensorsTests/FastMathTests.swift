import Foundation
import Testing
@testable import Tensors

/// The vectorisable exponential and erf against libm, over the range training meets.
@Suite struct FastMathTests {
    @Test func expMatchesLibmToAFewUlp() {
        for i in -870...880 {
            let x = Float(i) / 10
            let exact = Foundation.exp(x), fast = fastExp(x)
            #expect(Swift.abs(fast - exact) <= 4e-7 * exact, "e^\(x): \(fast) vs \(exact)")
        }
        var lanes = SIMD8<Float>()
        for i in 0..<8 { lanes[i] = Float(i) * 1.7 - 6 }
        let vector = fastExp(lanes)
        for i in 0..<8 { #expect(Swift.abs(vector[i] - fastExp(lanes[i])) <= 1e-6 * vector[i]) }
    }

    @Test func erfIsAccurateAndOdd() {
        for i in -600...600 {
            let z = Float(i) / 100
            let fast = fastErf(z, expMinusSquare: Foundation.exp(-z * z))
            #expect(Swift.abs(fast - erff(z)) < 3e-7, "erf(\(z)): \(fast) vs \(erff(z))")
            #expect(fast == -fastErf(-z, expMinusSquare: Foundation.exp(-z * z)))
        }
    }

    /// The eight-lane GELU against ½x(1 + erf(x/√2)) with libm's erf, over a range wider than
    /// activations reach, with a count that leaves a ragged tail; in place as well.
    @Test func vectorGELUMatchesTheErfForm() {
        let xs = (0..<4003).map { Float($0 - 2001) / 200 }      // −10.005 … 10.005
        var ys = [Float](repeating: .nan, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeMutableBufferPointer { y in fastGELU(x.baseAddress!, y.baseAddress!, count: xs.count) }
        }
        for (x, y) in zip(xs, ys) {
            let exact = Float(0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot())))
            #expect(Swift.abs(y - exact) <= 1e-6 + 2e-6 * Swift.abs(exact), "GELU(\(x)): \(y) vs \(exact)")
        }
        var inPlace = xs
        inPlace.withUnsafeMutableBufferPointer { p in fastGELU(p.baseAddress!, p.baseAddress!, count: p.count) }
        #expect(inPlace == ys)
    }
}
