/// Tiles of a convolution's output pixels, and the copies that move patches in and out of them.
///
/// A convolution is a GEMM over a column matrix with one column per output pixel. Building that
/// matrix for a whole batch writes megabytes that the GEMM then reads back from memory; cut into
/// tiles of a few hundred columns, each worker builds its tile's columns and multiplies them while
/// they are still in its cache. The tiles depend only on the shapes, never on the thread count,
/// so every sum runs in the same order with any number of threads.
///
/// Shape letters: B batch, C input channels, O output channels, P output pixels per image.

/// Output pixels p0..<p1 of `images` consecutive images starting at `image`: one GEMM's columns,
/// image-major (column i·(p1 − p0) + p − p0 is pixel p of image `image + i`).
struct ConvTile {
    let image, images, p0, p1: Int
    var width: Int { p1 - p0 }
    var columns: Int { images * width }
}

/// How the output pixels of a batch are cut into tiles: large images into pieces of about
/// `targetColumns` pixels, small ones grouped whole until a tile has about that many.
struct ConvTiling {
    let batch, pixels: Int
    /// More than 1 only when images are cut into pieces.
    let tilesPerImage: Int
    /// More than 1 only when a tile holds several whole images.
    let imagesPerTile: Int
    /// Pixels per piece of a cut image (the last piece may be shorter).
    let pieceWidth: Int

    init(batch: Int, pixels: Int, targetColumns: Int) {
        self.batch = batch; self.pixels = pixels
        if pixels >= targetColumns {
            tilesPerImage = (pixels + targetColumns - 1) / targetColumns
            imagesPerTile = 1
            pieceWidth = (pixels + tilesPerImage - 1) / tilesPerImage
        } else {
            tilesPerImage = 1
            imagesPerTile = max(1, min(batch, targetColumns / max(pixels, 1)))
            pieceWidth = pixels
        }
    }

    /// Tiles for convolution `g`: about 512 columns each.
    init(_ g: ConvGeometry) {
        self.init(batch: g.batch, pixels: g.pixels, targetColumns: ConvTiling.targetColumns)
    }

    static let targetColumns = 512

    var count: Int {
        tilesPerImage > 1 ? batch * tilesPerImage : (batch + imagesPerTile - 1) / imagesPerTile
    }

    /// The most columns any tile has.
    var maxColumns: Int { imagesPerTile * pieceWidth }

    subscript(t: Int) -> ConvTile {
        if tilesPerImage > 1 {
            let p0 = (t % tilesPerImage) * pieceWidth
            return ConvTile(image: t / tilesPerImage, images: 1, p0: p0, p1: min(pixels, p0 + pieceWidth))
        }
        let first = t * imagesPerTile
        return ConvTile(image: first, images: min(imagesPerTile, batch - first), p0: 0, p1: pixels)
    }
}

extension ConvGeometry {
    /// Output columns `ox` whose input column `ox·stride − left + kj` lies inside the image.
    @inline(__always)
    func validColumns(kj: Int) -> Range<Int> {
        let x0 = kj - pad.left
        let lo = x0 >= 0 ? 0 : (-x0 + stride - 1) / stride
        let hi = min(wout, x0 + (w - 1) >= 0 ? (w - 1 - x0) / stride + 1 : 0)
        return lo..<max(lo, hi)
    }
}

