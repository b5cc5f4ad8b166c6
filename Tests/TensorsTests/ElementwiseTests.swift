import Foundation
import Testing
import Tensors
import TestSupport

/// Element-wise arithmetic with broadcasting and the unary functions: values from their formulas,
/// gradients by finite differences.
extension TensorsSuite {
    @Suite("Element-wise ops")
    struct ElementwiseTests {
        // MARK: Broadcasting values

        @Test("[2, 3] + [3] adds the row to every row")
        func broadcastRow() {
            let a = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
            let b = Tensor(shape: [3], [10, 20, 30])
            let y = a + b
            #expect(y.shape == [2, 3])
            #expect(y.scalars == [11, 22, 33, 14, 25, 36])
            let z = b - a // broadcasting on the left operand as well
            #expect(z.scalars == [9, 18, 27, 6, 15, 24])
        }

        @Test("[B, C, H, W] · [1, C, 1, 1] scales each channel")
        func broadcastPerChannel() {
            let x = seededNormal([2, 3, 2, 2], seed: 1)
            let s = Tensor(shape: [1, 3, 1, 1], [2, -1, 0.5])
            let y = x * s
            #expect(y.shape == [2, 3, 2, 2])
            let xs = x.scalars, ys = y.scalars, factors: [Float] = [2, -1, 0.5]
            for b in 0..<2 { for c in 0..<3 { for p in 0..<4 {
                let i = (b * 3 + c) * 4 + p
                #expect(ys[i] == xs[i] * factors[c])
            } } }
        }

        @Test("[2, 1, 3] + [4, 1] broadcasts both ways to [2, 4, 3]")
        func broadcastBothWays() {
            let a = Tensor(shape: [2, 1, 3], [0, 1, 2, 3, 4, 5])
            let b = Tensor(shape: [4, 1], [0, 10, 20, 30])
            let y = a + b
            #expect(y.shape == [2, 4, 3])
            for i in 0..<2 { for j in 0..<4 { for k in 0..<3 {
                #expect(y[i, j, k] == Float(i * 3 + k) + Float(j * 10))
            } } }
        }

        @Test("a rank-0 tensor broadcasts like a number")
        func broadcastScalarTensor() {
            let x = Tensor(shape: [2, 2], [1, 2, 3, 4])
            #expect((x * Tensor(3)).scalars == [3, 6, 9, 12])
            #expect((Tensor(3) - x).scalars == [2, 1, 0, -1])
            #expect((x / Tensor(2)).shape == [2, 2])
            #expect((x + 1).scalars == [2, 3, 4, 5])
            #expect((1 - x).scalars == [0, -1, -2, -3])
            #expect((x / 4).scalars == [0.25, 0.5, 0.75, 1])
            #expect((-x).scalars == [-1, -2, -3, -4])
        }

        @Test("the result's shape is the broadcast of both shapes, whichever side has one element")
        func broadcastShapeIsSymmetric() {
            // Regression (fixed in 234a99c): the one-element fast path returned a's shape, so
            // x[3] + t[1, 1] was [3] while t[1, 1] + x[3] was [1, 3].
            let x = Tensor(shape: [3], [1, 2, 3]), one = Tensor(shape: [1, 1], [1])
            #expect((one + x).shape == [1, 3])
            #expect((x + one).shape == [1, 3])
            #expect((Tensor(shape: [1], [3]) * Tensor(2)).shape == [1])
            #expect((Tensor(2) * Tensor(shape: [1], [3])).shape == [1])
        }

        // MARK: Gradients of arithmetic

        /// Shape pairs that exercise every broadcasting path: equal shapes, a scalar, trailing
        /// alignment, per-channel, and size-1 dimensions on both sides.
        static let shapePairs: [([Int], [Int])] = [
            ([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 3, 2, 2], [1, 3, 1, 1]),
            ([2, 3], []), ([], [2, 3]), ([2, 1, 3], [4, 1]), ([1, 3, 1, 2], [2, 1, 4, 1]),
        ]

        @Test("gradient of a + b, a − b, a · b, a / b under broadcasting", arguments: shapePairs)
        func arithmeticGradients(shapes: ([Int], [Int])) {
            let a = seededNormal(shapes.0, seed: 2)
            let b = seededUniform(shapes.1, seed: 3, low: 0.5, high: 1.5) // keeps a / b tame
            gradientCheck(inputs: [a, b], "add") { $0[0] + $0[1] }
            gradientCheck(inputs: [a, b], "sub") { $0[0] - $0[1] }
            gradientCheck(inputs: [a, b], "mul") { $0[0] * $0[1] }
            gradientCheck(inputs: [a, b], "div") { $0[0] / $0[1] }
        }

        @Test("gradient of operations with a Float and of negation")
        func scalarOperandGradients() {
            let x = seededNormal([3, 4], seed: 4)
            gradientCheck(inputs: [x]) { $0[0] + 2.5 }
            gradientCheck(inputs: [x]) { 2.5 + $0[0] }
            gradientCheck(inputs: [x]) { $0[0] - 1.5 }
            gradientCheck(inputs: [x]) { 1.5 - $0[0] }
            gradientCheck(inputs: [x]) { $0[0] * -3 }
            gradientCheck(inputs: [x]) { 0.5 * $0[0] }
            gradientCheck(inputs: [x]) { $0[0] / 4 }
            let positive = seededUniform([3, 4], seed: 41, low: 0.5, high: 2)
            gradientCheck(inputs: [positive]) { 3 / $0[0] }
            expectClose(3 / positive, positive.scalars.map { 3 / $0 }, rtol: 1e-6)
            gradientCheck(inputs: [x]) { -$0[0] }
        }

