/// 2-D convolution (cross-correlation, as in PyTorch) through im2col and BLAS.
///
/// Each output pixel is a dot product between a kernel and the input patch under it. im2col copies
/// those patches into the columns of a matrix so that the convolution becomes a GEMM:
/// out[O, P] = W[O, C·kh·kw] · col[C·kh·kw, P], where P counts output pixels. The columns are built
/// and multiplied one tile of output pixels at a time (ConvTiles.swift), so they never leave the
/// cache. The backward pass reuses the same tiles: dW = Σ dy · colᵀ over them; for stride 1, dx is
/// itself a convolution (of dy with the flipped kernel); for larger strides, it is one such
/// convolution per phase of the input (ConvPhases.swift), or, where the phases do not apply, the
/// scatter of Wᵀ · dy back through col2im.
///
/// Shape letters: B batch, C input channels, O output channels, H×W input and H'×W' output size,
/// P = H'·W'.

/// Zero padding on each side of the last two dimensions, as in torch's F.pad order.
public struct Padding: Equatable, Sendable {
    public var left, right, top, bottom: Int
    public init(left: Int, right: Int, top: Int, bottom: Int) {
        self.left = left; self.right = right; self.top = top; self.bottom = bottom
    }
    /// The same padding `p` on all four sides.
    public static func same(_ p: Int) -> Padding { Padding(left: p, right: p, top: p, bottom: p) }
    public static let zero = Padding.same(0)
}

extension Padding: ExpressibleByIntegerLiteral {
    public init(integerLiteral p: Int) { self = .same(p) }
}

/// The sizes of one convolution, shared by the forward and backward kernels.
struct ConvGeometry {
    let batch, cin, h, w, cout, kh, kw, stride: Int
    let pad: Padding
    var hout: Int { (h + pad.top + pad.bottom - kh) / stride + 1 }
    var wout: Int { (w + pad.left + pad.right - kw) / stride + 1 }
    var pixels: Int { hout * wout }           // output pixels per image
    var patch: Int { cin * kh * kw }           // rows of the column matrix
    var isPointwise: Bool { kh == 1 && kw == 1 && stride == 1 && pad == .zero }
    /// Multiply–adds of the forward pass (each of dx and dW costs about as many).
    var multiplyAdds: Int { batch * cout * pixels * patch }
    /// Below this many multiply–adds, the backward pass runs dx and dW side by side on one
    /// thread each: the parallel sections of a small convolution are too short to split well.
    static let concurrentHalvesBelow = 50_000_000

    /// The convolution whose output is this one's input gradient, when there is one: for stride 1,
    /// dx [B, C, H, W] is dy [B, O, H', W'] convolved with the kernel flipped in space and with
    /// channels swapped, under the complementary padding k − 1 − p on each side. Nil for strides
    /// above 1 and for padding wider than the kernel.
    var transposed: ConvGeometry? {
        guard stride == 1 else { return nil }
        let flipped = Padding(left: kw - 1 - pad.left, right: kw - 1 - pad.right,
                              top: kh - 1 - pad.top, bottom: kh - 1 - pad.bottom)
        guard min(flipped.left, flipped.right, flipped.top, flipped.bottom) >= 0 else { return nil }
        return ConvGeometry(batch: batch, cin: cout, h: hout, w: wout, cout: cin, kh: kh, kw: kw, stride: 1, pad: flipped)
    }
}

