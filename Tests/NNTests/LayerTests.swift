import Foundation
import Testing
import Tensors
import TestSupport
@testable import NN

/// Layers against their definitions, computed here from the formulas, and default initialisation
/// against PyTorch's documented distributions.
extension NNSuite {
    @Suite("Layers")
    struct LayerTests {
        /// Mean and (population) variance of `values`, in Double.
        static func moments(_ values: [Float]) -> (mean: Double, variance: Double) {
            let n = Double(values.count)
            let mean = values.reduce(0.0) { $0 + Double($1) } / n
            let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
            return (mean, variance)
        }

        /// Checks that `values` look like U(−bound, bound): inside it, reaching near both ends, with
        /// mean ≈ 0 and variance ≈ bound²/3.
        static func expectUniform(_ values: [Float], bound: Double, _ what: String) {
            let lo = Double(values.min()!), hi = Double(values.max()!)
            #expect(lo >= -bound && hi <= bound, "\(what): range [\(lo), \(hi)] outside ±\(bound)")
            #expect(lo < -0.95 * bound && hi > 0.95 * bound, "\(what): range [\(lo), \(hi)] does not fill ±\(bound)")
            let (mean, variance) = moments(values)
            #expect(abs(mean) < 0.05 * bound, "\(what): mean \(mean)")
            #expect(abs(variance / (bound * bound / 3) - 1) < 0.1, "\(what): variance \(variance)")
        }

        @Test("Linear and Conv2d start from kaiming-uniform(a = √5) weights and U(±1/√fan_in) biases")
        func defaultInit() {
            // PyTorch: gain = √(2 / (1 + a²)), bound = gain · √(3 / fan_in), which is 1/√fan_in.
            func torchBound(_ fanIn: Double) -> Double { (2.0 / (1 + 5)).squareRoot() * (3 / fanIn).squareRoot() }
            #expect(abs(torchBound(50) - 1 / 50.0.squareRoot()) < 1e-12)
            var rng = RandomGenerator(seed: 7)
            let linear = Linear(inFeatures: 50, outFeatures: 400, rng: &rng)
            Self.expectUniform(linear.weight.scalars, bound: torchBound(50), "Linear weight")
            Self.expectUniform(linear.bias!.scalars, bound: 1 / 50.0.squareRoot(), "Linear bias")
            #expect(linear.weight.shape == [400, 50])
            let conv = Conv2d(inChannels: 4, outChannels: 256, kernelSize: 3, rng: &rng)
            #expect(conv.weight.shape == [256, 4, 3, 3])
            Self.expectUniform(conv.weight.scalars, bound: torchBound(36), "Conv2d weight")
            let (bm, _) = Self.moments(conv.bias!.scalars)
            #expect(conv.bias!.scalars.allSatisfy { abs(Double($0)) <= 1 / 6.0 } && abs(bm) < 0.05)
            #expect(linear.weight.requiresGrad && linear.bias!.requiresGrad && conv.weight.requiresGrad)
        }

        @Test("Embedding starts N(0, 1); norms start at weight 1, bias 0")
        func otherInit() {
            var rng = RandomGenerator(seed: 8)
            let e = Embedding(count: 200, dimension: 50, rng: &rng)
            let (mean, variance) = Self.moments(e.weight.scalars)
            #expect(abs(mean) < 0.03 && abs(variance - 1) < 0.05)
            for norm in [GroupNorm(groups: 2, channels: 6).weight, LayerNorm(6).weight, BatchNorm2d(6).weight] {
                #expect(norm?.scalars == [Float](repeating: 1, count: 6))
            }
            for norm in [GroupNorm(groups: 2, channels: 6).bias, LayerNorm(6).bias, BatchNorm2d(6).bias] {
                #expect(norm?.scalars == [Float](repeating: 0, count: 6))
            }
            #expect(GroupNorm(groups: 2, channels: 6, affine: false).parameterCount == 0)
        }

