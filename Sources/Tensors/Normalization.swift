import Foundation

/// Normalisation layers as pure functions: group norm (the VQGAN's Normalize, 32 groups, eps 1e-6),
/// layer norm (the GPT's), and batch norm (the PatchGAN discriminator's).
///
/// All three standardise x̂ = (x − μ)·rstd with rstd = 1/√(σ² + eps) over some set of elements and
/// then apply a per-channel affine y = γ·x̂ + β. Their backward passes share one rule: within a set,
/// dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) with dx̂ = γ·dy.

/// Mean and 1/√(σ² + eps) of each of `rows` runs of `n` contiguous floats (two passes, SIMD).
@inline(__always)
private func runStatistics(_ x: UnsafePointer<Float>, rows: Int, n: Int, eps: Float,
                           mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
    Parallel.forEach(rows) { r in
        let s = x + r * n
        mean[r] = sumSIMD(s, n) / Float(n)
        let m = mean[r]
        var acc = SIMD8<Float>(repeating: 0), i = 0
        while i + 8 <= n {
            let d = UnsafeRawPointer(s + i).loadUnaligned(as: SIMD8<Float>.self) - m
            acc += d * d; i += 8
        }
        var sq = acc.sum()
        while i < n { let d = s[i] - m; sq += d * d; i += 1 }
        rstd[r] = 1 / (sq / Float(n) + eps).squareRoot()
    }
}

/// Σ of `n` floats, eight lanes at a time.
@inline(__always)
func sumSIMD(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0), i = 0
    while i + 8 <= n { acc += UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
    var total = acc.sum()
    while i < n { total += p[i]; i += 1 }
    return total
}

/// Normalisation over runs: `rows` runs of `channelsPerRun` channels × `spatial` positions; the
/// affine channel of run r's k-th channel is (r·channelsPerRun + k) mod `channels`. Group norm is
/// runs of C/G channels × H·W; layer norm is runs of D "channels" × 1. The backward pass recomputes
/// x̂ from x, μ and rstd rather than keeping it, halving the memory the forward pass writes.
private func normalizeRuns(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float, rows: Int,
                           channelsPerRun: Int, channels c: Int, spatial: Int, name: String) -> Tensor {
    let n = channelsPerRun * spatial
    var stats = [Float](repeating: 0, count: 2 * rows) // mean, then rstd
    let px = x.storage.pointer
    stats.withUnsafeMutableBufferPointer { st in
        runStatistics(px, rows: rows, n: n, eps: eps, mean: st.baseAddress!, rstd: st.baseAddress! + rows)
    }
    let pw = weight?.storage.pointer, pb = bias?.storage.pointer
    let out = Tensor.make(x.shape) { d in
        let o = d.baseAddress!
        stats.withUnsafeBufferPointer { st in
            Parallel.forEach(rows) { r in
                let mean = st[r], rs = st[rows + r]
                if spatial == 1 && channelsPerRun == c { // layer norm: γ and β vary along the run
                    let base = r * n
                    for j in 0..<n { o[base + j] = (px[base + j] - mean) * rs * (pw?[j] ?? 1) + (pb?[j] ?? 0) }
                    return
                }
                for k in 0..<channelsPerRun {
                    let ch = (r * channelsPerRun + k) % c
                    let scale = rs * (pw?[ch] ?? 1), shift = (pb?[ch] ?? 0) - mean * scale
                    let base = r * n + k * spatial
                    mapSIMD(px + base, o + base, spatial) { $0 * scale + shift }
                }
            }
        }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    return Tensor.record(out, name, inputs) { g, needs in
        let pg = g.storage.pointer
        let needW = weight != nil && needs[1], needB = bias != nil && needs[inputs.count - 1]
        // Per-run partial sums for dγ and dβ: [rows, channelsPerRun], reduced in a fixed order.
        var partW = [Float](repeating: 0, count: (needW || needB) ? rows * channelsPerRun : 0)
        var partB = partW
        var dx: Tensor? = nil
        let dxT = needs[0] ? Tensor.make(x.shape) { _ in } : nil
        stats.withUnsafeBufferPointer { st in
            partW.withUnsafeMutableBufferPointer { pwp in
                partB.withUnsafeMutableBufferPointer { pbp in
                    Parallel.forEach(rows) { r in
                        let mean = st[r], rs = st[rows + r]
                        var s1: Float = 0, s2: Float = 0
                        if spatial == 1 && channelsPerRun == c { // layer norm
                            let base = r * n
                            for j in 0..<n {
                                let gv = pg[base + j], xh = (px[base + j] - mean) * rs, gamma = pw?[j] ?? 1
                                if !pwp.isEmpty { pwp[base + j] = gv * xh; pbp[base + j] = gv }
                                s1 += gv * gamma; s2 += gv * gamma * xh
                            }
                            guard let dxT else { return }
                            let m1 = s1 / Float(n), m2 = s2 / Float(n)
                            let o = dxT.storage.pointer
                            for j in 0..<n {
                                let xh = (px[base + j] - mean) * rs
                                o[base + j] = (pg[base + j] * (pw?[j] ?? 1) - m1 - xh * m2) * rs
                            }
                            return
                        }
                        for k in 0..<channelsPerRun {
                            let ch = (r * channelsPerRun + k) % c
                            let gamma = pw?[ch] ?? 1
                            let base = r * n + k * spatial
                            var gsum = SIMD8<Float>(repeating: 0), gx = SIMD8<Float>(repeating: 0)
                            var i = 0
                            while i + 8 <= spatial {
                                let gv = UnsafeRawPointer(pg + base + i).loadUnaligned(as: SIMD8<Float>.self)
                                let xh = (UnsafeRawPointer(px + base + i).loadUnaligned(as: SIMD8<Float>.self) - mean) * rs
                                gsum += gv; gx += gv * xh; i += 8
                            }
                            var a = gsum.sum(), b = gx.sum()
                            while i < spatial { let gv = pg[base + i]; a += gv; b += gv * (px[base + i] - mean) * rs; i += 1 }
                            if !pwp.isEmpty { pwp[r * channelsPerRun + k] = b; pbp[r * channelsPerRun + k] = a }
                            s1 += a * gamma; s2 += b * gamma
                        }
                        guard let dxT else { return }
                        let m1 = s1 / Float(n), m2 = s2 / Float(n)
                        let o = dxT.storage.pointer
                        for k in 0..<channelsPerRun {
                            let ch = (r * channelsPerRun + k) % c
                            let gamma = pw?[ch] ?? 1
                            let base = r * n + k * spatial
                            // dx = rstd·(γ·dy − m1 − x̂·m2), x̂ = (x − μ)·rstd
                            mapSIMD(pg + base, px + base, o + base, spatial) { gv, xv in
                                (gv * gamma - m1 - (xv - mean) * rs * m2) * rs
                            }
                        }
                    }
                }
            }
        }
        dx = dxT
        var dw: Tensor? = nil, db: Tensor? = nil
        if needW || needB {
            var sw = [Float](repeating: 0, count: c), sb = sw
            for r in 0..<rows {
                for k in 0..<channelsPerRun {
                    let ch = (r * channelsPerRun + k) % c
                    sw[ch] += partW[r * channelsPerRun + k]; sb[ch] += partB[r * channelsPerRun + k]
                }
            }
            if needW { dw = Tensor(shape: [c], sw) }
            if needB { db = Tensor(shape: [c], sb) }
        }
        var grads: [Tensor?] = [dx]
        if weight != nil { grads.append(dw) }
        if bias != nil { grads.append(db) }
        return grads
    }
}

/// Group normalisation: x [B, C, *] with C split into `groups`; statistics per (sample, group).
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let b = x.shape[0], c = x.shape[1]
    precondition(c % groups == 0, "groupNorm: \(c) channels in \(groups) groups") // invariant: a programming error, not user input
    let spatial = x.count / max(b * c, 1)
    return normalizeRuns(x, weight: weight, bias: bias, eps: eps, rows: b * groups, channelsPerRun: c / groups,
                         channels: c, spatial: spatial, name: "group_norm")
}

