import Testing
import Tensors
import TestSupport

/// Group, layer and batch normalisation against their definitions, computed here in Double:
///
///     y = γ[c] · (x − μ) / √(σ² + eps) + β[c],   μ, σ² the mean and biased variance of the set
///
/// where the set is (sample, group) for group norm, the last dimension for layer norm and
/// (channel, over batch and space) for batch norm in training.
extension TensorsSuite {
    @Suite("Normalisation")
    struct NormalizationTests {
        /// Standardises each of `sets` (lists of flat indices) and applies the per-element affine.
        static func normalize(_ x: [Float], sets: [[Int]], eps: Double, gamma: (Int) -> Double, beta: (Int) -> Double) -> [Float] {
            var y = [Float](repeating: .nan, count: x.count)
            for set in sets {
                let n = Double(set.count)
                let mean = set.reduce(0.0) { $0 + Double(x[$1]) } / n
                let variance = set.reduce(0.0) { $0 + (Double(x[$1]) - mean) * (Double(x[$1]) - mean) } / n
                for i in set { y[i] = Float((Double(x[i]) - mean) / (variance + eps).squareRoot() * gamma(i) + beta(i)) }
            }
            return y
        }

        /// The index sets of group norm on [B, C, S] (S = spatial size).
        static func groupSets(b: Int, c: Int, s: Int, groups: Int) -> [[Int]] {
            let cpg = c / groups
            return (0..<b).flatMap { bi in (0..<groups).map { g in
                Array(((bi * c + g * cpg) * s)..<((bi * c + (g + 1) * cpg) * s))
            } }
        }

        @Test("groupNorm equals the definition (with and without affine)", arguments: [1, 2, 6])
        func groupNormValues(groups: Int) {
            let x = seededNormal([2, 6, 3, 2], seed: 1, mean: 0.5, std: 2)
            let w = seededNormal([6], seed: 2), b = seededNormal([6], seed: 3)
            let sets = Self.groupSets(b: 2, c: 6, s: 6, groups: groups)
            let channel = { (i: Int) in (i / 6) % 6 }
            let expected = Self.normalize(x.scalars, sets: sets, eps: 1e-6,
                                          gamma: { Double(w.scalars[channel($0)]) }, beta: { Double(b.scalars[channel($0)]) })
            expectClose(groupNorm(x, groups: groups, weight: w, bias: b, eps: 1e-6), expected, rtol: 1e-4, atol: 1e-5)
            let plain = Self.normalize(x.scalars, sets: sets, eps: 1e-5, gamma: { _ in 1 }, beta: { _ in 0 })
            expectClose(groupNorm(x, groups: groups, weight: nil, bias: nil), plain, rtol: 1e-4, atol: 1e-5)
        }

        @Test("groupNorm gradients (x, weight, bias)", arguments: [1, 2, 6])
        func groupNormGradients(groups: Int) {
            let x = seededNormal([2, 6, 2, 2], seed: 4)
            let w = seededNormal([6], seed: 5), b = seededNormal([6], seed: 6)
            gradientCheck(inputs: [x, w, b]) { groupNorm($0[0], groups: groups, weight: $0[1], bias: $0[2], eps: 1e-6) }
            gradientCheck(inputs: [x]) { groupNorm($0[0], groups: groups, weight: nil, bias: nil) }
            gradientCheck(inputs: [x, w]) { groupNorm($0[0], groups: groups, weight: $0[1], bias: nil) }
        }

        @Test("groupNorm on a [B, C] tensor (no spatial dimensions)")
        func groupNormFlat() {
            let x = seededNormal([3, 4], seed: 7)
            let expected = Self.normalize(x.scalars, sets: Self.groupSets(b: 3, c: 4, s: 1, groups: 2), eps: 1e-5,
                                          gamma: { _ in 1 }, beta: { _ in 0 })
            expectClose(groupNorm(x, groups: 2, weight: nil, bias: nil), expected, rtol: 1e-4, atol: 1e-5)
            gradientCheck(inputs: [x, seededNormal([4], seed: 8)]) { groupNorm($0[0], groups: 2, weight: $0[1], bias: nil) }
        }

