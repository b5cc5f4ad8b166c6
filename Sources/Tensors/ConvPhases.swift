/// Strided convolutions through the phases of their input.
///
/// With stride s, input row y meets the kernel only at the taps ki ≡ y + top (mod s), and likewise
/// for columns. Splitting the input into its s² phases — the grids of pixels (s·i + py, s·j + px) —
/// turns a strided convolution into stride-1 pieces:
/// - the input gradient: the pixels of one phase take their gradient from a fixed subset of the
///   taps, so dx over that grid is a stride-1 convolution of dy with those taps, flipped, exactly as
///   for stride 1 (`ConvGeometry.transposed`). For the Downsample's 3×3 kernel at stride 2 the four
///   phases see 2×2, 2×1, 1×2 and 1×1 taps. Each phase is a GEMM with K = O·taps whose results are
///   written (not added) into pixels no other phase touches: no col2im scatter, no zeroing of dx.
/// - the column matrix of the forward pass and of the weight gradient: every tap reads one phase
///   at a fixed offset, so after splitting each input row into its phases once, the rows of the
///   column matrix are contiguous copies instead of strided gathers.
///
/// Shape letters: B batch, C input channels, O output channels, H×W input, H'×W' output (dy),
/// Hp×Wp the pixels of one phase.

/// One phase of a strided convolution's input gradient: the input pixels (s·i + py, s·j + px).
struct ConvPhase {
    let py, px: Int
    /// The phase's taps are ki = firstRow + s·a and kj = firstColumn + s·b of the kernel.
    let firstRow, firstColumn: Int
    /// dy [B, O, H', W'] ⋆ the phase's flipped taps [C, O, a, b] → its pixels [B, C, Hp, Wp].
    let geometry: ConvGeometry
}

extension ConvGeometry {
    /// The phases of this convolution's input gradient; nil for stride 1, for a kernel or an input
    /// smaller than the stride (some phase would see no tap or no pixel), and for padding so wide
    /// that a phase would have to crop dy (negative padding). Those cases scatter through col2im.
    var phases: [ConvPhase]? {
        guard stride > 1, kh >= stride, kw >= stride, h >= stride, w >= stride else { return nil }
        var result: [ConvPhase] = []
        for py in 0..<stride {
            let rows = phaseAxis(py, size: h, kernel: kh, before: pad.top, outputs: hout)
            for px in 0..<stride {
                let columns = phaseAxis(px, size: w, kernel: kw, before: pad.left, outputs: wout)
                guard min(rows.before, rows.after, columns.before, columns.after) >= 0 else { return nil }
                let geometry = ConvGeometry(batch: batch, cin: cout, h: hout, w: wout, cout: cin,
                                            kh: rows.taps, kw: columns.taps, stride: 1,
                                            pad: Padding(left: columns.before, right: columns.after,
                                                         top: rows.before, bottom: rows.after))
                result.append(ConvPhase(py: py, px: px, firstRow: rows.first, firstColumn: columns.first,
                                        geometry: geometry))
            }
        }
        return result
    }

    /// One direction of phase `phase`. Its pixel i (input index s·i + phase) meets tap
    /// first + s·a at dy index i + shift − a, where first = (phase + before) mod s and
    /// shift = (phase + before) div s: a stride-1 correlation of the reversed taps with dy under
    /// padding taps − 1 − shift before and pixels − outputs + shift after.
    private func phaseAxis(_ phase: Int, size: Int, kernel: Int, before: Int,
                           outputs: Int) -> (first: Int, taps: Int, before: Int, after: Int) {
        let first = (phase + before) % stride, shift = (phase + before) / stride
        let taps = (kernel - first + stride - 1) / stride
        let pixels = (size - phase + stride - 1) / stride
        return (first, taps, taps - 1 - shift, pixels - outputs + shift)
    }
}

