import Foundation
import Testing
import Tensors
import TestSupport

/// Softmax, log-softmax and the losses, against log-sum-exp written out by hand in Double.
extension TensorsSuite {
    @Suite("Softmax and losses")
    struct SoftmaxLossTests {
        /// log Σ exp(v), stabilised by the maximum.
        static func logSumExp(_ v: [Double]) -> Double {
            let m = v.max()!
            return m + Foundation.log(v.reduce(0) { $0 + Foundation.exp($1 - m) })
        }

        /// Runs of `x` [2, 3, 4] along `axis`, as lists of flat indices.
        static func runs(axis: Int) -> [[Int]] {
            let shape = [2, 3, 4]
            let strides = [12, 4, 1]
            var result: [[Int]] = []
            for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
                let idx = [i, j, k]
                guard idx[axis] == 0 else { continue }
                result.append((0..<shape[axis]).map { r in
                    var m = idx; m[axis] = r
                    return zip(m, strides).map(*).reduce(0, +)
                })
            } } }
            return result
        }

        @Test("softmax and logSoftmax along each axis", arguments: [0, 1, 2, -1])
        func softmaxAxes(_ axis: Int) {
            let x = seededNormal([2, 3, 4], seed: 1, std: 2)
            let a = axis < 0 ? axis + 3 : axis
            var expectedSoft = [Float](repeating: .nan, count: 24), expectedLog = expectedSoft
            for run in Self.runs(axis: a) {
                let v = run.map { Double(x.scalars[$0]) }
                let lse = Self.logSumExp(v)
                for (i, flat) in run.enumerated() {
                    expectedLog[flat] = Float(v[i] - lse)
                    expectedSoft[flat] = Float(Foundation.exp(v[i] - lse))
                }
            }
            expectClose(softmax(x, axis: axis), expectedSoft, rtol: 1e-5, atol: 1e-7)
            expectClose(logSoftmax(x, axis: axis), expectedLog, rtol: 1e-5, atol: 1e-6)
            gradientCheck(inputs: [x]) { softmax($0[0], axis: axis) }
            gradientCheck(inputs: [x]) { logSoftmax($0[0], axis: axis) }
        }

        @Test("softmax is stable for large logits and exact for equal ones")
        func softmaxStability() {
            let x = Tensor(shape: [2, 2], [1000, 1000, -1000, 0])
            let y = softmax(x).scalars
            #expect(y[0] == 0.5 && y[1] == 0.5)
            #expect(y[2] == 0 && y[3] == 1)
            let l = logSoftmax(x).scalars
            #expect(l[3] == 0 && l[2] == -1000)
            // −∞ entries (masked logits) get probability zero.
            let masked = softmax(Tensor(shape: [3], [0, -.infinity, 0])).scalars
            #expect(masked == [0.5, 0, 0.5])
        }

        @Test("a fully masked row (all −∞) gives a uniform distribution, not NaN")
        func fullyMaskedRow() {
            // Regression (fixed in 234a99c): this gave NaN (0 · 1/0). Masked rows can occur when a
            // caller masks every key of a query.
            let y = softmax(Tensor(shape: [1, 4], repeating: -.infinity)).scalars
            #expect(y == [0.25, 0.25, 0.25, 0.25], "softmax of an all −∞ row: \(y)")
            let logY = logSoftmax(Tensor(shape: [2, 2], [-.infinity, -.infinity, 0, 0])).scalars
            expectClose(logY, [Float](repeating: -Float(Foundation.log(2.0)), count: 4), rtol: 1e-6)
            // Along a non-last axis too, and only the masked run is affected.
            let cols = softmax(Tensor(shape: [2, 2], [-.infinity, 0, -.infinity, 0]), axis: 0).scalars
            #expect(cols == [0.5, 0.5, 0.5, 0.5])
        }

        @Test("crossEntropy is the mean of logsumexp − logit[target] over non-ignored rows")
        func crossEntropyValues() {
            let logits = seededNormal([5, 4], seed: 2, std: 2)
            let targets = [1, 3, -100, 0, 3]
            var total = 0.0
            for (i, t) in targets.enumerated() where t != -100 {
                let row = (0..<4).map { Double(logits[i, $0]) }
                total += Self.logSumExp(row) - row[t]
            }
            let loss = crossEntropy(logits: logits, targets: targets, ignoreIndex: -100)
            #expect(loss.shape == [])
            expectClose(loss.item, Float(total / 4), rtol: 1e-5)
            gradientCheck(inputs: [logits]) { crossEntropy(logits: $0[0], targets: targets, ignoreIndex: -100) }
            // The ignored row gets no gradient at all.
            let leaf = logits.clone(); leaf.requiresGrad = true
            let g = crossEntropy(logits: leaf, targets: targets, ignoreIndex: -100).gradients(with: [leaf])[0]
            #expect((0..<4).allSatisfy { g[2, $0] == 0 })
            // Each used row's gradient sums to zero (softmax − one-hot).
            for i in [0, 1, 3, 4] { expectClose((0..<4).reduce(Float(0)) { $0 + g[i, $1] }, 0, atol: 1e-6) }
        }

        @Test("crossEntropy over [B, T, V] logits, without an ignore index")
        func crossEntropyRank3() {
            let logits = seededNormal([2, 3, 5], seed: 3)
            let targets = [0, 4, 2, 2, 1, 3]
            let rows = logits.reshaped([6, 5])
            let expected = targets.enumerated().reduce(0.0) { acc, e in
                let row = (0..<5).map { Double(rows[e.offset, $0]) }
                return acc + Self.logSumExp(row) - row[e.element]
            } / 6
            expectClose(crossEntropy(logits: logits, targets: targets).item, Float(expected), rtol: 1e-5)
            gradientCheck(inputs: [logits]) { crossEntropy(logits: $0[0], targets: targets) }
            // A uniform prediction costs log V.
            expectClose(crossEntropy(logits: Tensor.zeros([2, 5]), targets: [1, 4]).item, Float(Foundation.log(5.0)), rtol: 1e-6)
        }

        @Test("crossEntropy with every target ignored is zero with a zero gradient")
        func crossEntropyAllIgnored() {
            let logits = seededNormal([2, 3], seed: 4)
            logits.requiresGrad = true
            let loss = crossEntropy(logits: logits, targets: [7, 7], ignoreIndex: 7)
            #expect(loss.item == 0)
            #expect(loss.gradients(with: [logits])[0].scalars.allSatisfy { $0 == 0 })
        }

        @Test("binaryCrossEntropyWithLogits is −[t·log σ(x) + (1 − t)·log(1 − σ(x))], stable for large |x|")
        func binaryCrossEntropy() {
            let x = seededNormal([2, 3, 4], seed: 5, std: 3)
            let t = seededUniform([2, 3, 4], seed: 6, low: 0, high: 1)
            var total = 0.0
            for (xv, tv) in zip(x.scalars.map(Double.init), t.scalars.map(Double.init)) {
                let s = 1 / (1 + Foundation.exp(-xv))
                total -= tv * Foundation.log(s) + (1 - tv) * Foundation.log(1 - s)
            }
            expectClose(binaryCrossEntropyWithLogits(x, targets: t).item, Float(total / 24), rtol: 1e-5)
            gradientCheck(inputs: [x, t]) { binaryCrossEntropyWithLogits($0[0], targets: $0[1]) }
            // Far into the tails: log(1 + e^−|x|) keeps it finite; the exact value is |x| for the wrong label.
            let big = binaryCrossEntropyWithLogits(Tensor(shape: [2], [100, -100]), targets: Tensor(shape: [2], [0, 1]))
            expectClose(big.item, 100, rtol: 1e-6)
            let good = binaryCrossEntropyWithLogits(Tensor(shape: [2], [100, -100]), targets: Tensor(shape: [2], [1, 0]))
            #expect(good.item >= 0 && good.item < 1e-30)
        }

        @Test("mseLoss and l1Loss")
        func regressionLosses() {
            let a = Tensor(shape: [2, 2], [1, 2, 3, 4]), b = Tensor(shape: [2, 2], [0, 4, 3, 5])
            #expect(mseLoss(a, b).item == 1.5)   // (1 + 4 + 0 + 1) / 4
            #expect(l1Loss(a, b).item == 1)     // (1 + 2 + 0 + 1) / 4
            let x = seededNormal([3, 4], seed: 7), y = seededNormal([3, 4], seed: 8)
            gradientCheck(inputs: [x, y]) { mseLoss($0[0], $0[1]) }
            gradientCheck(inputs: [x, y], step: 1e-3) { l1Loss($0[0], $0[1]) }
        }
    }
}