        @Test("Linear computes x·Wᵀ + b")
        func linearValues() {
            var rng = RandomGenerator(seed: 1)
            let l = Linear(inFeatures: 3, outFeatures: 2, rng: &rng)
            let w: [Float] = [1, 2, 3, -1, 0.5, 0], b: [Float] = [0.25, -1]
            l.weight.copy(from: Tensor(shape: [2, 3], w))
            l.bias!.copy(from: Tensor(shape: [2], b))
            let x: [Float] = [1, 0, -1, 2, 3, 4]   // two rows
            var expected: [Float] = []
            for r in 0..<2 {
                for o in 0..<2 { expected.append((0..<3).reduce(b[o]) { $0 + x[r * 3 + $1] * w[o * 3 + $1] }) }
            }
            expectClose(l(Tensor(shape: [2, 3], x)), Tensor(shape: [2, 2], expected))
            let noBias = Linear(inFeatures: 3, outFeatures: 2, bias: false, rng: &rng)
            #expect(noBias.bias == nil && noBias.namedParameters().map(\.0) == ["weight"])
        }

        @Test("Conv2d is a cross-correlation with per-side zero padding and stride")
        func convValues() {
            var rng = RandomGenerator(seed: 1)
            let pad = Padding(left: 0, right: 1, top: 0, bottom: 1)
            let conv = Conv2d(inChannels: 2, outChannels: 3, kernelSize: 3, stride: 2, padding: pad, rng: &rng)
            let x = seededNormal([1, 2, 5, 5], seed: 3)
            let y = conv(x)
            #expect(y.shape == [1, 3, 2, 2])   // (5 + 0 + 1 − 3) / 2 + 1 = 2
            let w = conv.weight, b = conv.bias!
            for o in 0..<3 {
                for i in 0..<2 {
                    for j in 0..<2 {
                        var s = Double(b[o])
                        for c in 0..<2 {
                            for u in 0..<3 {
                                for v in 0..<3 {
                                    let r = i * 2 + u, q = j * 2 + v   // top and left padding are 0
                                    if r < 5 && q < 5 { s += Double(w[o, c, u, v]) * Double(x[0, c, r, q]) }
                                }
                            }
                        }
                        expectClose(y[0, o, i, j], Float(s), rtol: 1e-5, atol: 1e-5)
                    }
                }
            }
            let same = Conv2d(inChannels: 2, outChannels: 1, kernelSize: 3, padding: 1, rng: &rng)
            #expect(same.padding == .same(1) && same(x).shape == [1, 1, 5, 5])
        }

        @Test("LayerNorm standardises the last dimension, then scales and shifts")
        func layerNormValues() {
            let ln = LayerNorm(4, eps: 1e-5)
            ln.weight!.copy(from: Tensor(shape: [4], [1, 2, 0.5, -1]))
            ln.bias!.copy(from: Tensor(shape: [4], [0, 1, 0, 0.5]))
            let y = ln(Tensor(shape: [1, 4], [1, 2, 3, 4]))
            // mean 2.5, biased variance 1.25.
            let r = 1 / (1.25 + 1e-5).squareRoot()
            let expected = [-1.5 * r * 1, -0.5 * r * 2 + 1, 0.5 * r * 0.5, 1.5 * r * -1 + 0.5].map(Float.init)
            expectClose(y, expected, rtol: 1e-5, atol: 1e-6)
        }

        @Test("GroupNorm standardises each (sample, group)")
        func groupNormValues() {
            let gn = GroupNorm(groups: 2, channels: 4, eps: 1e-6)
            let x = seededNormal([2, 4, 3, 3], seed: 5, mean: 1, std: 3)
            let y = gn(x)
            for b in 0..<2 {
                for g in 0..<2 {
                    let base = (b * 4 + g * 2) * 9
                    let values = Array(x.scalars[base..<(base + 18)])
                    let (mean, variance) = Self.moments(values)
                    let expected = values.map { Float((Double($0) - mean) / (variance + 1e-6).squareRoot()) }
                    expectClose(Array(y.scalars[base..<(base + 18)]), expected, rtol: 1e-4, atol: 1e-5)
                }
            }
        }