/// The phase's kernel [C, O·a·b] from W [O, C, kh, kw]: entry (c, o, u, v) is
/// W[o, c, firstRow + s·(a − 1 − u), firstColumn + s·(b − 1 − v)]. The caller deallocates it.
func phaseKernel(_ g: ConvGeometry, _ phase: ConvPhase, _ w: UnsafePointer<Float>) -> UnsafeMutablePointer<Float> {
    let pg = phase.geometry, s = g.stride
    let kernel = UnsafeMutablePointer<Float>.allocate(capacity: pg.cout * pg.patch)
    for c in 0..<g.cin {
        for o in 0..<g.cout {
            let src = w + (o * g.cin + c) * g.kh * g.kw
            let dst = kernel + (c * g.cout + o) * pg.kh * pg.kw
            for u in 0..<pg.kh {
                let ki = phase.firstRow + s * (pg.kh - 1 - u)
                for v in 0..<pg.kw {
                    dst[u * pg.kw + v] = src[ki * g.kw + phase.firstColumn + s * (pg.kw - 1 - v)]
                }
            }
        }
    }
    return kernel
}

/// dx [B, C, H, W] of a strided convolution, phase by phase. A job is a band of phase rows of
/// one row phase py (or whole images, when they are small): for each column phase px it builds
/// col(dy) [O·a·b, band] by im2col and multiplies the phase kernel into it, then writes the s
/// products interleaved into whole rows s·r + py of dx. Jobs write disjoint rows, each pixel once,
/// and a row's s products meet in the cache instead of each fetching the row from memory.
func inputGradientByPhases(_ g: ConvGeometry, _ phases: [ConvPhase], _ dy: UnsafePointer<Float>,
                           _ w: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>) {
    let s = g.stride
    let kernels = phases.map { phaseKernel(g, $0, w) }    // phases[py·s + px]
    defer { for k in kernels { k.deallocate() } }
    let widest = phases[0].geometry.wout                  // px = 0 has the most columns
    var jobs: [(py: Int, band: ConvTile)] = []            // bands in units of phase rows
    for py in 0..<s {
        let bands = ConvTiling(batch: g.batch, pixels: phases[py * s].geometry.hout,
                               targetColumns: max(1, ConvTiling.targetColumns / widest))
        for t in 0..<bands.count { jobs.append((py, bands[t])) }
    }
    let maxColumns = jobs.map { $0.band.columns }.max()! * widest   // invariant: at least one job
    let maxPatch = phases.map { $0.geometry.patch }.max()!           // invariant: s² phases
    let split = jobs.count == 1
    Parallel.forEachTile(jobs.count) { j in
        let (py, band) = jobs[j]
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: (maxPatch + s * g.cin) * maxColumns)
        defer { scratch.deallocate() }
        let products = scratch + maxPatch * maxColumns   // s × [C, columns of px]
        for px in 0..<s {
            let pg = phases[py * s + px].geometry, wp = pg.wout
            let tile = ConvTile(image: band.image, images: band.images, p0: band.p0 * wp, p1: band.p1 * wp)
            im2colTile(pg, dy, tile, scratch, ld: tile.columns)
            gemm(split: split, m: g.cin, n: tile.columns, k: pg.patch, a: kernels[py * s + px], lda: pg.patch,
                 b: scratch, ldb: tile.columns, beta: 0, c: products + px * g.cin * maxColumns, ldc: tile.columns)
        }
        writePhaseRows(g, Array(phases[(py * s)..<(py * s + s)]), products, productStride: g.cin * maxColumns,
                       band, dx)
    }
}

/// Writes the products of one band, [C, band columns] for each column phase px (the px-th at
/// `products + px·productStride`), into dx [B, C, H, W]: phase pixel (r, j) of px is dx pixel
/// (s·r + py, s·j + px). At stride 2 with both phases equally wide, eight pairs at a time.
func writePhaseRows(_ g: ConvGeometry, _ rowPhases: [ConvPhase], _ products: UnsafePointer<Float>,
                    productStride: Int, _ band: ConvTile, _ dx: UnsafeMutablePointer<Float>) {
    let s = g.stride, py = rowPhases[0].py, rows = band.width
    let widths = rowPhases.map { $0.geometry.wout }
    let pairs = s == 2 && widths[0] == widths[1]
    for c in 0..<g.cin {
        for i in 0..<band.images {
            let plane = dx + ((band.image + i) * g.cin + c) * g.h * g.w
            for r in band.p0..<band.p1 {
                let dst = plane + (s * r + py) * g.w
                // Row r of phase px: in its product [C, images·rows·wp], column (i·rows + r − p0)·wp.
                func source(_ px: Int) -> UnsafePointer<Float> {
                    let wp = widths[px]
                    return products + px * productStride + (c * band.images * rows + i * rows + r - band.p0) * wp
                }
                if pairs {
                    let even = source(0), odd = source(1), wp = widths[0]
                    var j = 0
                    while j + 8 <= wp {
                        var v = SIMD16<Float>()
                        v.evenHalf = UnsafeRawPointer(even + j).loadUnaligned(as: SIMD8<Float>.self)
                        v.oddHalf = UnsafeRawPointer(odd + j).loadUnaligned(as: SIMD8<Float>.self)
                        UnsafeMutableRawPointer(dst + 2 * j).storeBytes(of: v, as: SIMD16<Float>.self)
                        j += 8
                    }
                    while j < wp { dst[2 * j] = even[j]; dst[2 * j + 1] = odd[j]; j += 1 }
                } else {
                    for px in 0..<s {
                        let src = source(px)
                        for j in 0..<widths[px] { dst[s * j + px] = src[j] }
                    }
                }
            }
        }
    }
}

