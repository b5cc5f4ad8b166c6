import Testing
import Tensors
import TestSupport

/// Max pooling against windows read by hand, and its gradient by finite differences on inputs
/// whose values are at least 0.1 apart (so that a probe of ±0.01 never changes a window's winner).
extension TensorsSuite {
    @Suite("Max pooling")
    struct MaxPoolTests {
        /// Distinct values 0.1 apart in a seeded order: no ties, and no winner changes under probing.
        static func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
            var rng = RandomGenerator(seed: seed)
            var values = (0..<shape.product).map { Float($0) * 0.1 - 1 }
            rng.shuffle(&values)
            return Tensor(shape: shape, values)
        }

        @Test("2×2 windows with stride 2 keep each window's maximum")
        func nonOverlapping() {
            let x = Tensor(shape: [1, 1, 4, 4], [1, 5, 2, 0,
                                                 3, 4, 8, 7,
                                                 -1, -2, 6, 6,
                                                 -4, -3, 9, 6])
            let y = maxPool2d(x, kernel: 2, stride: 2)
            #expect(y.shape == [1, 1, 2, 2])
            #expect(y.scalars == [5, 8, -1, 9])
        }

        @Test("3×3 windows with stride 1 overlap; odd sizes drop the last partial window")
        func overlappingAndOdd() {
            let x = Tensor(shape: [1, 1, 3, 4], (0..<12).map(Float.init))
            let y = maxPool2d(x, kernel: 3, stride: 1)
            #expect(y.shape == [1, 1, 1, 2])
            #expect(y.scalars == [10, 11])
            let z = maxPool2d(Tensor(shape: [1, 1, 5, 5], (0..<25).map(Float.init)), kernel: 2, stride: 2)
            #expect(z.shape == [1, 1, 2, 2])
            #expect(z.scalars == [6, 8, 16, 18])
        }

        @Test("the gradient goes to each window's maximum, the first one on ties, and adds up where windows overlap")
        func gradientRouting() {
            let x = Tensor(shape: [1, 1, 2, 3], [1, 1, 0,
                                                 0, 1, 0], requiresGrad: true)
            // Windows (2×2, stride 1): columns 0–1 and 1–2; maxima at flat 0 (tie, first) and 1.
            let y = maxPool2d(x, kernel: 2, stride: 1)
            #expect(y.scalars == [1, 1])
            let g = (y * Tensor(shape: [1, 1, 1, 2], [2, 3])).sum().gradients(with: [x])[0]
            #expect(g.scalars == [2, 3, 0, 0, 0, 0])
            let overlap = Tensor(shape: [1, 1, 2, 3], [0, 9, 0, 0, 0, 0], requiresGrad: true)
            let go = maxPool2d(overlap, kernel: 2, stride: 1).sum().gradients(with: [overlap])[0]
            #expect(go.scalars == [0, 2, 0, 0, 0, 0])
        }

        @Test("finite differences agree with the backward pass")
        func gradientCheckMaxPool() {
            gradientCheck(inputs: [Self.distinct([2, 3, 4, 6], seed: 1)]) { maxPool2d($0[0], kernel: 2, stride: 2) }
            gradientCheck(inputs: [Self.distinct([1, 2, 5, 5], seed: 2)]) { maxPool2d($0[0], kernel: 3, stride: 2) }
            gradientCheck(inputs: [Self.distinct([1, 2, 4, 4], seed: 3)]) { maxPool2d($0[0], kernel: 2, stride: 1) }
        }

        @Test("several planes and threads give the same values as one thread")
        func threadsAgree() {
            let x = seededNormal([3, 5, 8, 8], seed: 4)
            let one = withThreadCount(1) { maxPool2d(x, kernel: 2, stride: 2) }
            let four = withThreadCount(4) { maxPool2d(x, kernel: 2, stride: 2) }
            expectBitIdentical(four, one)
            // Every output is the maximum of its window, read back by index.
            for plane in 0..<15 {
                let (b, c) = (plane / 5, plane % 5)
                for oy in 0..<4 {
                    for ox in 0..<4 {
                        let window = [x[b, c, 2 * oy, 2 * ox], x[b, c, 2 * oy, 2 * ox + 1],
                                      x[b, c, 2 * oy + 1, 2 * ox], x[b, c, 2 * oy + 1, 2 * ox + 1]]
                        #expect(one[b, c, oy, ox] == window.max()!)
                    }
                }
            }
        }
    }
}
