import Testing
import Tensors
import TestSupport

/// Embedding lookups and dropout.
extension TensorsSuite {
    @Suite("Embedding and dropout")
    struct EmbeddingDropoutTests {
        @Test("embedding gathers rows; repeated indices add their gradients")
        func embeddingLookup() {
            let table = Tensor(shape: [4, 2], [0, 1, 10, 11, 20, 21, 30, 31], requiresGrad: true)
            let y = embedding([2, 0, 2, 3], weight: table)
            #expect(y.shape == [4, 2])
            #expect(y.scalars == [20, 21, 0, 1, 20, 21, 30, 31])
            let g = (y * Tensor(shape: [4, 2], [1, 2, 3, 4, 5, 6, 7, 8])).sum().gradients(with: [table])[0]
            // Row 2 is used at positions 0 and 2: (1 + 5, 2 + 6); row 1 never.
            #expect(g.scalars == [3, 4, 0, 0, 6, 8, 7, 8])
            gradientCheck(inputs: [seededNormal([5, 3], seed: 1)]) { embedding([4, 1, 1, 0, 4, 4], weight: $0[0]) }
            #expect(embedding([], weight: table).shape == [0, 2])
        }

        @Test("dropout with a fixed mask: survivors scaled by 1/(1 − p), gradient through the same mask")
        func dropoutFixedMask() {
            let x = seededNormal([4, 8], seed: 2)
            var rng = RandomGenerator(seed: 3)
            let y = dropout(x, p: 0.25, training: true, rng: &rng)
            var zeros = 0
            for (a, b) in zip(x.scalars, y.scalars) {
                if b == 0 { zeros += 1 } else { expectClose(b, a / 0.75, rtol: 1e-6) }
            }
            #expect(zeros > 0 && zeros < 32)
            // The same seed draws the same mask, so f is a fixed function of x for the check.
            gradientCheck(inputs: [x]) { inputs in
                var r = RandomGenerator(seed: 3)
                return dropout(inputs[0], p: 0.25, training: true, rng: &r)
            }
        }

        @Test("dropout drops a fraction p and keeps the mean")
        func dropoutStatistics() {
            var rng = RandomGenerator(seed: 4)
            let n = 100_000, p: Float = 0.3
            let y = dropout(Tensor.ones([n]), p: p, training: true, rng: &rng).scalars
            let dropped = Double(y.filter { $0 == 0 }.count) / Double(n)
            #expect(Swift.abs(dropped - 0.3) < 0.0075, "dropped fraction \(dropped)")   // 5σ
            let mean = y.reduce(0.0) { $0 + Double($1) } / Double(n)
            #expect(Swift.abs(mean - 1) < 0.011, "mean \(mean)")
        }

        @Test("dropout is the identity in evaluation and with p = 0, and draws nothing then")
        func dropoutIdentity() {
            let x = seededNormal([3, 3], seed: 5)
            var rng = RandomGenerator(seed: 6)
            #expect(dropout(x, p: 0.5, training: false, rng: &rng).scalars == x.scalars)
            #expect(dropout(x, p: 0, training: true, rng: &rng).scalars == x.scalars)
            var fresh = RandomGenerator(seed: 6)
            #expect(rng.next() == fresh.next())
        }
    }
}
