import Testing
import Tensors
import TestSupport

/// Sums, means and maxima: values from explicit loops, gradients by finite differences.
extension TensorsSuite {
    @Suite("Reductions")
    struct ReductionTests {
        /// Σ over `axes` of a [2, 3, 4] tensor computed with plain loops, in Double.
        static func loopSum(_ x: Tensor, axes: Set<Int>) -> [Double] {
            let s = x.shape
            var outShape = s
            for a in axes { outShape[a] = 1 }
            var out = [Double](repeating: 0, count: outShape.product)
            for i in 0..<s[0] { for j in 0..<s[1] { for k in 0..<s[2] {
                let o = [i, j, k].enumerated().map { axes.contains($0.offset) ? 0 : $0.element }
                out[(o[0] * outShape[1] + o[1]) * outShape[2] + o[2]] += Double(x[i, j, k])
            } } }
            return out
        }

        @Test("sum() and mean() of all elements")
        func sumAll() {
            let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
            #expect(x.sum().shape == [])
            #expect(x.sum().item == 21)
            #expect(x.mean().item == 3.5)
            // Large enough to span several fixed-size blocks of the parallel sum.
            let big = seededUniform([10_000], seed: 1)
            let expected = big.scalars.reduce(0.0) { $0 + Double($1) }
            expectClose(big.sum().item, Float(expected), rtol: 1e-5, atol: 1e-4)
        }

        @Test("sum()'s gradient is the upstream value everywhere, also when its fill is split over workers")
        func sumGradientFill() {
            let x = seededNormal([3, 1000, 300], seed: 2)     // 900 000 values: several ranges
            x.requiresGrad = true
            let g = (x.sum() * 2.5).gradients(with: [x])[0]
            #expect(g.shape == x.shape)
            #expect(g.scalars.allSatisfy { $0 == 2.5 })
        }

        @Test("sum(axes:keepDims:) over every combination of axes",
              arguments: [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2], [-1], [2, 0]])
        func sumAxes(_ axes: [Int]) {
            let x = seededNormal([2, 3, 4], seed: 2)
            let normalized = Set(axes.map { $0 < 0 ? $0 + 3 : $0 })
            let expected = Self.loopSum(x, axes: normalized).map(Float.init)
            let kept = x.sum(axes: axes, keepDims: true)
            #expect(kept.shape == [2, 3, 4].enumerated().map { normalized.contains($0.offset) ? 1 : $0.element })
            expectClose(kept, expected, rtol: 1e-5, atol: 1e-6)
            let dropped = x.sum(axes: axes)
            #expect(dropped.shape == [2, 3, 4].enumerated().filter { !normalized.contains($0.offset) }.map(\.element))
            expectClose(dropped.scalars, expected, rtol: 1e-5, atol: 1e-6)
            gradientCheck(inputs: [x]) { $0[0].sum(axes: axes) }
            gradientCheck(inputs: [x]) { $0[0].sum(axes: axes, keepDims: true) }
        }

        @Test("mean(axes:) divides by the reduced count")
        func meanAxes() {
            let x = seededNormal([2, 3, 4], seed: 3)
            let expected = Self.loopSum(x, axes: [0, 2]).map { Float($0 / 8) }
            expectClose(x.mean(axes: [0, 2]), expected, rtol: 1e-5, atol: 1e-6)
            expectClose(x.mean(axis: 1, keepDims: true), Self.loopSum(x, axes: [1]).map { Float($0 / 3) },
                        rtol: 1e-5, atol: 1e-6)
            gradientCheck(inputs: [x]) { $0[0].mean(axes: [0, 2]) }
            gradientCheck(inputs: [x]) { $0[0].mean(axis: 1) }
            gradientCheck(inputs: [x]) { $0[0].mean() }
            gradientCheck(inputs: [x]) { $0[0].sum() }
        }

        @Test("max(axis:) values, shapes and gradient to the maximal element", arguments: [0, 1, 2, -1])
        func maxAxis(_ axis: Int) {
            // Distinct values, so x ± h never changes which element is the maximum.
            var rng = RandomGenerator(seed: 4)
            var values = (0..<24).map { Float($0) * 0.1 }
            rng.shuffle(&values)
            let x = Tensor(shape: [2, 3, 4], values)
            let a = axis < 0 ? axis + 3 : axis
            let y = x.max(axis: axis)
            var expectedShape = [2, 3, 4]; expectedShape.remove(at: a)
            #expect(y.shape == expectedShape)
            #expect(x.max(axis: axis, keepDims: true).shape == [2, 3, 4].enumerated().map { $0.offset == a ? 1 : $0.element })
            // Expected maxima by loops.
            var expected: [Float] = []
            for i in 0..<(a == 0 ? 1 : 2) { for j in 0..<(a == 1 ? 1 : 3) { for k in 0..<(a == 2 ? 1 : 4) {
                var best = -Float.infinity
                for r in 0..<[2, 3, 4][a] {
                    var idx = [i, j, k]; idx[a] = r
                    best = Swift.max(best, x[idx[0], idx[1], idx[2]])
                }
                expected.append(best)
            } } }
            #expect(y.scalars == expected)
            gradientCheck(inputs: [x], step: 1e-3) { $0[0].max(axis: axis) }
        }

        @Test("max(axis:) sends the gradient to the first of tied maxima only")
        func maxTies() {
            let x = Tensor(shape: [1, 4], [1, 3, 3, 2], requiresGrad: true)
            let y = x.max(axis: 1)
            #expect(y.scalars == [3])
            y.sum().backward()
            #expect(x.grad?.scalars == [0, 1, 0, 0])
        }
    }
}
