import Foundation

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
    let probs = Tensor.make(lead + [t, s]) { _ in }
    let out = Tensor.make(lead + [t, dv]) { _ in }
    let pq = q.storage.pointer, pk = k.storage.pointer, pv = v.storage.pointer
    let pp = probs.storage.pointer, po = out.storage.pointer
    let perHead = { (i: Int) in
        let p = pp + i * t * s
        sgemm(transB: true, m: t, n: s, k: d, alpha: sc, a: pq + i * t * d, b: pk + i * s * d, c: p)
        for r in 0..<t {
            let row = p + r * s
            let visible = causal ? Swift.min(s, r + offset + 1) : s
            var m = -Float.infinity
            for j in 0..<visible { m = Swift.max(m, row[j]) }
            var sum: Float = 0
            for j in 0..<visible { let e = Foundation.exp(row[j] - m); row[j] = e; sum += e }
            let inv = 1 / sum
            for j in 0..<visible { row[j] *= inv }
            for j in visible..<s { row[j] = 0 }
        }
        sgemm(m: t, n: dv, k: s, a: p, b: pv + i * s * dv, c: po + i * t * dv)
    }
    runHeads(n, t * s, perHead)
    return Tensor.record(out, "attention", [q, k, v]) { g, needs in
        let pg = g.storage.pointer, pp = probs.storage.pointer // keeps probs alive in this closure
        let dq = needs[0] ? Tensor.make(q.shape) { _ in } : nil
        let dk = needs[1] ? Tensor.make(k.shape) { _ in } : nil
        let dvT = needs[2] ? Tensor.make(v.shape) { _ in } : nil
        let scratch = Tensor.make([n, t, s]) { _ in } // dP, then dS, per head
        let ps = scratch.storage.pointer
        runHeads(n, t * s) { i in
            let p = pp + i * t * s, gi = pg + i * t * dv, ds = ps + i * t * s
            if let dvT { // dV = Pᵀ·dO
                sgemm(transA: true, m: s, n: dv, k: t, a: p, b: gi, c: dvT.storage.pointer + i * s * dv)
            }
            guard dq != nil || dk != nil else { return }
            // dP = dO·Vᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
            sgemm(transB: true, m: t, n: s, k: dv, a: gi, b: pv + i * s * dv, c: ds)
            for r in 0..<t {
                let pr = p + r * s, dr = ds + r * s
                var dot: Float = 0
                for j in 0..<s { dot += pr[j] * dr[j] }
                for j in 0..<s { dr[j] = pr[j] * (dr[j] - dot) * sc }
            }
            if let dq { sgemm(m: t, n: d, k: s, a: ds, b: pk + i * s * d, c: dq.storage.pointer + i * t * d) }
            if let dk { sgemm(transA: true, m: s, n: d, k: t, a: ds, b: pq + i * t * d, c: dk.storage.pointer + i * s * d) }
        }
        return [dq, dk, dvT]
    }
}

/// Runs per-head work: heads in parallel with single-threaded BLAS when each head is small,
/// otherwise one head at a time with BLAS using every core.
private func runHeads(_ n: Int, _ work: Int, _ body: (Int) -> Void) {
    if n >= Parallel.threadCount && work <= 512 * 512 {
        Parallel.forEachWithSerialBLAS(n, body)
    } else {
        for i in 0..<n { body(i) }
    }
}
