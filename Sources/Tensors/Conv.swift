/// 2-D convolution (cross-correlation, as in PyTorch) through im2col and BLAS.
///
/// Each output pixel is a dot product between a kernel and the input patch under it. im2col copies
/// those patches into the columns of a matrix so that the whole convolution becomes one GEMM:
/// out[Cout, P] = W[Cout, Cin·kh·kw] · col[Cin·kh·kw, P], where P counts output pixels. Images are
/// grouped so that each GEMM has enough columns to run near BLAS's peak even on 8×8 feature maps.

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

    /// Images per GEMM: enough for ~4096 columns, capped by a column-matrix budget of ~32 MB.
    var imagesPerChunk: Int {
        let byColumns = max(1, 4096 / max(pixels, 1))
        let byMemory = max(1, (8 << 20) / max(patch * pixels, 1))
        return min(batch, byColumns, byMemory)
    }
}

/// Copies the patches of `count` images starting at `x` into `col` [patch, count·pixels].
func im2col(_ g: ConvGeometry, _ x: UnsafePointer<Float>, images count: Int, _ col: UnsafeMutablePointer<Float>) {
    let ld = count * g.pixels
    let (ho, wo, h, w, s) = (g.hout, g.wout, g.h, g.w, g.stride)
    Parallel.forEach(g.cin * count) { job in
        let c = job % g.cin, img = job / g.cin
        let plane = x + (img * g.cin + c) * h * w
        for ki in 0..<g.kh {
            for kj in 0..<g.kw {
                let row = col + ((c * g.kh + ki) * g.kw + kj) * ld + img * g.pixels
                // Output columns whose input column lies inside the image.
                let x0 = kj - g.pad.left
                let oxLo = x0 >= 0 ? 0 : (-x0 + s - 1) / s
                let oxHi = min(wo, x0 + (w - 1) >= 0 ? (w - 1 - x0) / s + 1 : 0)
                for oy in 0..<ho {
                    let iy = oy * s - g.pad.top + ki
                    let dst = row + oy * wo
                    if iy < 0 || iy >= h || oxLo >= oxHi {
                        dst.update(repeating: 0, count: wo)
                        continue
                    }
                    if oxLo > 0 { dst.update(repeating: 0, count: oxLo) }
                    let src = plane + iy * w + x0
                    if s == 1 {
                        (dst + oxLo).update(from: src + oxLo, count: oxHi - oxLo)
                    } else {
                        for ox in oxLo..<oxHi { dst[ox] = src[ox * s] }
                    }
                    if oxHi < wo { (dst + oxHi).update(repeating: 0, count: wo - oxHi) }
                }
            }
        }
    }
}

/// Adds the columns of `col` [patch, count·pixels] back into the images at `dx` (the adjoint of
/// im2col). `dx` must be zeroed by the caller. Each worker owns one input channel: no races.
func col2im(_ g: ConvGeometry, _ col: UnsafePointer<Float>, images count: Int, _ dx: UnsafeMutablePointer<Float>) {
    let ld = count * g.pixels
    let (ho, wo, h, w, s) = (g.hout, g.wout, g.h, g.w, g.stride)
    Parallel.forEach(g.cin * count) { job in
        let c = job % g.cin, img = job / g.cin
        let plane = dx + (img * g.cin + c) * h * w
        for ki in 0..<g.kh {
            for kj in 0..<g.kw {
                let row = col + ((c * g.kh + ki) * g.kw + kj) * ld + img * g.pixels
                let x0 = kj - g.pad.left
                let oxLo = x0 >= 0 ? 0 : (-x0 + s - 1) / s
                let oxHi = min(wo, x0 + (w - 1) >= 0 ? (w - 1 - x0) / s + 1 : 0)
                guard oxLo < oxHi else { continue }
                for oy in 0..<ho {
                    let iy = oy * s - g.pad.top + ki
                    if iy < 0 || iy >= h { continue }
                    let src = row + oy * wo
                    let dst = plane + iy * w + x0
                    if s == 1 {
                        for ox in oxLo..<oxHi { dst[ox] += src[ox] }
                    } else {
                        for ox in oxLo..<oxHi { dst[ox * s] += src[ox] }
                    }
                }
            }
        }
    }
}