        @Test("BatchNorm2d updates running statistics in training and uses them in evaluation")
        func batchNorm() {
            let bn = BatchNorm2d(2, momentum: 0.1, eps: 1e-5)
            let x = seededNormal([3, 2, 2, 2], seed: 9, mean: 2, std: 1.5)
            _ = bn(x)
            for c in 0..<2 {
                var values: [Float] = []
                for b in 0..<3 { for i in 0..<4 { values.append(x.scalars[(b * 2 + c) * 4 + i]) } }
                let (mean, variance) = Self.moments(values)
                let unbiased = variance * 12 / 11
                expectClose(bn.running_mean[c], Float(0.1 * mean), rtol: 1e-5, atol: 1e-6)
                expectClose(bn.running_var[c], Float(0.9 + 0.1 * unbiased), rtol: 1e-5, atol: 1e-6)
            }
            bn.eval()
            let before = bn.running_mean.scalars
            let y = bn(x)
            #expect(bn.running_mean.scalars == before)
            for i in [0, 5, 13, 22] {
                let c = (i / 4) % 2
                let expected = (x.scalars[i] - bn.running_mean[c]) / (bn.running_var[c] + 1e-5).squareRoot()
                expectClose(y.scalars[i], expected, rtol: 1e-5, atol: 1e-6)
            }
        }

        @Test("Embedding picks rows")
        func embeddingRows() {
            var rng = RandomGenerator(seed: 2)
            let e = Embedding(count: 5, dimension: 3, rng: &rng)
            let y = e([4, 0, 4])
            #expect(y.shape == [3, 3])
            let w = e.weight.scalars
            #expect(y.scalars == Array(w[12..<15]) + Array(w[0..<3]) + Array(w[12..<15]))
        }

        @Test("Dropout drops with probability p and rescales in training, is the identity in evaluation")
        func dropoutLayer() {
            let x = Tensor.ones([10_000])
            let d = Dropout(p: 0.25, seed: 11)
            let y = d(x).scalars
            let zeros = y.filter { $0 == 0 }.count
            #expect(y.allSatisfy { $0 == 0 || abs($0 - 1 / 0.75) < 1e-6 })
            #expect(abs(Double(zeros) / 10_000 - 0.25) < 0.02)
            // The same seed draws the same mask; the layer's generator advances between calls.
            #expect(Dropout(p: 0.25, seed: 11)(x).scalars == y)
            #expect(d(x).scalars != y)
            d.eval()
            #expect(d(x).scalars == x.scalars)
            #expect(Dropout(p: 0, seed: 1)(x).scalars == x.scalars)
        }

        @Test("activations apply their formulas")
        func activations() {
            let x = Tensor(shape: [4], [-2, -0.5, 0.5, 3])
            expectClose(LeakyReLU(0.2)(x), [-0.4, -0.1, 0.5, 3])
            expectClose(ReLU()(x), [0, 0, 0.5, 3])
            expectClose(SiLU()(x), x.scalars.map { $0 / (1 + exp(-$0)) }, rtol: 1e-6)
            let gelu = x.scalars.map { Double($0) }.map { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }
            expectClose(GELU()(x), gelu.map(Float.init), rtol: 1e-5)
            expectClose(Tanh()(x), x.scalars.map { Foundation.tanh($0) }, rtol: 1e-6)
        }

        @Test("Sequential applies its layers in order")
        func sequential() {
            var rng = RandomGenerator(seed: 3)
            let a = Linear(inFeatures: 2, outFeatures: 3, rng: &rng), b = Linear(inFeatures: 3, outFeatures: 1, rng: &rng)
            let s = Sequential(a, LeakyReLU(0.2), b)
            let x = seededNormal([4, 2], seed: 4)
            expectBitIdentical(s(x), b(a(x).leakyRelu(0.2)))
            #expect(s.count == 3 && s[1] is LeakyReLU)
        }
    }
}
