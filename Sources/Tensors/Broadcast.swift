/// NumPy-style broadcasting: shapes are aligned at their trailing dimensions, and a dimension of
/// size 1 stretches to match the other. Adjacent dimensions that step alike in both inputs are
/// merged first, so a per-channel bias over [B, C, H, W] runs as [B, C, H·W] rows.
struct BroadcastPlan {
    let outShape: [Int]
    /// The merged iteration space and each input's stride in it (0 where it is broadcast).
    let dims: [Int]
    let stridesA: [Int]
    let stridesB: [Int]

    init(_ a: [Int], _ b: [Int]) {
        let rank = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        var out = [Int]()
        for (x, y) in zip(pa, pb) {
            precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) do not broadcast") // invariant: a programming error, not user input
            out.append(x == 1 ? y : x)
        }
        outShape = out
        func strides(_ s: [Int]) -> [Int] {
            var st = [Int](repeating: 0, count: rank), acc = 1
            for i in stride(from: rank - 1, through: 0, by: -1) {
                st[i] = s[i] == 1 ? 0 : acc
                acc *= s[i]
            }
            return st
        }
        let sa = strides(pa), sb = strides(pb)
        // Merge an outer dimension with the next inner one when both inputs step through the pair
        // as through one dimension (outer stride = inner stride × inner size).
        var d: [Int] = [], xa: [Int] = [], xb: [Int] = []
        for i in 0..<rank where out[i] != 1 {
            if let last = d.indices.last, xa[last] == sa[i] * out[i], xb[last] == sb[i] * out[i] {
                d[last] *= out[i]; xa[last] = sa[i]; xb[last] = sb[i]
                continue
            }
            d.append(out[i]); xa.append(sa[i]); xb.append(sb[i])
        }
        if d.isEmpty { d = [1]; xa = [0]; xb = [0] }
        dims = d; stridesA = xa; stridesB = xb
    }

    var count: Int { dims.product }
    var innerCount: Int { dims.last! }

    /// Calls `body(row, offsetA, offsetB)` for each row of the innermost merged dimension within
    /// `rows` (row-major order); the inner strides are `stridesA.last`, `stridesB.last`.
    @inline(__always)
    func forEachRow(_ rows: Range<Int>, _ body: (Int, Int, Int) -> Void) {
        let outerRank = dims.count - 1
        if outerRank == 0 { for r in rows { body(r, 0, 0) }; return }
        var index = [Int](repeating: 0, count: outerRank)
        var rem = rows.lowerBound
        for d in stride(from: outerRank - 1, through: 0, by: -1) { index[d] = rem % dims[d]; rem /= dims[d] }
        var oa = 0, ob = 0
        for d in 0..<outerRank { oa += index[d] * stridesA[d]; ob += index[d] * stridesB[d] }
        for r in rows {
            body(r, oa, ob)
            var d = outerRank - 1
            while d >= 0 {
                index[d] += 1; oa += stridesA[d]; ob += stridesB[d]
                if index[d] < dims[d] { break }
                oa -= stridesA[d] * dims[d]; ob -= stridesB[d] * dims[d]
                index[d] = 0; d -= 1
            }
        }
    }

    var rowCount: Int { dims.dropLast().product }
}

/// Sums `g` (of the broadcast output shape) down to `shape`, the gradient rule for broadcasting.
func sumToShape(_ g: Tensor, _ shape: [Int]) -> Tensor {
    if g.shape == shape { return g }
    if shape.product == g.count { return g.reshaped(shape) }
    let plan = BroadcastPlan(g.shape, shape)
    let out = Tensor.zeros(shape)
    let dst = out.storage.pointer, src = g.storage.pointer
    let inner = plan.innerCount, sb = plan.stridesB.last!
    plan.forEachRow(0..<plan.rowCount) { row, _, ob in
        let s = src + row * inner
        if sb == 0 {
            var acc: Float = 0
            for j in 0..<inner { acc += s[j] }
            dst[ob] += acc
        } else {
            for j in 0..<inner { dst[ob + j * sb] += s[j] }
        }
    }
    return out
}