/// 2-D convolution: x [B, Cin, H, W] ⋆ weight [Cout, Cin, kh, kw] + bias [Cout] → [B, Cout, H', W'],
/// with H' = (H + top + bottom − kh) / stride + 1. Asymmetric padding such as (0, 1, 0, 1) is
/// what the reference's stride-2 Downsample uses.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1,
                   padding: Padding = .zero) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && x.shape[1] == weight.shape[1],  // invariant: a programming error, not user input
                 "conv2d: input \(x.shape), weight \(weight.shape)")
    let g = ConvGeometry(batch: x.shape[0], cin: x.shape[1], h: x.shape[2], w: x.shape[3],
                         cout: weight.shape[0], kh: weight.shape[2], kw: weight.shape[3],
                         stride: stride, pad: padding)
    precondition(g.hout > 0 && g.wout > 0, "conv2d: kernel larger than padded input \(x.shape)") // invariant: a programming error, not user input
    let out = conv2dForward(g, x, weight, bias)
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return Tensor.record(out, "conv2d", inputs) { grad, needs in
        let (dx, dw, db) = conv2dBackward(g, x, weight, grad, needX: needs[0], needW: needs[1],
                                          needBias: needs.count > 2 && needs[2])
        return Array([dx, dw, db].prefix(inputs.count))
    }
}

func conv2dForward(_ g: ConvGeometry, _ x: Tensor, _ weight: Tensor, _ bias: Tensor?) -> Tensor {
    Tensor.make([g.batch, g.cout, g.hout, g.wout]) { out in
        convolveTiles(g, x.storage.pointer, weight.storage.pointer, bias: bias.map { UnsafePointer($0.storage.pointer) },
                      out.baseAddress!)
    }
}

/// out [B, O, H', W'] = W [O, patch] · col(x) (+ bias [O]), one GEMM per tile of output pixels.
/// Every element of `out` is written.
func convolveTiles(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                   bias: UnsafePointer<Float>?, _ out: UnsafeMutablePointer<Float>) {
    let tiling = ConvTiling(g)
    let split = tiling.count == 1          // a single tile: its GEMM spreads over the workers
    Parallel.forEachTile(tiling.count) { t in
        let tile = tiling[t], cols = tile.columns
        let direct = g.isPointwise && tile.images == 1     // x itself is the column matrix
        let colCount = direct ? 0 : g.patch * cols
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: colCount + (tile.images > 1 ? g.cout * cols : 0) + 1)
        defer { scratch.deallocate() }
        let b: UnsafePointer<Float>, ldb: Int
        if direct {
            b = x + tile.image * g.cin * g.pixels + tile.p0; ldb = g.pixels
        } else {
            im2colTile(g, x, tile, scratch, ld: cols); b = UnsafePointer(scratch); ldb = cols
        }
        // C: straight into the output image, or a [O, images·P] buffer scattered afterwards.
        let c: UnsafeMutablePointer<Float>, ldc: Int
        if tile.images > 1 {
            c = scratch + colCount; ldc = cols
        } else {
            c = out + tile.image * g.cout * g.pixels + tile.p0; ldc = g.pixels
        }
        if let bias {
            for o in 0..<g.cout { (c + o * ldc).update(repeating: bias[o], count: cols) }
        }
        gemm(split: split, m: g.cout, n: cols, k: g.patch, a: w, lda: g.patch, b: b, ldb: ldb,
             beta: bias == nil ? 0 : 1, c: c, ldc: ldc)
        if tile.images > 1 { gatherTile(out, c, channels: g.cout, pixels: g.pixels, tile, toTile: false) }
    }
}

