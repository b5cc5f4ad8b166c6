/// Scaled dot-product attention, softmax(Q·Kᵀ·scale + mask)·V, the core of the VQGAN's AttnBlock
/// (one head over all H·W positions) and of the GPT (several heads, causal).

/// q [..., T, D], k [..., S, D], v [..., S, Dv] → [..., T, Dv]; `scale` defaults to 1/√D.
/// With `causal`, query t sees keys 0…t + (S − T): the queries are the last T positions of the
/// sequence, so a KV-cached step (T = 1) attends to everything before it, as a full pass would.
public func scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, causal: Bool = false,
                                      scale: Float? = nil) -> Tensor {
    let t = q.shape[q.rank - 2], d = q.shape[q.rank - 1]
    let s = k.shape[k.rank - 2], dv = v.shape[v.rank - 1]
    let lead = Array(q.shape.dropLast(2))
    precondition(Array(k.shape.dropLast(2)) == lead && Array(v.shape.dropLast(2)) == lead  // invariant: a programming error, not user input
                 && k.shape.last == d && v.shape[v.rank - 2] == s,
                 "attention: q \(q.shape), k \(k.shape), v \(v.shape)")
    let n = lead.product
    let sc = scale ?? 1 / Float(d).squareRoot()
    let offset = s - t
    // The backward pass needs the probabilities [..., T, S]; inference keeps only a block at a time.
    let keepProbs = GradMode.isEnabled && (q.requiresGrad || k.requiresGrad || v.requiresGrad)
    let probs = Tensor.make(keepProbs ? lead + [t, s] : [0]) { _ in }
    let out = Tensor.make(lead + [t, dv]) { _ in }
    let pq = q.storage.pointer, pk = k.storage.pointer, pv = v.storage.pointer
    let pp = probs.storage.pointer, po = out.storage.pointer
    // Queries in blocks of rows whose scores [rows, S] stay in the cache from Q·Kᵀ through the
    // softmax to P·V. The blocks depend on the shapes only and each runs whole on one worker.
    let rowsPerBlock = attentionBlockRows(t: t, s: s)
    let blocks = (t + rowsPerBlock - 1) / rowsPerBlock
    Parallel.forEachWithSerialBLAS(n * blocks) { j in
        let i = j / blocks, r0 = (j % blocks) * rowsPerBlock, rows = Swift.min(rowsPerBlock, t - r0)
        let scratch = keepProbs ? nil : UnsafeMutablePointer<Float>.allocate(capacity: rows * s)
        defer { scratch?.deallocate() }
        let p = scratch ?? pp + (i * t + r0) * s                // [rows, S]
        // Causal: keys after the block's last visible one have probability 0 and stay out of the GEMMs.
        let keys = causal ? Swift.max(0, Swift.min(s, r0 + rows + offset)) : s
        if keys > 0 {
            sgemmSerial(transB: true, m: rows, n: keys, k: d, alpha: sc, a: pq + (i * t + r0) * d, lda: d,
                        b: pk + i * s * d, ldb: d, c: p, ldc: s)
        }
        for r in 0..<rows {
            let row = p + r * s
            let visible = causal ? Swift.max(0, Swift.min(s, r0 + r + offset + 1)) : s
            if visible > 0 { softmaxRow(row, visible) }
            (row + visible).update(repeating: 0, count: s - visible)
        }
        let o = po + (i * t + r0) * dv
        if keys > 0 {
            sgemmSerial(m: rows, n: dv, k: keys, a: p, lda: s, b: pv + i * s * dv, ldb: dv, c: o, ldc: dv)
        } else {
            o.update(repeating: 0, count: rows * dv)
        }
    }
    return Tensor.record(out, "attention", [q, k, v]) { g, needs in
        let pg = g.storage.pointer, pp = probs.storage.pointer // keeps probs alive in this closure
        let dq = needs[0] ? Tensor.make(q.shape) { _ in } : nil
        let dk = needs[1] ? Tensor.make(k.shape) { _ in } : nil
        let dvT = needs[2] ? Tensor.make(v.shape) { _ in } : nil
        // One job per head, walking its blocks of query rows in order: dP = dO·Vᵀ and
        // dS = P ⊙ (dP − rowsum(dP ⊙ P))·scale for the block (in a cache-sized scratch), then
        // dQ = dS·K for its rows, while dV += Pᵀ·dO and dK += dSᵀ·Q add up over the blocks in a
        // fixed order. Causal blocks leave the keys no row of theirs sees out of every product.
        let pdq = dq?.storage.pointer, pdk = dk?.storage.pointer, pdv = dvT?.storage.pointer
        Parallel.forEachWithSerialBLAS(n) { i in
            let ds = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * s)   // [rows, S]
            defer { ds.deallocate() }
            let dki = pdk.map { $0 + i * s * d }, dvi = pdv.map { $0 + i * s * dv }
            dki?.update(repeating: 0, count: s * d)
            dvi?.update(repeating: 0, count: s * dv)
            for b in 0..<blocks {
                let r0 = b * rowsPerBlock, rows = Swift.min(rowsPerBlock, t - r0)
                let keys = causal ? Swift.max(0, Swift.min(s, r0 + rows + offset)) : s
                let p = pp + (i * t + r0) * s, gi = pg + (i * t + r0) * dv          // P, dO [rows, ·]
                let dqi = pdq.map { $0 + (i * t + r0) * d }
                guard keys > 0 else { dqi?.update(repeating: 0, count: rows * d); continue }
                if let dvi {
                    sgemmSerial(transA: true, m: keys, n: dv, k: rows, a: p, lda: s, b: gi, ldb: dv,
                                beta: 1, c: dvi, ldc: dv)
                }
                guard dqi != nil || dki != nil else { continue }
                sgemmSerial(transB: true, m: rows, n: keys, k: dv, a: gi, lda: dv, b: pv + i * s * dv, ldb: dv,
                            c: ds, ldc: s)
                for r in 0..<rows {
                    let visible = causal ? Swift.max(0, Swift.min(s, r0 + r + offset + 1)) : s
                    softmaxRowGradient(p + r * s, ds + r * s, visible, scale: sc)
                    (ds + r * s + visible).update(repeating: 0, count: keys - visible)   // P = 0 there
                }
                if let dqi {
                    sgemmSerial(m: rows, n: d, k: keys, a: ds, lda: s, b: pk + i * s * d, ldb: d, c: dqi, ldc: d)
                }
                if let dki {
                    sgemmSerial(transA: true, m: keys, n: d, k: rows, a: ds, lda: s, b: pq + (i * t + r0) * d, ldb: d,
                                beta: 1, c: dki, ldc: d)
                }
            }
        }
        return [dq, dk, dvT]
    }
}