/// Copies the patches under `tile`'s pixels into `col` [patch, tile.columns] (row stride `ld`):
/// row (c·kh + ki)·kw + kj holds input x[b, c, oy·s − top + ki, ox·s − left + kj], or 0 outside.
/// `x` points at image 0 of the batch [B, C, H, W]. Strides above 1 read x through its phases
/// (`im2colByPhases`); the loops below are the plain definition.
func im2colTile(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ tile: ConvTile,
                _ col: UnsafeMutablePointer<Float>, ld: Int) {
    if g.stride == 1 && g.wout == g.w {
        im2colShifted(g, x, tile, col, ld: ld)
        return
    }
    if g.stride > 1 {
        im2colByPhases(g, x, tile, col, ld: ld)
        return
    }
    let (wo, h, w, s) = (g.wout, g.h, g.w, g.stride)
    let oyFirst = tile.p0 / wo, oyLast = (tile.p1 - 1) / wo
    for c in 0..<g.cin {
        for ki in 0..<g.kh {
            for kj in 0..<g.kw {
                let row = col + ((c * g.kh + ki) * g.kw + kj) * ld
                let valid = g.validColumns(kj: kj)
                let x0 = kj - g.pad.left
                for i in 0..<tile.images {
                    let plane = x + ((tile.image + i) * g.cin + c) * h * w
                    for oy in oyFirst...oyLast {
                        // Columns a..<b of output row oy belong to the tile; dst is column a.
                        let rowStart = oy * wo
                        let a = max(tile.p0, rowStart) - rowStart, b = min(tile.p1, rowStart + wo) - rowStart
                        let dst = row + (i * tile.width + rowStart + a - tile.p0)
                        let iy = oy * s - g.pad.top + ki
                        let lo = max(a, valid.lowerBound), hi = min(b, valid.upperBound)
                        if iy < 0 || iy >= h || lo >= hi {
                            dst.update(repeating: 0, count: b - a)
                            continue
                        }
                        if lo > a { dst.update(repeating: 0, count: lo - a) }
                        let src = plane + iy * w + x0
                        copyStrided(dst + (lo - a), src + lo * s, count: hi - lo, stride: s)
                        if hi < b { (dst + (hi - a)).update(repeating: 0, count: b - hi) }
                    }
                }
            }
        }
    }
}

/// dst[i] = src[i·stride] for i in 0..<count: one row segment of a column matrix. Stride 2 (the
/// downsampling convolutions) takes the even lanes of 16 loaded floats, eight outputs at a time;
/// the last eight take the odd lanes of a load that starts one float earlier, so no load reaches
/// past src[(count − 1)·2].
@inline(__always)
func copyStrided(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int, stride: Int) {
    if stride == 1 { dst.update(from: src, count: count); return }
    guard stride == 2, count > 8 else {
        for i in 0..<count { dst[i] = src[i * stride] }
        return
    }
    var i = 0
    while i + 8 < count {
        let v = UnsafeRawPointer(src + 2 * i).loadUnaligned(as: SIMD16<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: v.evenHalf, as: SIMD8<Float>.self)
        i += 8
    }
    let last = count - 8
    let v = UnsafeRawPointer(src + 2 * last - 1).loadUnaligned(as: SIMD16<Float>.self)
    UnsafeMutableRawPointer(dst + last).storeBytes(of: v.oddHalf, as: SIMD8<Float>.self)
}