/// `sgemm` split over the workers, or one BLAS call on this thread.
@inline(__always)
func gemm(split: Bool, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
          a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
          beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if split {
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    } else {
        sgemmSerial(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
}

extension Parallel {
    /// Runs `body(t)` for every tile on the workers, each tile's GEMM whole on its worker; a
    /// single tile runs on the calling thread, free to split its GEMM.
    static func forEachTile(_ count: Int, _ body: (Int) -> Void) {
        if count == 1 { body(0) } else { forEachWithSerialBLAS(count, body) }
    }
}

/// Gradients of conv2d: dx (the flipped-kernel convolution of dy for stride 1, phase by phase for
/// larger strides, else the scatter of Wᵀ·dy), dW = Σ dy · colᵀ, db = Σ dy.
func conv2dBackward(_ g: ConvGeometry, _ x: Tensor, _ weight: Tensor, _ grad: Tensor,
                    needX: Bool, needW: Bool, needBias: Bool) -> (Tensor?, Tensor?, Tensor?) {
    if needX && needW && g.multiplyAdds < ConvGeometry.concurrentHalvesBelow && Parallel.threadCount > 1 {
        // Two jobs of one thread each, in one parallel section, rather than four short sections
        // (bias, dx, dW, the sum of dW's groups) that each spread a fraction of a millisecond
        // over the workers. The kernels' blocks depend only on the shapes, so the bits are the same.
        var halves: [(Tensor?, Tensor?, Tensor?)] = [(nil, nil, nil), (nil, nil, nil)]
        halves.withUnsafeMutableBufferPointer { h in
            let results = h.baseAddress!
            Parallel.forEach(2) { job in
                results[job] = Parallel.withThreadCount(1) {
                    conv2dBackward(g, x, weight, grad, needX: job == 0, needW: job == 1, needBias: job == 1 && needBias)
                }
            }
        }
        return (halves[0].0, halves[1].1, halves[1].2)
    }
    let px = x.storage.pointer, pw = weight.storage.pointer, pg = grad.storage.pointer
    var db: Tensor? = nil
    if needBias {
        db = Tensor.make([g.cout]) { d in
            let o = d.baseAddress!
            Parallel.forEach(g.cout) { c in o[c] = channelSum(pg + c * g.pixels, rows: g.batch, stride: g.cout * g.pixels, count: g.pixels) }
        }
    }
    var dx: Tensor? = nil
    if needX {
        dx = Tensor.make(x.shape) { d in
            if let gt = g.transposed {
                let flipped = flippedKernel(g, pw)
                defer { flipped.deallocate() }
                convolveTiles(gt, pg, flipped, bias: nil, d.baseAddress!)
            } else if let phases = g.phases {
                inputGradientByPhases(g, phases, pg, pw, d.baseAddress!)
            } else {
                inputGradientByScatter(g, pg, pw, d.baseAddress!)
            }
        }
    }
    let dw = needW ? Tensor.make(weight.shape) { weightGradientTiles(g, px, pg, $0.baseAddress!) } : nil
    return (dx, dw, db)
}

/// Σ of `rows` runs of `count` floats, `stride` apart: one channel of dy over the batch. Sixteen
/// running sums, added together at the end (a fixed order, whatever the thread count).
func channelSum(_ x: UnsafePointer<Float>, rows: Int, stride: Int, count: Int) -> Float {
    var lanes = SIMD16<Float>()
    var tail: Float = 0
    let whole = count / 16 * 16
    for r in 0..<rows {
        let row = x + r * stride
        var i = 0
        while i < whole {
            lanes += UnsafeRawPointer(row + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        for j in whole..<count { tail += row[j] }
    }
    return lanes.sum() + tail
}

/// W' [C, O·kh·kw] with W'[c, o, u, v] = W[o, c, kh − 1 − u, kw − 1 − v]: the kernel of the
/// transposed convolution. Flipping both axes of a row-major kh×kw block reverses it. The caller
/// deallocates the result.
func flippedKernel(_ g: ConvGeometry, _ w: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> {
    let taps = g.kh * g.kw
    let flipped = UnsafeMutablePointer<Float>.allocate(capacity: g.cout * g.patch)
    for o in 0..<g.cout {
        for c in 0..<g.cin {
            let src = w + (o * g.cin + c) * taps, dst = flipped + (c * g.cout + o) * taps
            for t in 0..<taps { dst[t] = src[taps - 1 - t] }
        }
    }
    return flipped
}

/// dx [B, C, H, W] for any stride: per tile, col = Wᵀ · dy [patch, tile] (K = O), scattered back
/// by col2im. Each job owns whole images of dx (all tiles of one image, or one tile of whole
/// images), so its sums run in a fixed order and no two jobs write the same pixel.
func inputGradientByScatter(_ g: ConvGeometry, _ dy: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                            _ dx: UnsafeMutablePointer<Float>) {
    let tiling = ConvTiling(g)
    let tilesPerJob = tiling.tilesPerImage
    let jobs = tiling.count / tilesPerJob
    let split = jobs == 1
    let dyMutable = UnsafeMutablePointer(mutating: dy)
    Parallel.forEachTile(jobs) { j in
        let first = tiling[j * tilesPerJob]
        let plane = g.cin * g.h * g.w
        (dx + first.image * plane).update(repeating: 0, count: first.images * plane)
        let maxCols = tiling.maxColumns
        let gathered = tiling.imagesPerTile > 1 ? g.cout * maxCols : 0
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: g.patch * maxCols + gathered)
        defer { scratch.deallocate() }
        for t in (j * tilesPerJob)..<((j + 1) * tilesPerJob) {
            let tile = tiling[t], cols = tile.columns
            let b: UnsafePointer<Float>, ldb: Int
            if tile.images == 1 {
                b = dy + tile.image * g.cout * g.pixels + tile.p0; ldb = g.pixels
            } else {
                let buffer = scratch + g.patch * maxCols
                gatherTile(dyMutable, buffer, channels: g.cout, pixels: g.pixels, tile, toTile: true)
                b = UnsafePointer(buffer); ldb = cols
            }
            gemm(split: split, transA: true, m: g.patch, n: cols, k: g.cout, a: w, lda: g.patch, b: b, ldb: ldb,
                 beta: 0, c: scratch, ldc: cols)
            col2imTile(g, scratch, ld: cols, tile, dx)
        }
    }
}

/// dW [O, patch] = Σ over tiles dy [O, tile] · col(x) [patch, tile]ᵀ. The tiles are summed in at
/// most 8 fixed groups (a number that depends on the shapes, not the threads): each group
/// accumulates its tiles in order, then the groups are added in order.
func weightGradientTiles(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         _ dw: UnsafeMutablePointer<Float>) {
    let tiling = ConvTiling(g)
    let groups = min(tiling.count, 8)
    let size = g.cout * g.patch
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: (groups - 1) * size + 1)
    defer { partials.deallocate() }
    let dyMutable = UnsafeMutablePointer(mutating: dy)
    Parallel.forEachTile(groups) { group in
        let sum = group == 0 ? dw : partials + (group - 1) * size
        let direct = g.isPointwise && tiling.imagesPerTile == 1
        let maxCols = tiling.maxColumns
        let colCount = direct ? 0 : g.patch * maxCols
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: colCount + (tiling.imagesPerTile > 1 ? g.cout * maxCols : 0) + 1)
        defer { scratch.deallocate() }
        let first = group * tiling.count / groups, last = (group + 1) * tiling.count / groups
        for t in first..<last {
            let tile = tiling[t], cols = tile.columns
            let b: UnsafePointer<Float>, ldb: Int
            if direct {
                b = x + tile.image * g.cin * g.pixels + tile.p0; ldb = g.pixels
            } else {
                im2colTile(g, x, tile, scratch, ld: cols); b = UnsafePointer(scratch); ldb = cols
            }
            let a: UnsafePointer<Float>, lda: Int
            if tile.images == 1 {
                a = dy + tile.image * g.cout * g.pixels + tile.p0; lda = g.pixels
            } else {
                gatherTile(dyMutable, scratch + colCount, channels: g.cout, pixels: g.pixels, tile, toTile: true)
                a = UnsafePointer(scratch + colCount); lda = cols
            }
            gemm(split: groups == 1, transB: true, m: g.cout, n: g.patch, k: cols, a: a, lda: lda, b: b, ldb: ldb,
                 beta: t == first ? 0 : 1, c: sum, ldc: g.patch)
        }
    }
    guard groups > 1 else { return }
    Parallel.forRanges(size, grain: 4096) { range in
        for i in range {
            var acc = dw[i]
            for group in 1..<groups { acc += partials[(group - 1) * size + i] }
            dw[i] = acc
        }
    }
}
