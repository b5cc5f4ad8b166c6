/// Value noise from integer hashing: the texture source of the procedural landscapes.
///
/// A lattice of pseudo-random values, one per integer point, hashed from the point and a seed
/// (no tables, no state), smoothly interpolated in between (smoothstep weights). Summing octaves
/// of doubling frequency and halving amplitude gives fractal Brownian motion (fBm), the classic
/// model of terrain and cloud statistics; folding each octave as 1 − |2n − 1| gives sharp
/// "ridged" crests for mountain ridgelines. Every function here is pure: the same coordinates and
/// seed give the same value on every machine, which is what makes the landscapes reproducible.
enum Noise {
    /// A 32-bit hash of a lattice point and a seed, mixed enough that its top bits look random:
    /// two multiplications with an xor-shift between (value noise needs no more, and it runs
    /// several times per pixel).
    @inline(__always)
    static func hash(_ x: Int32, _ y: Int32, _ seed: UInt32) -> UInt32 {
        var h = seed ^ (UInt32(bitPattern: x) &* 0x27D4_EB2D) ^ (UInt32(bitPattern: y) &* 0x1656_67B1)
        h = h &* 0x2C1B_3C6D
        h ^= h >> 15
        h = h &* 0x297A_2D39
        return h ^ (h >> 16)
    }

    /// The hash as a Float in [0, 1).
    @inline(__always)
    static func unit(_ x: Int32, _ y: Int32, _ seed: UInt32) -> Float {
        Float(hash(x, y, seed) >> 8) * 0x1p-24
    }

    /// Smoothstep weight 3t² − 2t³: zero slope at lattice points, so no visible grid creases.
    @inline(__always)
    static func fade(_ t: Float) -> Float { t * t * (3 - 2 * t) }

    /// The lattice cell of `x` (floor) without a libm call: truncate, then step down for
    /// negatives. Coordinates stay far inside Int32's range (the world is a few thousand units).
    @inline(__always)
    static func floor(_ x: Float) -> (Int32, Float) {
        let i = Int32(x)
        let f = Float(i)
        return x < f ? (i &- 1, f - 1) : (i, f)
    }

    /// 1-D value noise in [0, 1).
    @inline(__always)
    static func value(_ x: Float, seed: UInt32) -> Float {
        let (ix, fx) = floor(x)
        let t = fade(x - fx)
        let a = unit(ix, 0, seed), b = unit(ix &+ 1, 0, seed)
        return a + (b - a) * t
    }

    /// 2-D value noise in [0, 1).
    @inline(__always)
    static func value(_ x: Float, _ y: Float, seed: UInt32) -> Float {
        let (ix, fx) = floor(x), (iy, fy) = floor(y)
        let tx = fade(x - fx), ty = fade(y - fy)
        let a = unit(ix, iy, seed), b = unit(ix &+ 1, iy, seed)
        let c = unit(ix, iy &+ 1, seed), d = unit(ix &+ 1, iy &+ 1, seed)
        let top = a + (b - a) * tx
        let bottom = c + (d - c) * tx
        return top + (bottom - top) * ty
    }

    /// 1-D fBm normalised to [0, 1): `octaves` octaves from frequency 1 at `x`.
    @inline(__always)
    static func fbm(_ x: Float, octaves: Int, seed: UInt32) -> Float {
        var sum: Float = 0, amplitude: Float = 1, total: Float = 0, f: Float = 1
        for o in 0..<octaves {
            sum += amplitude * value(x * f + Float(o) * 17.31, seed: seed &+ UInt32(o))
            total += amplitude
            amplitude *= 0.5
            f *= 2
        }
        return sum / total
    }

    /// 2-D fBm normalised to [0, 1).
    @inline(__always)
    static func fbm(_ x: Float, _ y: Float, octaves: Int, seed: UInt32) -> Float {
        var sum: Float = 0, amplitude: Float = 1, total: Float = 0, f: Float = 1
        for o in 0..<octaves {
            sum += amplitude * value(x * f, y * f, seed: seed &+ UInt32(o) &* 0x9E37)
            total += amplitude
            amplitude *= 0.5
            f *= 2
        }
        return sum / total
    }

    /// Whether the 2-D fBm at (x, y) exceeds `threshold`: the same answer as comparing `fbm`,
    /// but it stops as soon as the octaves still to come cannot change the answer (most pixels
    /// are decided by the first two), which makes cloud masks several times cheaper.
    @inline(__always)
    static func fbm(_ x: Float, _ y: Float, octaves: Int, seed: UInt32, exceeds threshold: Float) -> Bool {
        var total: Float = 0, amplitude: Float = 1
        for _ in 0..<octaves { total += amplitude; amplitude *= 0.5 }
        let target = threshold * total
        var sum: Float = 0, remaining = total, f: Float = 1
        amplitude = 1
        for o in 0..<octaves {
            sum += amplitude * value(x * f, y * f, seed: seed &+ UInt32(o) &* 0x9E37)
            remaining -= amplitude
            // The remaining octaves add between 0 and `remaining`.
            if sum > target { return true }
            if sum + remaining <= target { return false }
            amplitude *= 0.5
            f *= 2
        }
        return sum > target
    }

    /// 1-D ridged fBm in [0, 1): each octave folded to 1 − |2n − 1|, so crests are sharp and
    /// valleys round, as eroded mountain ridgelines are. Finer octaves are weighted by the coarser
    /// value, which keeps detail on the peaks and smooth slopes below.
    @inline(__always)
    static func ridged(_ x: Float, octaves: Int, seed: UInt32) -> Float {
        var sum: Float = 0, amplitude: Float = 1, total: Float = 0, f: Float = 1, weight: Float = 1
        for o in 0..<octaves {
            let n = value(x * f + Float(o) * 5.87, seed: seed &+ UInt32(o))
            let r = 1 - Swift.abs(2 * n - 1)
            let v = r * r * weight
            sum += amplitude * v
            total += amplitude
            weight = Swift.min(1, Swift.max(0.3, v * 1.6))
            amplitude *= 0.5
            f *= 2.1
        }
        return sum / total
    }

    /// How many octaves of a noise whose coarsest period is `period` pixels have a period of at
    /// least three pixels (at least 1, at most `limit`): finer octaves would only alias, and
    /// cost time. This is what makes a small picture look like a downscaled large one.
    static func octaves(periodInPixels period: Float, limit: Int) -> Int {
        var n = 1
        var p = period / 2
        while n < limit && p >= 3 { n += 1; p /= 2 }
        return n
    }

    /// Mixes two 64-bit values into a well-distributed 64-bit seed (splitmix64 finaliser).
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var z = a &+ 0x9E37_79B9_7F4A_7C15 &* (b &+ 1)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
