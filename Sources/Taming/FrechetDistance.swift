import Foundation
import Tensors

/// The mean and covariance of a set of feature vectors: the Gaussian that a Fréchet distance fits
/// to a set of images.
///
/// Shape letters: N vectors, D their dimension.
public struct GaussianStatistics: Equatable, Sendable {
    /// D.
    public let dimension: Int
    /// μ, [D].
    public let mean: [Double]
    /// Σ, row-major [D, D].
    public let covariance: [Double]

    /// Statistics given directly (Σ must be symmetric positive semi-definite).
    public init(mean: [Double], covariance: [Double]) {
        precondition(covariance.count == mean.count * mean.count,  // invariant: a programming error, not user input
                     "GaussianStatistics: a \(mean.count)-vector mean with \(covariance.count) covariance values")
        dimension = mean.count
        self.mean = mean
        self.covariance = covariance
    }

    /// The sample mean and the unbiased sample covariance (divided by N − 1, as numpy's `cov`) of
    /// the rows of `features` [N, D], computed in Double. Needs N ≥ 2.
    public init(features: Tensor) throws {
        guard features.rank == 2, features.shape[0] >= 2 else {
            throw PerceptualError("Fréchet statistics need at least 2 feature vectors [N, D], got \(features.shape)")
        }
        let (n, d) = (features.shape[0], features.shape[1])
        let x = features.scalars.map(Double.init)
        var mu = [Double](repeating: 0, count: d)
        for i in 0..<n { for j in 0..<d { mu[j] += x[i * d + j] } }
        for j in 0..<d { mu[j] /= Double(n) }
        var sigma = [Double](repeating: 0, count: d * d)
        var centred = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for j in 0..<d { centred[j] = x[i * d + j] - mu[j] }
            for j in 0..<d {
                let cj = centred[j]
                for k in j..<d { sigma[j * d + k] += cj * centred[k] }
            }
        }
        for j in 0..<d {
            for k in j..<d {
                sigma[j * d + k] /= Double(n - 1)
                sigma[k * d + j] = sigma[j * d + k]
            }
        }
        self.init(mean: mu, covariance: sigma)
    }
}

/// The Fréchet distance between two Gaussians, the measure behind FID (Heusel et al. 2017):
///
///     d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2·(Σ₁Σ₂)^{1/2}).
///
/// Σ₁Σ₂ is not symmetric, so its square root is taken through a symmetric matrix with the same
/// eigenvalues: Tr((Σ₁Σ₂)^{1/2}) = Tr((Σ₁^{1/2} Σ₂ Σ₁^{1/2})^{1/2}) = Σ √μ_k, with μ_k the
/// eigenvalues of the symmetric positive semi-definite S = Σ₁^{1/2} Σ₂ Σ₁^{1/2}. Both square roots
/// come from Jacobi eigendecompositions in Double (`SymmetricEigen`), with eigenvalues that
/// rounding pushed slightly below zero set to zero.
///
/// In this book the features are the in-book `FeatureNetwork`'s pooled deepest stage (128 numbers
/// per image), not Inception-v3's 2048 pool features on ImageNet photos. The numbers are therefore
/// NOT comparable with published FIDs: they rank models trained on the same data against each
/// other, and nothing more. Like FID they are biased by the sample size (use equally many images
/// for every model you compare).
public enum FrechetDistance {
    /// d² between two Gaussian fits of the same dimension.
    public static func distance(_ a: GaussianStatistics, _ b: GaussianStatistics) throws -> Double {
        guard a.dimension == b.dimension else {
            throw PerceptualError("Fréchet distance between \(a.dimension)- and \(b.dimension)-dimensional statistics")
        }
        let d = a.dimension
        var meanTerm = 0.0
        for j in 0..<d { meanTerm += (a.mean[j] - b.mean[j]) * (a.mean[j] - b.mean[j]) }
        var traces = 0.0
        for j in 0..<d { traces += a.covariance[j * d + j] + b.covariance[j * d + j] }
        let root1 = SymmetricEigen(a.covariance, dimension: d).mapped { max($0, 0).squareRoot() }   // Σ₁^{1/2}
        let s = multiply(multiply(root1, b.covariance, d), root1, d)                               // Σ₁^{1/2} Σ₂ Σ₁^{1/2}
        let crossTrace = SymmetricEigen(s, dimension: d).values.reduce(0) { $0 + max($1, 0).squareRoot() }
        return max(meanTerm + traces - 2 * crossTrace, 0)
    }

    /// d² between the images `x` and `y` ([N, 3, H, W] and [M, 3, H', W'] in [-1, 1]) as seen by
    /// `network`'s pooled features: real held-out images against their reconstructions or samples.
    public static func distance(_ x: Tensor, _ y: Tensor, network: FeatureNetwork, batchSize: Int = 32) throws -> Double {
        let fx = try GaussianStatistics(features: network.pooledFeatures(x, batchSize: batchSize))
        let fy = try GaussianStatistics(features: network.pooledFeatures(y, batchSize: batchSize))
        return try distance(fx, fy)
    }

    /// The product of two row-major [n, n] matrices.
    static func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
        var c = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for k in 0..<n {
                let aik = a[i * n + k]
                if aik == 0 { continue }
                for j in 0..<n { c[i * n + j] += aik * b[k * n + j] }
            }
        }
        return c
    }
}