/// Moves a chunk between image-major [n, C, P] and channel-major [C, n·P] layouts.
func gatherChannels(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, images n: Int, channels c: Int, pixels p: Int, toChannelMajor: Bool) {
    Parallel.forEach(c) { ch in
        for i in 0..<n {
            let imageMajor = (i * c + ch) * p, channelMajor = ch * n * p + i * p
            if toChannelMajor {
                (dst + channelMajor).update(from: src + imageMajor, count: p)
            } else {
                (dst + imageMajor).update(from: src + channelMajor, count: p)
            }
        }
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
    let out = Tensor.make([g.batch, g.cout, g.hout, g.wout]) { _ in }
    let px = x.storage.pointer, pw = weight.storage.pointer, po = out.storage.pointer
    let chunk = g.imagesPerChunk
    let needsCol = !g.isPointwise
    let col = needsCol ? UnsafeMutablePointer<Float>.allocate(capacity: g.patch * chunk * g.pixels) : nil
    let tmp = chunk > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: g.cout * chunk * g.pixels) : nil
    defer { col?.deallocate(); tmp?.deallocate() }
    var b0 = 0
    while b0 < g.batch {
        let n = min(chunk, g.batch - b0)
        let cols = n * g.pixels
        let xin = px + b0 * g.cin * g.h * g.w
        let a: UnsafePointer<Float>
        if let col {
            im2col(g, xin, images: n, col); a = UnsafePointer(col)
        } else if n == 1 {
            a = UnsafePointer(xin)
        } else {
            // Pointwise conv over several images: gather [n, Cin, P] into [Cin, n·P].
            let gathered = UnsafeMutablePointer<Float>.allocate(capacity: g.cin * cols)
            gatherChannels(xin, gathered, images: n, channels: g.cin, pixels: g.pixels, toChannelMajor: true)
            let dst = tmp!
            gemmWithBias(g, pw, UnsafePointer(gathered), dst, cols: cols, bias: bias)
            gathered.deallocate()
            gatherChannels(dst, po + b0 * g.cout * g.pixels, images: n, channels: g.cout, pixels: g.pixels, toChannelMajor: false)
            b0 += n
            continue
        }
        if n == 1 {
            gemmWithBias(g, pw, a, po + b0 * g.cout * g.pixels, cols: cols, bias: bias)
        } else {
            gemmWithBias(g, pw, a, tmp!, cols: cols, bias: bias)
            gatherChannels(tmp!, po + b0 * g.cout * g.pixels, images: n, channels: g.cout, pixels: g.pixels, toChannelMajor: false)
        }
        b0 += n
    }
    return out
}

/// dst[Cout, cols] = W[Cout, patch] · a[patch, cols] (+ bias per row).
@inline(__always)
func gemmWithBias(_ g: ConvGeometry, _ w: UnsafePointer<Float>, _ a: UnsafePointer<Float>,
                  _ dst: UnsafeMutablePointer<Float>, cols: Int, bias: Tensor?) {
    if let bias {
        let pb = bias.storage.pointer
        Parallel.forEach(g.cout) { o in (dst + o * cols).update(repeating: pb[o], count: cols) }
    }
    sgemm(m: g.cout, n: cols, k: g.patch, a: w, b: a, beta: bias == nil ? 0 : 1, c: dst)
}

/// Gradients of conv2d: dx = col2im(Wᵀ · dy), dW = Σ dy · colᵀ, db = Σ dy.
func conv2dBackward(_ g: ConvGeometry, _ x: Tensor, _ weight: Tensor, _ grad: Tensor,
                    needX: Bool, needW: Bool, needBias: Bool) -> (Tensor?, Tensor?, Tensor?) {
    let px = x.storage.pointer, pw = weight.storage.pointer, pg = grad.storage.pointer
    let dx = needX ? Tensor.zeros(x.shape) : nil
    let dw = needW ? Tensor.zeros(weight.shape) : nil
    var db: Tensor? = nil
    if needBias {
        db = Tensor.make([g.cout]) { d in
            let o = d.baseAddress!
            Parallel.forEach(g.cout) { c in
                var acc: Float = 0
                for b in 0..<g.batch {
                    let row = pg + (b * g.cout + c) * g.pixels
                    for p in 0..<g.pixels { acc += row[p] }
                }
                o[c] = acc
            }
        }
    }
    guard needX || needW else { return (nil, nil, db) }
    let chunk = g.imagesPerChunk
    let maxCols = chunk * g.pixels
    let col = UnsafeMutablePointer<Float>.allocate(capacity: g.patch * maxCols)
    let dy = chunk > 1 ? UnsafeMutablePointer<Float>.allocate(capacity: g.cout * maxCols) : nil
    defer { col.deallocate(); dy?.deallocate() }
    var b0 = 0
    while b0 < g.batch {
        let n = min(chunk, g.batch - b0)
        let cols = n * g.pixels
        let gin = pg + b0 * g.cout * g.pixels
        let dyChunk: UnsafePointer<Float>
        if n == 1 {
            dyChunk = UnsafePointer(gin)
        } else {
            gatherChannels(gin, dy!, images: n, channels: g.cout, pixels: g.pixels, toChannelMajor: true)
            dyChunk = UnsafePointer(dy!)
        }
        if let dw {
            let xin = px + b0 * g.cin * g.h * g.w
            if g.isPointwise && n == 1 {
                sgemm(transB: true, m: g.cout, n: g.patch, k: cols, a: dyChunk, b: xin, beta: 1, c: dw.storage.pointer)
            } else {
                if g.isPointwise {
                    gatherChannels(xin, col, images: n, channels: g.cin, pixels: g.pixels, toChannelMajor: true)
                } else {
                    im2col(g, xin, images: n, col)
                }
                sgemm(transB: true, m: g.cout, n: g.patch, k: cols, a: dyChunk, b: col, beta: 1, c: dw.storage.pointer)
            }
        }
        if let dx {
            let dxin = dx.storage.pointer + b0 * g.cin * g.h * g.w
            if g.isPointwise && n == 1 {
                sgemm(transA: true, m: g.patch, n: cols, k: g.cout, a: pw, b: dyChunk, c: dxin)
            } else {
                sgemm(transA: true, m: g.patch, n: cols, k: g.cout, a: pw, b: dyChunk, c: col)
                if g.isPointwise {
                    gatherChannels(col, dxin, images: n, channels: g.cin, pixels: g.pixels, toChannelMajor: false)
                } else {
                    col2im(g, col, images: n, dxin)
                }
            }
        }
        b0 += n
    }
    return (dx, dw, db)
}
