/// Max pooling: the downsampling between VGG's stages (LPIPS's backbone).

/// The maximum over k×k windows moved by `stride` (no padding): [B, C, H, W] → [B, C, H', W'] with
/// H' = (H − k) / stride + 1. The gradient flows to the first maximal element of each window (in
/// row-major order, as PyTorch); overlapping windows add their gradients.
public func maxPool2d(_ x: Tensor, kernel k: Int, stride s: Int) -> Tensor {
    precondition(x.rank == 4 && k > 0 && s > 0 && x.shape[2] >= k && x.shape[3] >= k,  // invariant: a programming error, not user input
                 "maxPool2d(kernel: \(k), stride: \(s)) on \(x.shape)")
    let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (ho, wo) = ((h - k) / s + 1, (w - k) / s + 1)
    let planes = b * c
    let src = x.storage.pointer
    // Where each output's maximum came from, as an offset within its input plane.
    let winners = UnsafeMutablePointer<Int32>.allocate(capacity: max(planes * ho * wo, 1))
    let source = WinnerIndices(winners)
    let out = Tensor.make([b, c, ho, wo]) { d in
        let dst = d.baseAddress!
        Parallel.forEach(planes) { p in
            let plane = src + p * h * w, o = dst + p * ho * wo, arg = winners + p * ho * wo
            for oy in 0..<ho {
                for ox in 0..<wo {
                    let top = oy * s * w + ox * s
                    var best = plane[top], at = top
                    for i in 0..<k {
                        let row = top + i * w
                        for j in 0..<k where plane[row + j] > best { best = plane[row + j]; at = row + j }
                    }
                    o[oy * wo + ox] = best
                    arg[oy * wo + ox] = Int32(at)
                }
            }
        }
    }
    let inShape = x.shape
    return Tensor.record(out, "max_pool2d", [x]) { g, _ in
        let gp = g.storage.pointer, arg = source.pointer
        return [Tensor.make(inShape) { d in
            let dst = d.baseAddress!
            Parallel.forEach(planes) { p in
                let o = dst + p * h * w, gs = gp + p * ho * wo, a = arg + p * ho * wo
                o.update(repeating: 0, count: h * w)
                for i in 0..<(ho * wo) { o[Int(a[i])] += gs[i] }
            }
        }]
    }
}

/// The argmax offsets of one max-pooling, freed with the graph node that keeps them for backward.
private final class WinnerIndices {
    let pointer: UnsafeMutablePointer<Int32>
    init(_ pointer: UnsafeMutablePointer<Int32>) { self.pointer = pointer }
    deinit { pointer.deallocate() }
}
