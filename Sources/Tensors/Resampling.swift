/// Changing spatial resolution: average pooling (the reference's Downsample without conv) and
/// nearest-neighbour upsampling (its Upsample, before a 3×3 conv).

/// Average pooling over non-overlapping k×k windows: [B, C, H, W] → [B, C, H/k, W/k].
public func avgPool2d(_ x: Tensor, kernel k: Int) -> Tensor {
    precondition(x.rank == 4 && x.shape[2] % k == 0 && x.shape[3] % k == 0,  // invariant: a programming error, not user input
                 "avgPool2d(kernel: \(k)) on \(x.shape)")
    let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    let (ho, wo) = (h / k, w / k)
    let scale = 1 / Float(k * k)
    let src = x.storage.pointer
    let out = Tensor.make([x.shape[0], x.shape[1], ho, wo]) { d in
        let dst = d.baseAddress!
        Parallel.forEach(planes) { p in
            let s = src + p * h * w, o = dst + p * ho * wo
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var acc: Float = 0
                    for i in 0..<k { for j in 0..<k { acc += s[(oy * k + i) * w + ox * k + j] } }
                    o[oy * wo + ox] = acc * scale
                }
            }
        }
    }
    let inShape = x.shape
    return Tensor.record(out, "avg_pool2d", [x]) { g, _ in
        let gp = g.storage.pointer
        return [Tensor.make(inShape) { d in
            let dst = d.baseAddress!
            Parallel.forEach(planes) { p in
                let gs = gp + p * ho * wo, o = dst + p * h * w
                for y in 0..<h { for xx in 0..<w { o[y * w + xx] = gs[(y / k) * wo + xx / k] * scale } }
            }
        }]
    }
}

/// Nearest-neighbour upsampling by an integer factor: [B, C, H, W] → [B, C, sH, sW].
public func upsampleNearest(_ x: Tensor, scale s: Int = 2) -> Tensor {
    precondition(x.rank == 4 && s >= 1, "upsampleNearest on \(x.shape)") // invariant: a programming error, not user input
    let (planes, h, w) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
    let (ho, wo) = (h * s, w * s)
    let src = x.storage.pointer
    let out = Tensor.make([x.shape[0], x.shape[1], ho, wo]) { d in
        let dst = d.baseAddress!
        Parallel.forEach(planes) { p in
            let sp = src + p * h * w, o = dst + p * ho * wo
            for y in 0..<h {
                let row = o + y * s * wo
                for xx in 0..<w {
                    let v = sp[y * w + xx]
                    for j in 0..<s { row[xx * s + j] = v }
                }
                for r in 1..<s { (row + r * wo).update(from: row, count: wo) }
            }
        }
    }
    let inShape = x.shape
    return Tensor.record(out, "upsample_nearest", [x]) { g, _ in
        let gp = g.storage.pointer
        return [Tensor.make(inShape) { d in
            let dst = d.baseAddress!
            Parallel.forEach(planes) { p in
                let gs = gp + p * ho * wo, o = dst + p * h * w
                for y in 0..<h {
                    for xx in 0..<w {
                        var acc: Float = 0
                        for i in 0..<s { for j in 0..<s { acc += gs[(y * s + i) * wo + xx * s + j] } }
                        o[y * w + xx] = acc
                    }
                }
            }
        }]
    }
}

/// The reference's Upsample interpolation: nearest-neighbour ×2.
public func upsampleNearest2x(_ x: Tensor) -> Tensor { upsampleNearest(x, scale: 2) }
