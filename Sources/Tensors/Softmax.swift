import Foundation

/// Softmax and log-softmax along one axis, stabilised by subtracting the maximum.

/// Views `axis` of `shape` as [outer, n, inner].
@inline(__always)
func axisView(_ shape: [Int], _ axis: Int) -> (outer: Int, n: Int, inner: Int) {
    (shape[..<axis].product, shape[axis], shape[(axis + 1)...].product)
}

/// Writes softmax (or log-softmax) of each [n]-run of x into out (no graph).
func softmaxKernel(_ x: Tensor, axis: Int, log: Bool) -> Tensor {
    let (outer, n, inner) = axisView(x.shape, axis)
    let src = x.storage.pointer
    return Tensor.make(x.shape) { d in
        let dst = d.baseAddress!
        Parallel.forRanges(outer * inner, grain: max(1, 4096 / max(n, 1))) { range in
            for idx in range {
                let o = idx / inner, j = idx % inner
                let s = src + o * n * inner + j, t = dst + o * n * inner + j
                var m = -Float.infinity
                for i in 0..<n { m = Swift.max(m, s[i * inner]) }
                if m == -.infinity { // a fully masked row: uniform rather than NaN
                    for i in 0..<n { t[i * inner] = log ? -Foundation.log(Float(n)) : 1 / Float(n) }
                    continue
                }
                var sum: Float = 0
                for i in 0..<n { let e = Foundation.exp(s[i * inner] - m); t[i * inner] = e; sum += e }
                if log {
                    let lse = Foundation.log(sum) + m
                    for i in 0..<n { t[i * inner] = s[i * inner] - lse }
                } else {
                    let inv = 1 / sum
                    for i in 0..<n { t[i * inner] *= inv }
                }
            }
        }
    }
}

/// softmax(x)_i = exp(x_i) / Σ_j exp(x_j) along `axis` (default: last).
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let a = x.normalizedAxis(axis)
    let out = softmaxKernel(x, axis: a, log: false)
    let y = out.detached() // not `out` itself, which would make a reference cycle
    return Tensor.record(out, "softmax", [x]) { g, _ in
        // dx = y ⊙ (dy − Σ dy⊙y)
        let (outer, n, inner) = axisView(y.shape, a)
        let gp = g.storage.pointer, yp = y.storage.pointer
        return [Tensor.make(y.shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(outer * inner, grain: max(1, 4096 / max(n, 1))) { range in
                for idx in range {
                    let base = (idx / inner) * n * inner + idx % inner
                    var dot: Float = 0
                    for i in 0..<n { dot += gp[base + i * inner] * yp[base + i * inner] }
                    for i in 0..<n { o[base + i * inner] = yp[base + i * inner] * (gp[base + i * inner] - dot) }
                }
            }
        }]
    }
}

/// log softmax(x)_i = x_i − log Σ_j exp(x_j) along `axis` (default: last).
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let a = x.normalizedAxis(axis)
    let out = softmaxKernel(x, axis: a, log: true)
    let y = out.detached() // not `out` itself, which would make a reference cycle
    return Tensor.record(out, "log_softmax", [x]) { g, _ in
        // dx = dy − softmax ⊙ Σ dy
        let (outer, n, inner) = axisView(y.shape, a)
        let gp = g.storage.pointer, yp = y.storage.pointer
        return [Tensor.make(y.shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(outer * inner, grain: max(1, 4096 / max(n, 1))) { range in
                for idx in range {
                    let base = (idx / inner) * n * inner + idx % inner
                    var sum: Float = 0
                    for i in 0..<n { sum += gp[base + i * inner] }
                    for i in 0..<n { o[base + i * inner] = gp[base + i * inner] - Foundation.exp(yp[base + i * inner]) * sum }
                }
            }
        }]
    }
}