        @Test("layerNorm equals the definition over the last dimension, and its gradients")
        func layerNormValuesAndGradients() {
            let x = seededNormal([2, 3, 5], seed: 9, mean: -1, std: 3)
            let w = seededNormal([5], seed: 10), b = seededNormal([5], seed: 11)
            let sets = (0..<6).map { r in Array((r * 5)..<((r + 1) * 5)) }
            let expected = Self.normalize(x.scalars, sets: sets, eps: 1e-5,
                                          gamma: { Double(w.scalars[$0 % 5]) }, beta: { Double(b.scalars[$0 % 5]) })
            expectClose(layerNorm(x, weight: w, bias: b), expected, rtol: 1e-4, atol: 1e-5)
            gradientCheck(inputs: [x, w, b]) { layerNorm($0[0], weight: $0[1], bias: $0[2]) }
            gradientCheck(inputs: [x]) { layerNorm($0[0], weight: nil, bias: nil) }
            gradientCheck(inputs: [x, b]) { layerNorm($0[0], weight: nil, bias: $0[1]) }
        }

        @Test("batchNorm in training: batch statistics, running statistics updated as PyTorch")
        func batchNormTraining() {
            let x = seededNormal([3, 2, 2, 2], seed: 12, mean: 1, std: 2)
            let w = seededNormal([2], seed: 13), b = seededNormal([2], seed: 14)
            let runningMean = Tensor.zeros([2]), runningVar = Tensor.ones([2])
            let y = batchNorm(x, runningMean: runningMean, runningVar: runningVar, weight: w, bias: b,
                              training: true, momentum: 0.1, eps: 1e-5)
            // Sets: one per channel, over batch and space.
            var sets: [[Int]] = [[], []]
            for c in 0..<2 { for bi in 0..<3 { sets[c] += Array(((bi * 2 + c) * 4)..<((bi * 2 + c) * 4 + 4)) } }
            let channel = { (i: Int) in (i / 4) % 2 }
            expectClose(y, Self.normalize(x.scalars, sets: sets, eps: 1e-5, gamma: { Double(w.scalars[channel($0)]) },
                                          beta: { Double(b.scalars[channel($0)]) }), rtol: 1e-4, atol: 1e-5)
            // running = 0.9·running + 0.1·batch, with the unbiased variance (n − 1 = 11).
            for (c, set) in sets.enumerated() {
                let values = set.map { Double(x.scalars[$0]) }
                let mean = values.reduce(0, +) / 12
                let squares: Double = values.reduce(0) { (acc: Double, v: Double) in acc + (v - mean) * (v - mean) }
                let unbiased = squares / 11
                expectClose(runningMean.scalars[c], Float(0.1 * mean), rtol: 1e-5, atol: 1e-6, "running mean \(c)")
                expectClose(runningVar.scalars[c], Float(0.9 + 0.1 * unbiased), rtol: 1e-5, atol: 1e-6, "running var \(c)")
            }
            gradientCheck(inputs: [x, w, b]) {
                batchNorm($0[0], runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), weight: $0[1], bias: $0[2], training: true)
            }
            gradientCheck(inputs: [x]) {
                batchNorm($0[0], runningMean: Tensor.zeros([2]), runningVar: Tensor.ones([2]), weight: nil, bias: nil, training: true)
            }
        }

        @Test("batchNorm in evaluation uses the running statistics and leaves them alone")
        func batchNormEvaluation() {
            let x = seededNormal([2, 3, 2, 1], seed: 15)
            let rm = Tensor(shape: [3], [0.5, -1, 2]), rv = Tensor(shape: [3], [1, 4, 0.25])
            let w = Tensor(shape: [3], [1, 2, -1]), b = Tensor(shape: [3], [0, 0.5, 1])
            let y = batchNorm(x, runningMean: rm, runningVar: rv, weight: w, bias: b, training: false, eps: 1e-5)
            var expected: [Float] = []
            for (i, v) in x.scalars.enumerated() {
                let c = (i / 2) % 3
                let norm = (Double(v) - Double(rm.scalars[c])) / (Double(rv.scalars[c]) + 1e-5).squareRoot()
                expected.append(Float(norm * Double(w.scalars[c]) + Double(b.scalars[c])))
            }
            expectClose(y, expected, rtol: 1e-5, atol: 1e-6)
            #expect(rm.scalars == [0.5, -1, 2] && rv.scalars == [1, 4, 0.25])
            gradientCheck(inputs: [x, w, b]) {
                batchNorm($0[0], runningMean: rm, runningVar: rv, weight: $0[1], bias: $0[2], training: false)
            }
        }
    }
}