/// `im2colTile` for stride 1 when the output is as wide as the input ("same" padding across):
/// then row (c, ki, kj) of the column matrix is the image plane read from a fixed offset
/// (ki − top)·W + (kj − left), so each image's part is one contiguous copy, after which the few
/// columns that wrapped around a row edge are zeroed.
func im2colShifted(_ g: ConvGeometry, _ x: UnsafePointer<Float>, _ tile: ConvTile,
                   _ col: UnsafeMutablePointer<Float>, ld: Int) {
    let (ho, w, plane) = (g.hout, g.w, g.h * g.w)
    let (p0, p1) = (tile.p0, tile.p1)
    for c in 0..<g.cin {
        for ki in 0..<g.kh {
            let dy = ki - g.pad.top
            // Output rows whose input row lies inside the image, as a pixel range within the tile.
            let rowsLo = min(max(p0, max(0, -dy) * w), p1), rowsHi = max(min(p1, min(ho, g.h - dy) * w), rowsLo)
            for kj in 0..<g.kw {
                let dx = kj - g.pad.left
                let shift = dy * w + dx
                let valid = g.validColumns(kj: kj)
                // Pixels whose shifted source lies inside the plane (the rest wrap and are zeroed).
                let copyLo = min(max(rowsLo, -shift), rowsHi), copyHi = max(min(rowsHi, plane - shift), copyLo)
                let row = col + ((c * g.kh + ki) * g.kw + kj) * ld
                for i in 0..<tile.images {
                    let src = x + ((tile.image + i) * g.cin + c) * plane
                    let dst = row + i * tile.width             // pixel p0
                    dst.update(repeating: 0, count: copyLo - p0)
                    (dst + (copyLo - p0)).update(from: src + (copyLo + shift), count: copyHi - copyLo)
                    (dst + (copyHi - p0)).update(repeating: 0, count: p1 - copyHi)
                    if valid.lowerBound == 0 && valid.upperBound == w { continue }
                    // Columns left of and right of the valid ones, in every copied row.
                    var rowStart = (rowsLo / w) * w
                    while rowStart < rowsHi {
                        for ox in 0..<valid.lowerBound where rowStart + ox >= p0 && rowStart + ox < p1 {
                            dst[rowStart + ox - p0] = 0
                        }
                        for ox in valid.upperBound..<w where rowStart + ox >= p0 && rowStart + ox < p1 {
                            dst[rowStart + ox - p0] = 0
                        }
                        rowStart += w
                    }
                }
            }
        }
    }
}

/// Adds the columns of `col` [patch, tile.columns] back into the images under `tile` in `dx`
/// [B, C, H, W] (the adjoint of `im2colTile`). The caller owns those images: no other thread may
/// write them meanwhile.
func col2imTile(_ g: ConvGeometry, _ col: UnsafePointer<Float>, ld: Int, _ tile: ConvTile,
                _ dx: UnsafeMutablePointer<Float>) {
    let (wo, h, w, s) = (g.wout, g.h, g.w, g.stride)
    let oyFirst = tile.p0 / wo, oyLast = (tile.p1 - 1) / wo
    for c in 0..<g.cin {
        for ki in 0..<g.kh {
            for kj in 0..<g.kw {
                let row = col + ((c * g.kh + ki) * g.kw + kj) * ld
                let valid = g.validColumns(kj: kj)
                let x0 = kj - g.pad.left
                for i in 0..<tile.images {
                    let plane = dx + ((tile.image + i) * g.cin + c) * h * w
                    for oy in oyFirst...oyLast {
                        let iy = oy * s - g.pad.top + ki
                        if iy < 0 || iy >= h { continue }
                        let rowStart = oy * wo
                        let lo = max(max(tile.p0, rowStart) - rowStart, valid.lowerBound)
                        let hi = min(min(tile.p1, rowStart + wo) - rowStart, valid.upperBound)
                        if lo >= hi { continue }
                        // src is output column lo of row oy; dst is its input pixel.
                        let src = row + (i * tile.width + rowStart + lo - tile.p0)
                        let dst = plane + iy * w + x0 + lo * s
                        if s == 1 {
                            for j in 0..<(hi - lo) { dst[j] += src[j] }
                        } else {
                            for j in 0..<(hi - lo) { dst[j * s] += src[j] }
                        }
                    }
                }
            }
        }
    }
}

/// Moves a tile of whole images between the batch layout [B, C, P] (at image 0) and the tile's
/// channel-major layout [C, tile.images·P].
func gatherTile(_ batch: UnsafeMutablePointer<Float>, _ tileBuffer: UnsafeMutablePointer<Float>,
                channels: Int, pixels: Int, _ tile: ConvTile, toTile: Bool) {
    for c in 0..<channels {
        for i in 0..<tile.images {
            let inBatch = batch + ((tile.image + i) * channels + c) * pixels
            let inTile = tileBuffer + (c * tile.images + i) * pixels
            if toTile {
                inTile.update(from: inBatch, count: pixels)
            } else {
                inBatch.update(from: inTile, count: pixels)
            }
        }
    }
}