/// `im2colTile` for strides above 1, through the phases of x. Phase (p, q) of the padded input is
/// the grid P[i, j] = x[s·i + p − top, s·j + q − left], and tap (ki, kj) of output pixel (oy, ox)
/// reads P(ki mod s, kj mod s)[oy + ki div s, ox + kj div s]. So per channel the tile's rows are
/// split into their phases once (s² strided copies of an input row, where the taps would make
/// kh·kw), and every row of the column matrix is then a run of contiguous copies out of them.
func im2colByPhases(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ tile: ConvTile,
                    _ col: UnsafeMutablePointer<Float>, ld: Int) {
    let (s, wo) = (g.stride, g.wout)
    let oyFirst = tile.p0 / wo, oyLast = (tile.p1 - 1) / wo
    let rowPhases = min(s, g.kh), columnPhases = min(s, g.kw)
    let rows = oyLast - oyFirst + 1 + (g.kh - 1) / s       // phase rows under the tile
    let width = wo + (g.kw - 1) / s                          // phase columns under any output row
    let planeSize = rows * width
    let planes = UnsafeMutablePointer<Float>.allocate(capacity: rowPhases * columnPhases * planeSize)
    defer { planes.deallocate() }
    // For each q, the phase columns j whose input column s·j + q − left lies inside the image.
    let inside: [Range<Int>] = (0..<columnPhases).map { q in
        let x0 = q - g.pad.left
        let lo = x0 >= 0 ? 0 : (-x0 + s - 1) / s
        let hi = x0 <= g.w - 1 ? min(width, (g.w - 1 - x0) / s + 1) : 0
        return min(lo, width)..<max(min(lo, width), hi)
    }
    for i in 0..<tile.images {
        for c in 0..<g.cin {
            let image = x + ((tile.image + i) * g.cin + c) * g.h * g.w
            for r in 0..<rows {                   // input rows in order: one stream from memory
                for p in 0..<rowPhases {
                    let iy = s * (oyFirst + r) + p - g.pad.top
                    for q in 0..<columnPhases {
                        let dst = planes + (p * columnPhases + q) * planeSize + r * width
                        let valid = inside[q]
                        if iy < 0 || iy >= g.h || valid.isEmpty {
                            dst.update(repeating: 0, count: width)
                            continue
                        }
                        dst.update(repeating: 0, count: valid.lowerBound)
                        copyStrided(dst + valid.lowerBound, image + iy * g.w + s * valid.lowerBound + q - g.pad.left,
                                    count: valid.count, stride: s)
                        (dst + valid.upperBound).update(repeating: 0, count: width - valid.upperBound)
                    }
                }
            }
            for ki in 0..<g.kh {
                for kj in 0..<g.kw {
                    let phase = planes + ((ki % s) * columnPhases + kj % s) * planeSize + (ki / s) * width + kj / s
                    // Column i·tile.width + p − p0 holds pixel p of image i.
                    let row = col + ((c * g.kh + ki) * g.kw + kj) * ld + i * tile.width - tile.p0
                    for oy in oyFirst...oyLast {
                        let lo = max(tile.p0, oy * wo), hi = min(tile.p1, (oy + 1) * wo)
                        (row + lo).update(from: phase + (oy - oyFirst) * width + (lo - oy * wo), count: hi - lo)
                    }
                }
            }
        }
    }
}
