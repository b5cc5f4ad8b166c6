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
}