        @Test("a tensor used on both sides of an op gets both contributions")
        func sameTensorTwice() {
            let x = seededNormal([5], seed: 5)
            gradientCheck(inputs: [x]) { $0[0] * $0[0] }
            gradientCheck(inputs: [x]) { $0[0] + $0[0] * 3 - $0[0] / 2 }
            let leaf = Tensor(shape: [3], [1, 2, 3], requiresGrad: true)
            (leaf * leaf).sum().backward()
            #expect(leaf.grad?.scalars == [2, 4, 6])
        }

        // MARK: Unary functions

        /// A unary op with its formula in Double and a domain free of kinks and poles.
        struct Unary: CustomTestStringConvertible, Sendable {
            let name: String
            let op: @Sendable (Tensor) -> Tensor
            let reference: @Sendable (Double) -> Double
            let low: Float, high: Float
            /// Values drawn with |x| ≥ 0.1 (for functions with a kink at 0).
            var awayFromZero = false
            var testDescription: String { name }
        }

        static let unaries: [Unary] = [
            Unary(name: "exp", op: { $0.exp() }, reference: { Foundation.exp($0) }, low: -2, high: 2),
            Unary(name: "log", op: { $0.log() }, reference: { Foundation.log($0) }, low: 0.3, high: 3),
            Unary(name: "sqrt", op: { $0.sqrt() }, reference: { $0.squareRoot() }, low: 0.3, high: 3),
            Unary(name: "abs", op: { $0.abs() }, reference: { Swift.abs($0) }, low: -1, high: 1, awayFromZero: true),
            Unary(name: "squared", op: { $0.squared() }, reference: { $0 * $0 }, low: -2, high: 2),
            Unary(name: "pow(3)", op: { $0.pow(3) }, reference: { Foundation.pow($0, 3) }, low: -2, high: 2),
            Unary(name: "pow(0.5)", op: { $0.pow(0.5) }, reference: { Foundation.pow($0, 0.5) }, low: 0.3, high: 3),
            Unary(name: "pow(-1)", op: { $0.pow(-1) }, reference: { 1 / $0 }, low: 0.5, high: 3),
            Unary(name: "relu", op: { $0.relu() }, reference: { Swift.max($0, 0) }, low: -1, high: 1, awayFromZero: true),
            Unary(name: "leakyRelu(0.2)", op: { $0.leakyRelu(0.2) }, reference: { $0 > 0 ? $0 : 0.2 * $0 },
                  low: -1, high: 1, awayFromZero: true),
            Unary(name: "sigmoid", op: { $0.sigmoid() }, reference: { 1 / (1 + Foundation.exp(-$0)) }, low: -4, high: 4),
            Unary(name: "tanh", op: { $0.tanh() }, reference: { Foundation.tanh($0) }, low: -2, high: 2),
            Unary(name: "silu", op: { $0.silu() }, reference: { $0 / (1 + Foundation.exp(-$0)) }, low: -4, high: 4),
            Unary(name: "gelu", op: { $0.gelu() }, reference: { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) },
                  low: -3, high: 3),
            Unary(name: "clamped(-0.5, 0.5)", op: { $0.clamped(min: -0.5, max: 0.5) },
                  reference: { Swift.min(Swift.max($0, -0.5), 0.5) }, low: -1, high: 1),
        ]

        @Test("unary values match their formulas", arguments: unaries)
        func unaryValues(_ u: Unary) {
            let x = u.awayFromZero ? seededAwayFromZero([64], seed: 6)
                                   : seededUniform([64], seed: 6, low: u.low, high: u.high)
            let expected = x.scalars.map { Float(u.reference(Double($0))) }
            expectClose(u.op(x), expected, rtol: 2e-6, atol: 1e-6)
        }

        @Test("unary gradients match finite differences", arguments: unaries)
        func unaryGradients(_ u: Unary) {
            var x = u.awayFromZero ? seededAwayFromZero([2, 12], seed: 7)
                                   : seededUniform([2, 12], seed: 7, low: u.low, high: u.high)
            if u.name.hasPrefix("clamped") {
                // Keep x ± h away from the clipping points ±0.5.
                x = Tensor(shape: [2, 6], [-0.9, -0.7, -0.3, 0.0, 0.2, 0.4, 0.6, 0.8, -0.45, 0.45, 0.95, -0.95])
            }
            gradientCheck(inputs: [x], step: 1e-3) { u.op($0[0]) }
        }

        @Test("clamped passes no gradient where it clips")
        func clampGradientMask() {
            let x = Tensor(shape: [4], [-2, -0.2, 0.3, 2], requiresGrad: true)
            x.clamped(min: -1, max: 1).sum().backward()
            #expect(x.grad?.scalars == [0, 1, 1, 0])
        }

        @Test("well-known values: gelu(1), silu(1), sigmoid(0), sigmoid(±40) stays finite")
        func knownValues() {
            // GELU(1) = Φ(1) = 0.841344746; SiLU(1) = 1/(1+e⁻¹) = 0.731058579.
            expectClose(Tensor(1).gelu().item, 0.841344746, rtol: 1e-6)
            expectClose(Tensor(1).silu().item, 0.731058579, rtol: 1e-6)
            #expect(Tensor(0).sigmoid().item == 0.5)
            let s = Tensor(shape: [2], [-40, 40]).sigmoid().scalars
            #expect(s[0] >= 0 && s[0] < 1e-15 && s[1] == 1)
        }
    }
}
