import Foundation
import Testing
import Tensors
import TestSupport

/// Nearest codes, one-hot vectors, top-k / top-p filtering and categorical sampling.
extension TensorsSuite {
    @Suite("Selection and sampling")
    struct SelectionTests {
        @Test("pairwiseSquaredDistances equals Σ (x − e)² by loops")
        func distances() {
            let x = seededNormal([5, 3], seed: 1), e = seededNormal([4, 3], seed: 2)
            var expected: [Float] = []
            for i in 0..<5 { for j in 0..<4 {
                expected.append(Float((0..<3).reduce(0.0) { $0 + pow(Double(x[i, $1]) - Double(e[j, $1]), 2) }))
            } }
            let d = pairwiseSquaredDistances(x, e)
            #expect(d.shape == [5, 4])
            expectClose(d, expected, rtol: 1e-4, atol: 1e-5)
            // The nearest code of a codebook vector is itself.
            #expect(pairwiseSquaredDistances(e, e).argminLast() == [0, 1, 2, 3])
        }

        @Test("argminLast and argmaxLast pick the first of ties, per row")
        func argReductions() {
            let t = Tensor(shape: [3, 4], [3, 1, 1, 5,  2, 2, 2, 2,  -1, 7, 7, -3])
            #expect(t.argminLast() == [1, 0, 3])
            #expect(t.argmaxLast() == [3, 0, 1])
        }

        @Test("oneHot puts a single 1 in each row")
        func oneHotRows() {
            let o = oneHot([2, 0, 1], classes: 3)
            #expect(o.shape == [3, 3])
            #expect(o.scalars == [0, 0, 1, 1, 0, 0, 0, 1, 0])
        }

        @Test("topKFilter keeps the k largest logits (and ties at the threshold), −∞ elsewhere")
        func topK() {
            let logits = Tensor(shape: [2, 5], [0.1, 3, -1, 2, 2,  5, 4, 3, 2, 1])
            let f = topKFilter(logits, k: 2).scalars
            let inf = -Float.infinity
            #expect(Array(f[0..<5]) == [inf, 3, inf, 2, 2])      // the tie at 2 is kept
            #expect(Array(f[5..<10]) == [5, 4, inf, inf, inf])
            #expect(topKFilter(logits, k: 5).scalars == logits.scalars)
        }

        @Test("topPFilter keeps the smallest most-probable set reaching mass p")
        func topP() {
            // Probabilities 0.5, 0.25, 0.125, 0.125 (logits are their logs).
            let logits = Tensor(shape: [1, 4], [0.125, 0.5, 0.125, 0.25].map { Float(Foundation.log($0)) })
            let inf = -Float.infinity
            let f = topPFilter(logits, p: 0.7).scalars
            #expect(f[1] == logits.scalars[1] && f[3] == logits.scalars[3])
            #expect(f[0] == inf && f[2] == inf)
            let all = topPFilter(logits, p: 1).scalars
            #expect(all == logits.scalars)
            let one = topPFilter(logits, p: 0.4).scalars
            #expect(one.filter { $0 != inf }.count == 1 && one[1] != inf)
        }

        @Test("sampleCategorical follows softmax(logits / temperature); multinomial follows the weights")
        func sampling() {
            var rng = RandomGenerator(seed: 3)
            let probs: [Double] = [0.1, 0.2, 0.3, 0.4]
            let rows = 20_000
            let logits = Tensor(shape: [1, 4], probs.map { Float(Foundation.log($0)) })
            let tiled = concat(Array(repeating: logits, count: rows), axis: 0)
            func check(_ draws: [Int], _ expected: [Double], _ label: String) {
                var counts = [Int](repeating: 0, count: 4)
                for d in draws { counts[d] += 1 }
                for i in 0..<4 {
                    let freq = Double(counts[i]) / Double(draws.count)
                    let sigma = (expected[i] * (1 - expected[i]) / Double(draws.count)).squareRoot()
                    #expect(Swift.abs(freq - expected[i]) < 5 * sigma + 1e-12, "\(label): class \(i) frequency \(freq), expected \(expected[i])")
                }
            }
            check(sampleCategorical(tiled, rng: &rng), probs, "temperature 1")
            // Temperature 2 takes the square root of the probabilities, renormalised.
            let sq = probs.map { $0.squareRoot() }, z = sq.reduce(0, +)
            check(sampleCategorical(tiled, temperature: 2, rng: &rng), sq.map { $0 / z }, "temperature 2")
            let weights = concat(Array(repeating: Tensor(shape: [1, 4], [1, 0, 3, 0]), count: rows), axis: 0)
            check(multinomial(weights, rng: &rng), [0.25, 0, 0.75, 0], "multinomial")
            // −∞ logits (after top-k) are never drawn.
            let filtered = topKFilter(tiled.slice(axis: 0, 0..<1000), k: 1)
            #expect(sampleCategorical(filtered, rng: &rng).allSatisfy { $0 == 3 })
        }
    }
}
