import Foundation
import Taming
import Tensors
import TestSupport
import Testing

@Suite struct FrechetDistanceTests {
    @Test func jacobiRebuildsTheMatrixFromItsEigenpairs() {
        // A random symmetric 12×12 matrix, and a 3×3 one with a known spectrum.
        var rng = RandomGenerator(seed: 1)
        let n = 12
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in i..<n { let v = Double(rng.normal()); a[i * n + j] = v; a[j * n + i] = v } }
        let e = SymmetricEigen(a, dimension: n)
        expectClose(e.mapped { $0 }, a, rtol: 0, atol: 1e-10)
        // Eigenvectors are orthonormal: VᵀV = I.
        var gram = [Double](repeating: 0, count: n * n), identity = gram
        for i in 0..<n {
            identity[i * n + i] = 1
            for j in 0..<n { for k in 0..<n { gram[i * n + j] += e.vectors[k * n + i] * e.vectors[k * n + j] } }
        }
        expectClose(gram, identity, rtol: 0, atol: 1e-12)
        // [[2, 1, 0], [1, 2, 0], [0, 0, 5]] has eigenvalues 1, 3, 5.
        let small = SymmetricEigen([2, 1, 0, 1, 2, 0, 0, 0, 5], dimension: 3)
        expectClose(small.values.sorted(), [1, 3, 5], rtol: 0, atol: 1e-12)
        // The square root squares back.
        let root = small.mapped { $0.squareRoot() }
        var square = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { for k in 0..<3 { square[i * 3 + j] += root[i * 3 + k] * root[k * 3 + j] } } }
        expectClose(square, [2, 1, 0, 1, 2, 0, 0, 0, 5], rtol: 0, atol: 1e-12)
    }

    @Test func statisticsOfAFewVectorsByHand() throws {
        // Rows (1, 2), (3, 2), (5, 8): mean (3, 4); deviations (−2, −2), (0, −2), (2, 4);
        // Σ (deviation)(deviation)ᵀ = [[8, 12], [12, 24]], divided by N − 1 = 2.
        let s = try GaussianStatistics(features: Tensor(shape: [3, 2], [1, 2, 3, 2, 5, 8]))
        #expect(s.mean == [3, 4])
        #expect(s.covariance == [4, 6, 6, 12])
        #expect(throws: PerceptualError.self) { try GaussianStatistics(features: Tensor(shape: [1, 2], [1, 2])) }
    }

    @Test func identicalSetsAreAtDistanceZero() throws {
        let features = seededNormal([200, 16], seed: 2)
        let s = try GaussianStatistics(features: features)
        #expect(abs(try FrechetDistance.distance(s, s)) < 1e-9)
    }

    @Test func shiftedMeansGiveTheSquaredShift() throws {
        let features = seededNormal([300, 8], seed: 3)
        let shift = (0..<8).map { Float($0) * 0.25 - 1 }
        let shifted = features + Tensor(shape: [1, 8], shift)
        let d = try FrechetDistance.distance(try GaussianStatistics(features: features),
                                             try GaussianStatistics(features: shifted))
        let expected = shift.reduce(0.0) { $0 + Double($1) * Double($1) }
        expectClose(d, expected, rtol: 1e-5, atol: 1e-6)
    }

    /// Σ₁ = diag(4, 1), Σ₂ = [[1, 1], [1, 2]]: Σ₁Σ₂ = [[4, 4], [1, 2]] has trace 6 and determinant 4.
    /// A 2×2 matrix with positive eigenvalues has Tr √M = √(Tr M + 2√det M) = √10, so with means
    /// (0, 0) and (1, 2): d² = 1 + 4 + (5 + 3) − 2√10 = 13 − 2√10. The matrices do not commute, so
    /// this checks the matrix square root, not just the eigenvalues of each covariance alone.
    @Test func aTwoDimensionalCaseByHand() throws {
        let a = GaussianStatistics(mean: [0, 0], covariance: [4, 0, 0, 1])
        let b = GaussianStatistics(mean: [1, 2], covariance: [1, 1, 1, 2])
        expectClose(try FrechetDistance.distance(a, b), 13 - 2 * 10.0.squareRoot(), rtol: 1e-12, atol: 1e-12)
        expectClose(try FrechetDistance.distance(b, a), 13 - 2 * 10.0.squareRoot(), rtol: 1e-12, atol: 1e-12)
        // diag(1, 4) against diag(4, 1): 10 − 2·(2 + 2) = 2. A singular Σ₁ = diag(1, 0) against I:
        // Tr = 1 + 2 − 2·1 = 1.
        let c = GaussianStatistics(mean: [0, 0], covariance: [1, 0, 0, 4])
        let d = GaussianStatistics(mean: [0, 0], covariance: [4, 0, 0, 1])
        expectClose(try FrechetDistance.distance(c, d), 2, rtol: 1e-12, atol: 1e-12)
        let singular = GaussianStatistics(mean: [0, 0], covariance: [1, 0, 0, 0])
        let identity = GaussianStatistics(mean: [0, 0], covariance: [1, 0, 0, 1])
        expectClose(try FrechetDistance.distance(singular, identity), 1, rtol: 1e-12, atol: 1e-12)
        #expect(throws: PerceptualError.self) {
            try FrechetDistance.distance(a, GaussianStatistics(mean: [0], covariance: [1]))
        }
    }

    @Test func imagesThroughTheFeatureNetwork() throws {
        var rng = RandomGenerator(seed: 4)
        let network = FeatureNetwork(.init(widths: [4, 6]), rng: &rng)
        let x = seededUniform([12, 3, 8, 8], seed: 5)
        let pooled = network.pooledFeatures(x, batchSize: 5)
        #expect(pooled.shape == [12, 6])
        #expect(try FrechetDistance.distance(x, x, network: network, batchSize: 5) < 1e-12)
        // Brighter pictures: an untrained network's features move little, but they move (≈ 3e-5).
        let brighter = seededUniform([12, 3, 8, 8], seed: 6, low: 0.3, high: 1)
        #expect(try FrechetDistance.distance(x, brighter, network: network) > 1e-6)
    }
}
