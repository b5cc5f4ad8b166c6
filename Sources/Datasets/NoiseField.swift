/// A fractal noise field in world space, evaluated a row of pixels at a time.
///
/// Along a row the lattice row (iy) of each octave is fixed, so each lattice column's value is
/// interpolated vertically once and reused by every pixel between two lattice columns: a pixel
/// costs one interpolation per octave instead of four hashes. The values are those of
/// `Noise.fbm(u · frequencyU, v · frequencyV)` (interpolated in the other order, so equal up to
/// rounding); the painters use only this form, so a picture never mixes the two.
struct NoiseField {
    let frequencyU: Float
    let frequencyV: Float
    let octaves: Int
    let seed: UInt32

    /// A field whose coarsest features repeat every 1/frequency world units, with as many octaves
    /// as `frame` can show (at most `limit`). A `fine` field is a detail layer: it is left flat
    /// (0.5 everywhere) when even its coarsest octave is under three pixels, instead of aliasing.
    init(frequencyU: Float, frequencyV: Float, frame: LandscapeFrame, limit: Int, seed: UInt32,
         fine: Bool = false) {
        self.frequencyU = frequencyU
        self.frequencyV = frequencyV
        self.seed = seed
        let period = frame.pixelsPerUnit / Swift.max(frequencyU, frequencyV)
        octaves = fine && period < 3 ? 0 : Noise.octaves(periodInPixels: period, limit: limit)
    }

    /// Writes the field's values in [0, 1) at row v for the columns `range` into `row[x]`.
    func fill(_ row: UnsafeMutablePointer<Float>, range: Range<Int>, v: Float, frame: LandscapeFrame) {
        guard !range.isEmpty else { return }
        guard octaves > 0 else {
            for x in range { row[x] = 0.5 }
            return
        }
        for x in range { row[x] = 0 }
        var amplitude: Float = 1, total: Float = 0, f: Float = 1
        let step = frequencyU / frame.pixelsPerUnit // lattice units per pixel at frequency 1
        for o in 0..<octaves {
            let s = seed &+ UInt32(o) &* 0x9E37
            let yy = v * frequencyV * f
            let (iy, fy) = Noise.floor(yy)
            let ty = Noise.fade(yy - fy)
            @inline(__always) func column(_ ix: Int32) -> Float {
                let a = Noise.unit(ix, iy, s), c = Noise.unit(ix, iy &+ 1, s)
                return a + (c - a) * ty
            }
            var cached = Int32.min, left: Float = 0, right: Float = 0
            for x in range {
                let xx = (Float(x) + 0.5) * step * f
                let (ix, fx) = Noise.floor(xx)
                if ix != cached {
                    left = ix == cached &+ 1 ? right : column(ix)
                    right = column(ix &+ 1)
                    cached = ix
                }
                let tx = Noise.fade(xx - fx)
                row[x] += amplitude * (left + (right - left) * tx)
            }
            total += amplitude
            amplitude *= 0.5
            f *= 2
        }
        let scale = 1 / total
        for x in range { row[x] *= scale }
    }
}