/// Layer normalisation over the last dimension: x [..., D], weight and bias [D].
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let d = x.shape.last!
    return normalizeRuns(x, weight: weight, bias: bias, eps: eps, rows: x.count / d, channelsPerRun: d,
                         channels: d, spatial: 1, name: "layer_norm")
}

/// Batch normalisation of x [B, C, H, W] per channel. In training it normalises with the batch's
/// statistics and updates the running ones in place (momentum, unbiased variance, as PyTorch);
/// in evaluation it uses the running statistics.
public func batchNorm(_ x: Tensor, runningMean: Tensor, runningVar: Tensor, weight: Tensor?, bias: Tensor?,
                      training: Bool, momentum: Float = 0.1, eps: Float = 1e-5) -> Tensor {
    let b = x.shape[0], c = x.shape[1], spatial = x.count / max(b * c, 1)
    let n = b * spatial
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    // Per-channel mean and rstd, from the batch or the running statistics.
    var mean = [Float](repeating: 0, count: c), rstd = [Float](repeating: 0, count: c)
    let px = x.storage.pointer
    if training {
        let rm = runningMean.storage.pointer, rv = runningVar.storage.pointer
        mean.withUnsafeMutableBufferPointer { mp in
            rstd.withUnsafeMutableBufferPointer { rp in
                let m = mp.baseAddress!, r = rp.baseAddress!
                Parallel.forEach(c) { ch in
                    var s: Double = 0
                    for bi in 0..<b { let row = px + (bi * c + ch) * spatial; for j in 0..<spatial { s += Double(row[j]) } }
                    let mu = Float(s / Double(n))
                    var sq: Double = 0
                    for bi in 0..<b { let row = px + (bi * c + ch) * spatial; for j in 0..<spatial { let d = row[j] - mu; sq += Double(d * d) } }
                    let variance = Float(sq / Double(n))
                    m[ch] = mu; r[ch] = 1 / (variance + eps).squareRoot()
                    rm[ch] = (1 - momentum) * rm[ch] + momentum * mu
                    rv[ch] = (1 - momentum) * rv[ch] + momentum * variance * Float(n) / Float(max(n - 1, 1))
                }
            }
        }
    } else {
        let rm = runningMean.scalars, rv = runningVar.scalars
        for ch in 0..<c { mean[ch] = rm[ch]; rstd[ch] = 1 / (rv[ch] + eps).squareRoot() }
    }
    let xhat = Tensor.make(x.shape) { d in
        let o = d.baseAddress!
        mean.withUnsafeBufferPointer { m in
            rstd.withUnsafeBufferPointer { r in
                Parallel.forEach(b * c) { row in
                    let ch = row % c, s = px + row * spatial, dst = o + row * spatial
                    for j in 0..<spatial { dst[j] = (s[j] - m[ch]) * r[ch] }
                }
            }
        }
    }
    let out = affine(xhat, weight, bias, channels: c, spatial: spatial)
    return Tensor.record(out, "batch_norm", inputs) { g, needs in
        let (dw, db) = affineGrads(g, xhat, channels: c, spatial: spatial,
                                   needW: weight != nil && needs[1], needB: bias != nil && needs[inputs.count - 1])
        var dx: Tensor? = nil
        if needs[0] {
            let gp = g.storage.pointer, xh = xhat.storage.pointer
            let w = weight?.scalars
            dx = Tensor.make(x.shape) { d in
                let o = d.baseAddress!
                Parallel.forEach(c) { ch in
                    let gamma = w?[ch] ?? 1
                    if !training {
                        for bi in 0..<b { let i0 = (bi * c + ch) * spatial; for j in 0..<spatial { o[i0 + j] = gp[i0 + j] * gamma * rstd[ch] } }
                        return
                    }
                    var sdx: Double = 0, sdxx: Double = 0
                    for bi in 0..<b {
                        let i0 = (bi * c + ch) * spatial
                        for j in 0..<spatial { let dxh = Double(gp[i0 + j] * gamma); sdx += dxh; sdxx += dxh * Double(xh[i0 + j]) }
                    }
                    let m1 = Float(sdx / Double(n)), m2 = Float(sdxx / Double(n))
                    for bi in 0..<b {
                        let i0 = (bi * c + ch) * spatial
                        for j in 0..<spatial { o[i0 + j] = rstd[ch] * (gp[i0 + j] * gamma - m1 - xh[i0 + j] * m2) }
                    }
                }
            }
        }
        var grads: [Tensor?] = [dx]
        if weight != nil { grads.append(dw) }
        if bias != nil { grads.append(db) }
        return grads
    }
}