/// Query rows per block: scores [rows, S] of about 256 KB (16 to 256 rows), which stay in the
/// cache from one GEMM through the softmax to the next.
func attentionBlockRows(t: Int, s: Int) -> Int {
    Swift.min(t, Swift.max(16, Swift.min(256, 65_536 / Swift.max(s, 1))))
}

/// Softmax of a row of n scores in place: e^(x − max) / Σ e^(x − max), with `fastExp` (libm's exp
/// is a call per score, and there are T·S of them). Plain loops that the compiler vectorises
/// (cheap in a debug build too, unlike explicit SIMD types); the max and the sum keep four running
/// values in a fixed order, so the result does not depend on the thread.
@inline(__always)
private func softmaxRow(_ row: UnsafeMutablePointer<Float>, _ n: Int) {
    let m = max4(UnsafePointer(row), n)
    for i in 0..<n { row[i] = fastExp(row[i] - m) }
    let inv = 1 / sum4(UnsafePointer(row), n)
    for i in 0..<n { row[i] *= inv }
}

/// The softmax's backward for one row, in place: dS = P ⊙ (dP − Σ dP ⊙ P) · scale, where `grad`
/// holds dP on entry and dS on return.
@inline(__always)
private func softmaxRowGradient(_ probs: UnsafePointer<Float>, _ grad: UnsafeMutablePointer<Float>, _ n: Int,
                                scale: Float) {
    var d0: Float = 0, d1: Float = 0, d2: Float = 0, d3: Float = 0
    let whole = n / 4 * 4
    for i in stride(from: 0, to: whole, by: 4) {
        d0 += probs[i] * grad[i]; d1 += probs[i + 1] * grad[i + 1]
        d2 += probs[i + 2] * grad[i + 2]; d3 += probs[i + 3] * grad[i + 3]
    }
    var dot = (d0 + d1) + (d2 + d3)
    for i in whole..<n { dot += probs[i] * grad[i] }
    for i in 0..<n { grad[i] = probs[i] * (grad[i] - dot) * scale }
}

/// max x[0..<n] in four running maxima (the comparison as a select, without `Swift.max`'s NaN
/// handling, which costs more than the exponential's polynomial).
@inline(__always)
private func max4(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0
    let whole = n / 4 * 4
    for i in stride(from: 0, to: whole, by: 4) {
        m0 = x[i] > m0 ? x[i] : m0; m1 = x[i + 1] > m1 ? x[i + 1] : m1
        m2 = x[i + 2] > m2 ? x[i + 2] : m2; m3 = x[i + 3] > m3 ? x[i + 3] : m3
    }
    var m = Swift.max(Swift.max(m0, m1), Swift.max(m2, m3))
    for i in whole..<n where x[i] > m { m = x[i] }
    return m
}

/// Σ x[0..<n] in four running sums, added in a fixed order.
@inline(__always)
private func sum4(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
    let whole = n / 4 * 4
    for i in stride(from: 0, to: whole, by: 4) { s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3] }
    var total = (s0 + s1) + (s2 + s3)
    for i in whole..<n { total += x[i] }
    return total
}
