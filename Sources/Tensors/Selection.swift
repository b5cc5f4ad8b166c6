import Foundation

/// Non-differentiable helpers for vector quantisation and sampling: nearest codes, one-hot
/// vectors, top-k / top-p filtering and multinomial draws.

/// ‖x_i − e_j‖² for rows x [N, D] and e [K, D] → [N, K], computed as ‖x‖² + ‖e‖² − 2·x·eᵀ with
/// one BLAS GEMM (the reference's distance for the codebook lookup).
public func pairwiseSquaredDistances(_ x: Tensor, _ e: Tensor) -> Tensor {
    let n = x.shape[0], d = x.shape[1], k = e.shape[0]
    precondition(e.shape[1] == d, "distances: \(x.shape) vs \(e.shape)") // invariant: a programming error, not user input
    let px = x.storage.pointer, pe = e.storage.pointer
    var en = [Float](repeating: 0, count: k)
    for j in 0..<k { var s: Float = 0; for c in 0..<d { s += pe[j * d + c] * pe[j * d + c] }; en[j] = s }
    return Tensor.make([n, k]) { buf in
        let o = buf.baseAddress!
        sgemm(transB: true, m: n, n: k, k: d, alpha: -2, a: px, b: pe, c: o)
        en.withUnsafeBufferPointer { enp in
            Parallel.forRanges(n, grain: Swift.max(1, 4096 / k)) { r in
                for i in r {
                    var xn: Float = 0
                    for c in 0..<d { xn += px[i * d + c] * px[i * d + c] }
                    let row = o + i * k
                    for j in 0..<k { row[j] += xn + enp[j] }
                }
            }
        }
    }
}

extension Tensor {
    /// Index of the smallest value in each row of the last dimension (first one on ties).
    public func argminLast() -> [Int] { argReduce { $0 < $1 } }

    /// Index of the largest value in each row of the last dimension (first one on ties).
    public func argmaxLast() -> [Int] { argReduce { $0 > $1 } }

    private func argReduce(_ better: (Float, Float) -> Bool) -> [Int] {
        let k = shape.last!, rows = count / k
        let p = storage.pointer
        var out = [Int](repeating: 0, count: rows)
        out.withUnsafeMutableBufferPointer { o in
            let ob = o.baseAddress!
            Parallel.forRanges(rows, grain: Swift.max(1, 4096 / k)) { r in
                for i in r {
                    var best = p[i * k], bi = 0
                    for j in 1..<k where better(p[i * k + j], best) { best = p[i * k + j]; bi = j }
                    ob[i] = bi
                }
            }
        }
        return out
    }
}

/// One-hot rows: [indices.count, classes] with a 1 at each index.
public func oneHot(_ indices: [Int], classes: Int) -> Tensor {
    let t = Tensor.zeros([indices.count, classes])
    t.withUnsafeMutableBufferPointer { b in
        for (i, c) in indices.enumerated() {
            precondition(c >= 0 && c < classes, "oneHot: \(c) outside 0..<\(classes)") // invariant: a programming error, not user input
            b[i * classes + c] = 1
        }
    }
    return t
}

/// Keeps the `k` largest logits of each row and sets the rest to −∞ (the reference's
/// top_k_logits); ties at the threshold are kept.
public func topKFilter(_ logits: Tensor, k: Int) -> Tensor {
    let v = logits.shape.last!, rows = logits.count / v
    guard k > 0 && k < v else { return logits.detached().clone() }
    let src = logits.storage.pointer
    return Tensor.make(logits.shape) { d in
        let o = d.baseAddress!
        Parallel.forEach(rows) { r in
            let row = src + r * v
            var sorted = Array(UnsafeBufferPointer(start: row, count: v))
            // The k-th largest value: partial selection by sorting descending.
            sorted.sort(by: >)
            let threshold = sorted[k - 1]
            for j in 0..<v { o[r * v + j] = row[j] < threshold ? -.infinity : row[j] }
        }
    }
}

/// Nucleus filtering: keeps the smallest set of logits whose softmax mass reaches `p` in each row.
public func topPFilter(_ logits: Tensor, p: Float) -> Tensor {
    let v = logits.shape.last!, rows = logits.count / v
    guard p < 1 else { return logits.detached().clone() }
    let probs = softmaxKernel(logits.detached(), axis: logits.rank - 1, log: false)
    let src = logits.storage.pointer, pp = probs.storage.pointer
    return Tensor.make(logits.shape) { d in
        let o = d.baseAddress!
        for r in 0..<rows {
            let order = (0..<v).sorted { pp[r * v + $0] > pp[r * v + $1] }
            var mass: Float = 0
            var keep = [Bool](repeating: false, count: v)
            for j in order {
                keep[j] = true
                mass += pp[r * v + j]
                if mass >= p { break }
            }
            for j in 0..<v { o[r * v + j] = keep[j] ? src[r * v + j] : -.infinity }
        }
    }
}

/// Draws one index per row of `logits` [..., V] from softmax(logits / temperature).
public func sampleCategorical(_ logits: Tensor, temperature: Float = 1, rng: inout RandomGenerator) -> [Int] {
    let v = logits.shape.last!, rows = logits.count / v
    let scaled = temperature == 1 ? logits.detached() : mapKernel(logits) { $0 / temperature }
    let probs = softmaxKernel(scaled, axis: scaled.rank - 1, log: false)
    return probs.withUnsafeBufferPointer { p in
        (0..<rows).map { r in rng.categorical(UnsafeBufferPointer(rebasing: p[(r * v)..<((r + 1) * v)])) }
    }
}

/// Draws one index per row of `probs` [..., V] (non-negative weights, not necessarily normalised).
public func multinomial(_ probs: Tensor, rng: inout RandomGenerator) -> [Int] {
    let v = probs.shape.last!, rows = probs.count / v
    return probs.withUnsafeBufferPointer { p in
        (0..<rows).map { r in rng.categorical(UnsafeBufferPointer(rebasing: p[(r * v)..<((r + 1) * v)])) }
    }
}
