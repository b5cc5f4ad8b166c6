import Foundation
import Testing
import Tensors
import TestSupport

/// The seeded generator: reproducibility and the statistics of each distribution. Tolerances are
/// about five standard errors of the estimate, so a correct generator fails with probability well
/// below one in a million (and, being seeded, either always passes or always fails).
extension TensorsSuite {
    @Suite("Random numbers")
    struct RandomTests {
        static let n = 100_000

        @Test("the same seed gives the same stream; different seeds differ")
        func reproducible() {
            var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
            let xa = (0..<100).map { _ in a.next() }, xb = (0..<100).map { _ in b.next() }
            let xc = (0..<100).map { _ in c.next() }
            #expect(xa == xb)
            #expect(xa != xc)
            #expect(Set(xa).count == 100)
            var r1 = RandomGenerator(seed: 7), r2 = RandomGenerator(seed: 7)
            expectBitIdentical(Tensor.normal([3, 50], rng: &r1), Tensor.normal([3, 50], rng: &r2))
            expectBitIdentical(Tensor.uniform([3, 50], low: -2, high: 5, rng: &r1), Tensor.uniform([3, 50], low: -2, high: 5, rng: &r2))
        }

        @Test("split() gives a stream different from its parent's and reproducible")
        func split() {
            var parent = RandomGenerator(seed: 1)
            var child = parent.split()
            var parent2 = RandomGenerator(seed: 1)
            var child2 = parent2.split()
            let c = (0..<50).map { _ in child.next() }
            #expect(c == (0..<50).map { _ in child2.next() })
            #expect(c != (0..<50).map { _ in parent.next() })
        }

        @Test("uniform(): values in [0, 1), mean 1/2, variance 1/12")
        func uniform() {
            var rng = RandomGenerator(seed: 11)
            var sum = 0.0, sq = 0.0, lo = Float.infinity, hi = -Float.infinity
            for _ in 0..<Self.n {
                let u = rng.uniform()
                sum += Double(u); sq += Double(u) * Double(u)
                lo = Swift.min(lo, u); hi = Swift.max(hi, u)
            }
            let mean = sum / Double(Self.n), variance = sq / Double(Self.n) - mean * mean
            #expect(lo >= 0 && hi < 1)
            #expect(Swift.abs(mean - 0.5) < 0.005, "mean \(mean)")
            #expect(Swift.abs(variance - 1.0 / 12) < 0.002, "variance \(variance)")
            // Ten equal bins, each within 5σ of n/10 (σ = √(n·0.1·0.9) ≈ 95).
            var bins = [Int](repeating: 0, count: 10)
            for _ in 0..<Self.n { bins[Int(rng.uniform() * 10)] += 1 }
            #expect(bins.allSatisfy { Swift.abs($0 - Self.n / 10) < 475 }, "bins \(bins)")
        }

        @Test("uniform tensors stay in [low, high)")
        func uniformTensor() {
            var rng = RandomGenerator(seed: 12)
            let t = Tensor.uniform([10_000], low: -3, high: 2, rng: &rng).scalars
            #expect(t.allSatisfy { $0 >= -3 && $0 < 2 })
            let mean = t.reduce(0.0) { $0 + Double($1) } / Double(t.count)
            #expect(Swift.abs(mean - (-0.5)) < 0.08, "mean \(mean)")
        }

        @Test("normal(): mean 0, std 1, 68.3 % within one std, symmetric tails")
        func normal() {
            var rng = RandomGenerator(seed: 13)
            var sum = 0.0, sq = 0.0, within = 0, above2 = 0, below2 = 0
            for _ in 0..<Self.n {
                let z = Double(rng.normal())
                sum += z; sq += z * z
                if Swift.abs(z) < 1 { within += 1 }
                if z > 2 { above2 += 1 }
                if z < -2 { below2 += 1 }
            }
            let mean = sum / Double(Self.n), std = (sq / Double(Self.n) - mean * mean).squareRoot()
            #expect(Swift.abs(mean) < 0.016, "mean \(mean)")
            #expect(Swift.abs(std - 1) < 0.012, "std \(std)")
            let frac = Double(within) / Double(Self.n)
            #expect(Swift.abs(frac - 0.682689) < 0.0075, "P(|z| < 1) = \(frac)")
            // P(z > 2) = 0.02275 on each side: about 2275 ± 47 per tail.
            #expect(Swift.abs(above2 - 2275) < 240 && Swift.abs(below2 - 2275) < 240, "tails \(below2), \(above2)")
        }

        @Test("normal tensors honour mean and std")
        func normalTensor() {
            var rng = RandomGenerator(seed: 14)
            let t = Tensor.normal([20_000], mean: 3, std: 0.5, rng: &rng).scalars.map(Double.init)
            let mean = t.reduce(0, +) / Double(t.count)
            let std = (t.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(t.count)).squareRoot()
            #expect(Swift.abs(mean - 3) < 0.02, "mean \(mean)")
            #expect(Swift.abs(std - 0.5) < 0.013, "std \(std)")
        }

        @Test("categorical frequencies follow the weights; zero weights never come up")
        func categorical() {
            var rng = RandomGenerator(seed: 15)
            let weights: [Float] = [1, 0, 2, 3, 4, 0]
            var counts = [Int](repeating: 0, count: weights.count)
            let draws = 50_000
            for _ in 0..<draws { counts[rng.categorical(weights)] += 1 }
            #expect(counts[1] == 0 && counts[5] == 0)
            for (i, w) in weights.enumerated() where w > 0 {
                let p = Double(w) / 10, freq = Double(counts[i]) / Double(draws)
                let sigma = (p * (1 - p) / Double(draws)).squareRoot()
                #expect(Swift.abs(freq - p) < 5 * sigma, "class \(i): frequency \(freq), expected \(p)")
            }
            #expect(rng.categorical([0, 0, 5]) == 2)
        }

        @Test("int(below:) covers 0..<n evenly")
        func intBelow() {
            var rng = RandomGenerator(seed: 16)
            var counts = [Int](repeating: 0, count: 7)
            for _ in 0..<70_000 { counts[rng.int(below: 7)] += 1 }
            // Each count ≈ 10000 ± 92 (σ); allow 5σ.
            #expect(counts.allSatisfy { Swift.abs($0 - 10_000) < 460 }, "counts \(counts)")
            #expect((0..<100).allSatisfy { _ in rng.int(below: 1) == 0 })
        }

        @Test("shuffle is a permutation, and every position moves about as often")
        func shuffle() {
            var rng = RandomGenerator(seed: 17)
            var a = Array(0..<50)
            rng.shuffle(&a)
            #expect(a.sorted() == Array(0..<50))
            #expect(a != Array(0..<50))
            // Where element 0 lands over many shuffles of 5: uniform over the 5 positions.
            var lands = [Int](repeating: 0, count: 5)
            for _ in 0..<10_000 {
                var b = Array(0..<5)
                rng.shuffle(&b)
                lands[b.firstIndex(of: 0)!] += 1
            }
            #expect(lands.allSatisfy { Swift.abs($0 - 2000) < 200 }, "positions \(lands)")
        }
    }
}
