import Testing
import Tensors
import TestSupport

/// The checkers themselves must be able to fail: each is fed a known-bad case inside
/// `withKnownIssue`, which fails the test if no issue is recorded.
extension TensorsSuite {
    @Suite("Test support")
    struct TestSupportTests {
        @Test("gradientCheck catches a wrong gradient and names the input")
        func gradientCheckFails() {
            // x·sg(x) has value x² but gradient x (not 2x): a deliberately wrong backward.
            let x = seededUniform([6], seed: 1, low: 0.5, high: 2)
            withKnownIssue {
                gradientCheck(inputs: [x]) { $0[0] * $0[0].detached() }
            }
            withKnownIssue { // only the second input's gradient is wrong
                gradientCheck(inputs: [x, x]) { $0[0] + $0[1] * $0[1].detached() }
            }
            // And passes a correct one, reporting every element checked.
            let ok = gradientCheck(inputs: [x]) { $0[0] * $0[0] }
            #expect(ok.passed && ok.checkedIndices == [Array(0..<6)])
            #expect(ok.reports[0].worstRatio < 0.1)
        }

        @Test("gradientCheck samples large inputs, including the first and last element")
        func gradientCheckSamples() {
            let x = seededNormal([1000], seed: 2)
            let r = gradientCheck(inputs: [x], maxElementsPerInput: 20) { $0[0].tanh() }
            #expect(r.passed)
            #expect(r.checkedIndices[0].count == 20)
            #expect(r.checkedIndices[0].first == 0 && r.checkedIndices[0].last == 999)
        }

        @Test("gradientCheck leaves the caller's tensors untouched")
        func gradientCheckPure() {
            let x = seededNormal([5], seed: 3)
            let before = x.scalars
            gradientCheck(inputs: [x]) { $0[0].exp() }
            #expect(x.scalars == before && !x.requiresGrad && x.grad == nil)
        }

        @Test("expectClose fails on a difference, a shape mismatch and a NaN; passes within tolerance")
        func expectCloseFails() {
            let a = Tensor(shape: [2, 2], [1, 2, 3, 4])
            withKnownIssue { expectClose(a, Tensor(shape: [2, 2], [1, 2, 3, 4.01]), rtol: 1e-4, atol: 0) }
            withKnownIssue { expectClose(a, Tensor(shape: [4], [1, 2, 3, 4])) }
            withKnownIssue { expectClose([Float.nan], [1]) }
            withKnownIssue { expectClose(Float(1), 1.1) }
            withKnownIssue { expectBitIdentical(a, Tensor(shape: [2, 2], [1, 2, 3, 4.0000005])) }
            expectClose(a, Tensor(shape: [2, 2], [1, 2, 3, 4.0001]), rtol: 1e-4, atol: 0)
            expectClose([Float.infinity, 1], [Float.infinity, 1])
            let report = CloseReport(actual: [1, 2, 3], expected: [1, 2.5, 3], rtol: 0, atol: 0.1)
            #expect(!report.passed && report.worstIndex == 1 && report.maxAbsDiff == 0.5)
            #expect(report.message(shape: [3]).contains("[1] (flat 1)"))
        }
    }
}
