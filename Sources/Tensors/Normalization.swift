import Foundation

/// Normalisation layers as pure functions: group norm (the VQGAN's Normalize, 32 groups, eps 1e-6),
/// layer norm (the GPT's), and batch norm (the PatchGAN discriminator's).
///
/// All three standardise x̂ = (x − μ)·rstd with rstd = 1/√(σ² + eps) over some set of elements and
/// then apply a per-channel affine y = γ·x̂ + β. Their backward passes share one rule: within a set,
/// dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) with dx̂ = γ·dy.

/// Normalises `rows` independent runs of `n` elements; element j of a run uses affine channel
/// `channel(j)`. Writes y, x̂ (for backward) and rstd.
@inline(__always)
private func standardize(_ x: UnsafePointer<Float>, rows: Int, n: Int, eps: Float,
                         xhat: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
    Parallel.forEach(rows) { r in
        let s = x + r * n, xh = xhat + r * n
        var sum: Double = 0
        for j in 0..<n { sum += Double(s[j]) }
        let mean = Float(sum / Double(n))
        var sq: Double = 0
        for j in 0..<n { let d = s[j] - mean; sq += Double(d * d) }
        let rs = 1 / (Float(sq / Double(n)) + eps).squareRoot()
        for j in 0..<n { xh[j] = (s[j] - mean) * rs }
        rstd[r] = rs
    }
}

/// Group normalisation: x [B, C, *] with C split into `groups`; statistics per (sample, group).
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let b = x.shape[0], c = x.shape[1]
    precondition(c % groups == 0, "groupNorm: \(c) channels in \(groups) groups") // invariant
    let spatial = x.count / max(b * c, 1)
    let rows = b * groups, n = (c / groups) * spatial
    let xhat = Tensor.make(x.shape) { _ in }
    let rstd = Tensor.make([rows]) { _ in }
    standardize(x.storage.pointer, rows: rows, n: n, eps: eps, xhat: xhat.storage.pointer, rstd: rstd.storage.pointer)
    let out = affine(xhat, weight, bias, channels: c, spatial: spatial)
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    return Tensor.record(out, "group_norm", inputs) { g, needs in
        let (dw, db) = affineGrads(g, xhat, channels: c, spatial: spatial,
                                   needW: weight != nil && needs[1], needB: bias != nil && needs[inputs.count - 1])
        let dx = needs[0] ? standardizeBackward(g, xhat, rstd, weight, rows: rows, n: n, channels: c, spatial: spatial) : nil
        var grads: [Tensor?] = [dx]
        if weight != nil { grads.append(dw) }
        if bias != nil { grads.append(db) }
        return grads
    }
}

/// Layer normalisation over the last dimension: x [..., D], weight and bias [D].
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let d = x.shape.last!
    let rows = x.count / d
    let xhat = Tensor.make(x.shape) { _ in }
    let rstd = Tensor.make([rows]) { _ in }
    standardize(x.storage.pointer, rows: rows, n: d, eps: eps, xhat: xhat.storage.pointer, rstd: rstd.storage.pointer)
    // As an affine over "channels" D with spatial extent 1 and batch `rows`.
    let out = affine(xhat, weight, bias, channels: d, spatial: 1)
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    return Tensor.record(out, "layer_norm", inputs) { g, needs in
        let (dw, db) = affineGrads(g, xhat, channels: d, spatial: 1,
                                   needW: weight != nil && needs[1], needB: bias != nil && needs[inputs.count - 1])
        let dx = needs[0] ? standardizeBackward(g, xhat, rstd, weight, rows: rows, n: d, channels: d, spatial: 1) : nil
        var grads: [Tensor?] = [dx]
        if weight != nil { grads.append(dw) }
        if bias != nil { grads.append(db) }
        return grads
    }
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

/// dx for group and layer norm: per run of n elements (rows of the standardisation).
private func standardizeBackward(_ g: Tensor, _ xhat: Tensor, _ rstd: Tensor, _ weight: Tensor?,
                                 rows: Int, n: Int, channels c: Int, spatial: Int) -> Tensor {
    let gp = g.storage.pointer, xh = xhat.storage.pointer, rs = rstd.storage.pointer
    let w = weight?.storage.pointer
    // Within a run, element j belongs to channel (runStartChannel + j / spatial) mod c.
    let channelsPerRun = n / spatial
    return Tensor.make(xhat.shape) { d in
        let o = d.baseAddress!
        Parallel.forEach(rows) { r in
            let base = r * n
            let ch0 = (r * channelsPerRun) % c
            var s1: Double = 0, s2: Double = 0
            for j in 0..<n {
                let gamma = w?[ch0 + j / spatial] ?? 1
                let dxh = gp[base + j] * gamma
                s1 += Double(dxh); s2 += Double(dxh * xh[base + j])
            }
            let m1 = Float(s1 / Double(n)), m2 = Float(s2 / Double(n)), rsd = rs[r]
            for j in 0..<n {
                let gamma = w?[ch0 + j / spatial] ?? 1
                o[base + j] = rsd * (gp[base + j] * gamma - m1 - xh[base + j] * m2)
            }
        }
    }
}
