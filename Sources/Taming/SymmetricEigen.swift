import Foundation

/// The eigendecomposition A = V·diag(λ)·Vᵀ of a real symmetric matrix, by the cyclic Jacobi method
/// in Double: the building block of the Fréchet distance's matrix square roots.
///
/// Jacobi rotates one pair of coordinates (p, q) at a time so that A[p][q] becomes zero, sweeping
/// over all pairs until the off-diagonal part vanishes; what remains on the diagonal are the
/// eigenvalues, and the product of the rotations holds the eigenvectors. It is slow for large
/// matrices (O(n³) per sweep, a handful of sweeps) but simple and accurate, even for eigenvalues
/// near zero, which is what covariance matrices of a few hundred samples have. Fine for n ≈ 128.
public struct SymmetricEigen {
    /// The dimension n.
    public let dimension: Int
    /// The eigenvalues, in no particular order.
    public let values: [Double]
    /// The eigenvectors as the columns of V, row-major [n, n]: vector k is V[i][k] for i in 0..<n.
    public let vectors: [Double]

    /// Decomposes the symmetric matrix `matrix`, row-major [n, n] (only its symmetric part is used).
    public init(_ matrix: [Double], dimension n: Int) {
        precondition(n >= 0 && matrix.count == n * n, "SymmetricEigen: \(matrix.count) values for \(n)×\(n)") // invariant: a programming error, not user input
        var a = matrix
        // Symmetrise, so that rounding in the caller cannot leave A[p][q] ≠ A[q][p].
        for p in 0..<n {
            for q in (p + 1)..<n {
                let m = 0.5 * (a[p * n + q] + a[q * n + p])
                a[p * n + q] = m
                a[q * n + p] = m
            }
        }
        var v = [Double](repeating: 0, count: n * n)
        for i in 0..<n { v[i * n + i] = 1 }
        let scale = a.reduce(0) { $0 + $1 * $1 }
        a.withUnsafeMutableBufferPointer { a in
            v.withUnsafeMutableBufferPointer { v in
                for _ in 0..<64 {
                    var off = 0.0
                    for p in 0..<n { for q in (p + 1)..<n { off += a[p * n + q] * a[p * n + q] } }
                    if off <= 1e-30 * scale || off == 0 { break }
                    for p in 0..<n {
                        for q in (p + 1)..<n {
                            let apq = a[p * n + q]
                            if apq == 0 { continue }
                            // The rotation angle φ with tan φ = t that zeroes A[p][q] (the smaller root).
                            let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                            let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                            let c = 1 / (t * t + 1).squareRoot(), s = t * c
                            // A ← A·P (columns p, q), then Pᵀ·A (rows p, q); V ← V·P.
                            for k in 0..<n {
                                let akp = a[k * n + p], akq = a[k * n + q]
                                a[k * n + p] = c * akp - s * akq
                                a[k * n + q] = s * akp + c * akq
                            }
                            for k in 0..<n {
                                let apk = a[p * n + k], aqk = a[q * n + k]
                                a[p * n + k] = c * apk - s * aqk
                                a[q * n + k] = s * apk + c * aqk
                            }
                            a[p * n + q] = 0
                            a[q * n + p] = 0
                            for k in 0..<n {
                                let vkp = v[k * n + p], vkq = v[k * n + q]
                                v[k * n + p] = c * vkp - s * vkq
                                v[k * n + q] = s * vkp + c * vkq
                            }
                        }
                    }
                }
            }
        }
        dimension = n
        values = (0..<n).map { a[$0 * n + $0] }
        vectors = v
    }

    /// V·diag(f(λ))·Vᵀ: a function applied to the matrix through its eigenvalues, row-major [n, n].
    public func mapped(_ f: (Double) -> Double) -> [Double] {
        let n = dimension
        let fl = values.map(f)
        var out = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var acc = 0.0
                for k in 0..<n { acc += vectors[i * n + k] * fl[k] * vectors[j * n + k] }
                out[i * n + j] = acc
                out[j * n + i] = acc
            }
        }
        return out
    }
}