/// y = γ[c]·x̂ + β[c] over x̂ [B, C, spatial] (layer norm: C = D, spatial = 1).
private func affine(_ xhat: Tensor, _ weight: Tensor?, _ bias: Tensor?, channels c: Int, spatial: Int) -> Tensor {
    if weight == nil && bias == nil { return xhat.clone() }
    let xh = xhat.storage.pointer
    let w = weight?.storage.pointer, bp = bias?.storage.pointer
    let rows = xhat.count / (c * spatial)
    return Tensor.make(xhat.shape) { d in
        let o = d.baseAddress!
        if spatial == 1 {
            Parallel.forRanges(rows, grain: max(1, 8192 / c)) { range in
                for r in range {
                    let s = xh + r * c, dst = o + r * c
                    for j in 0..<c { dst[j] = s[j] * (w?[j] ?? 1) + (bp?[j] ?? 0) }
                }
            }
        } else {
            Parallel.forEach(rows * c) { row in
                let ch = row % c
                let gamma = w?[ch] ?? 1, beta = bp?[ch] ?? 0
                let s = xh + row * spatial, dst = o + row * spatial
                for j in 0..<spatial { dst[j] = s[j] * gamma + beta }
            }
        }
    }
}

/// dγ[c] = Σ dy·x̂ and dβ[c] = Σ dy over every position of channel c, summed in a fixed order.
private func affineGrads(_ g: Tensor, _ xhat: Tensor, channels c: Int, spatial: Int,
                         needW: Bool, needB: Bool) -> (Tensor?, Tensor?) {
    guard needW || needB else { return (nil, nil) }
    let gp = g.storage.pointer, xh = xhat.storage.pointer
    let rows = g.count / (c * spatial)
    let dw = Tensor.zeros([c]), db = Tensor.zeros([c])
    let pw = dw.storage.pointer, pb = db.storage.pointer
    Parallel.forEach(c) { ch in
        var sw: Double = 0, sb: Double = 0
        for r in 0..<rows {
            let base = (r * c + ch) * spatial
            for j in 0..<spatial { let gv = gp[base + j]; sw += Double(gv * xh[base + j]); sb += Double(gv) }
        }
        pw[ch] = Float(sw); pb[ch] = Float(sb)
    }
    return (needW ? dw : nil, needB ? db : nil)
}
