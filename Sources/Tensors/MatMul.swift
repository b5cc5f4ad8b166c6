/// Matrix products through BLAS: `matmul` for [M, K]·[K, N] and batched [..., M, K]·[..., K, N],
/// and `linear`, the fully connected layer y = x·Wᵀ + b with PyTorch's [out, in] weight layout.

/// Batched product of the last two dimensions (no graph). Leading dimensions must match, or `b`
/// may be a single matrix shared by every batch entry.
func matmulKernel(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got \(a.shape) and \(b.shape)") // invariant: a programming error, not user input
    let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
    let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
    let m = transA ? ac : ar, k = transA ? ar : ac
    let kb = transB ? bc : br, n = transB ? br : bc
    precondition(k == kb, "matmul inner dimensions differ: \(a.shape) · \(b.shape)") // invariant: a programming error, not user input
    let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
    let batch = batchA.product
    let shared = b.rank == 2
    precondition(shared || batchA == batchB, "matmul batch shapes differ: \(a.shape) · \(b.shape)") // invariant: a programming error, not user input
    let pa = a.storage.pointer, pb = b.storage.pointer
    // A shared right matrix with no transpose of A folds the batch into M: one large GEMM.
    if shared && !transA {
        return Tensor.make(batchA + [m, n]) { d in
            sgemm(transB: transB, m: batch * m, n: n, k: k, a: pa, b: pb, c: d.baseAddress!)
        }
    }
    return Tensor.make(batchA + [m, n]) { d in
        let c = d.baseAddress!
        forEachBatchEntry(batch, work: m * n * k) { i, whole in
            let ai = pa + i * ar * ac, bi = pb + (shared ? 0 : i * br * bc), ci = c + i * m * n
            if whole {
                sgemmSerial(transA: transA, transB: transB, m: m, n: n, k: k, a: ai, lda: ac, b: bi, ldb: bc,
                            c: ci, ldc: n)
            } else {
                sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: ai, b: bi, c: ci)
            }
        }
    }
}

/// Runs `body(i, whole)` for every batch entry of a batched product with `work` = M·N·K per
/// entry. Many small products (`whole`) run in parallel, each one BLAS call on its worker; a few
/// large ones run in turn, each split over the workers by `sgemm`. The choice depends on the
/// shapes only, so a product's bits do not depend on the thread count.
func forEachBatchEntry(_ batch: Int, work: Int, _ body: (Int, Bool) -> Void) {
    if batch >= 2 && work <= 16_777_216 {
        Parallel.forEachWithSerialBLAS(batch) { body($0, true) }
    } else {
        for i in 0..<batch { body(i, false) }
    }
}

/// dA = dC·Bᵀ and dB = Aᵀ·dC for A [..., M, K], B [..., K, N] with the same leading dimensions:
/// one job per batch entry makes both products while its dC [M, N] is in the cache.
func batchedMatmulGradients(_ a: Tensor, _ b: Tensor, _ g: Tensor) -> (Tensor, Tensor) {
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
    let batch = Array(a.shape.dropLast(2)).product
    let pa = a.storage.pointer, pb = b.storage.pointer, pg = g.storage.pointer
    let da = Tensor.make(a.shape) { _ in }, db = Tensor.make(b.shape) { _ in }
    let pda = da.storage.pointer, pdb = db.storage.pointer
    forEachBatchEntry(batch, work: m * n * k) { i, whole in
        let ai = pa + i * m * k, bi = pb + i * k * n, gi = pg + i * m * n
        if whole {
            sgemmSerial(transB: true, m: m, n: k, k: n, a: gi, lda: n, b: bi, ldb: n, c: pda + i * m * k, ldc: k)
            sgemmSerial(transA: true, m: k, n: n, k: m, a: ai, lda: k, b: gi, ldb: n, c: pdb + i * k * n, ldc: n)
        } else {
            sgemm(transB: true, m: m, n: k, k: n, a: gi, b: bi, c: pda + i * m * k)
            sgemm(transA: true, m: k, n: n, k: m, a: ai, b: gi, c: pdb + i * k * n)
        }
    }
    return (da, db)
}

extension Tensor {
    /// The matrix product over the last two dimensions, batched over the leading ones.
    public func matmul(_ other: Tensor) -> Tensor {
        let a = self, b = other
        let out = matmulKernel(a, b)
        return Tensor.record(out, "matmul", [a, b]) { g, n in
            // dA = dC·Bᵀ, dB = Aᵀ·dC (summed over the batch when B is shared).
            if n[0] && n[1] && b.rank > 2 {
                let (ga, gb) = batchedMatmulGradients(a, b, g)
                return [ga, gb]
            }
            let ga = n[0] ? matmulKernel(g, b, transB: true) : nil
            var gb: Tensor? = nil
            if n[1] {
                if b.rank == 2 {
                    let m = a.count / a.shape.last!
                    let a2 = a.reshaped([m, a.shape.last!]).detached(), g2 = g.reshaped([m, g.shape.last!]).detached()
                    gb = matmulKernel(a2, g2, transA: true)
                } else {
                    gb = matmulKernel(a, g, transA: true)
                }
            }
            return [ga, gb]
        }
    }
}

/// y = x·Wᵀ + b over the last dimension of x: [..., in] → [..., out], W is [out, in].
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    let inF = weight.shape[1], outF = weight.shape[0]
    precondition(x.shape.last == inF, "linear: input \(x.shape) for weight \(weight.shape)") // invariant: a programming error, not user input
    let rows = x.count / inF
    let px = x.storage.pointer, pw = weight.storage.pointer
    let out = Tensor.make(Array(x.shape.dropLast()) + [outF]) { d in
        let o = d.baseAddress!
        if let bias {
            let pb = bias.storage.pointer
            for r in 0..<rows { (o + r * outF).update(from: pb, count: outF) }
        }
        sgemm(transB: true, m: rows, n: outF, k: inF, a: px, b: pw, beta: bias == nil ? 0 : 1, c: o)
    }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Tensor.record(out, "linear", inputs) { g, n in
        let pg = g.storage.pointer
        var grads: [Tensor?] = [nil, nil, nil]
        if n[0] {
            grads[0] = Tensor.make(x.shape) { d in
                sgemm(m: rows, n: inF, k: outF, a: pg, b: pw, c: d.baseAddress!)
            }
        }
        if n[1] {
            grads[1] = Tensor.make(weight.shape) { d in
                sgemm(transA: true, m: outF, n: inF, k: rows, a: pg, b: px, c: d.baseAddress!)
            }
        }
        if inputs.count == 3, n[2] {
            grads[2] = sumAxisKernel(g.detached().reshaped([rows, outF]), axis: 0).reshaped([outF])
        }
        return Array(grads.prefix(inputs.count))
    }
}
