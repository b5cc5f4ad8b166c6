/// Vectorised exponential and the activations built on it. `Foundation.exp` is a scalar libm call
/// per element; these work on eight lanes at once and are accurate to about 2 ulp, which is far
/// below the noise of training in Float.

/// e^x for eight lanes: x = n·ln2 + r with |r| ≤ ln2/2, e^r by a degree-6 polynomial, and 2^n
/// written straight into the exponent bits. Inputs are clamped to the range where Float is finite.
@inline(__always)
func fastExp(_ x: SIMD8<Float>) -> SIMD8<Float> {
    // Lane selects rather than `clamped(lowerBound:upperBound:)`, whose pointwise min and max are
    // out-of-line generic calls that cost more than the whole polynomial.
    let low = SIMD8<Float>(repeating: -87.3), high = SIMD8<Float>(repeating: 88.7)
    var clamped = x.replacing(with: low, where: x .< low)
    clamped.replace(with: high, where: clamped .> high)
    // Adding 1.5·2²³ rounds x·log2(e) to an integer n held in the low mantissa bits (no generic
    // float-to-int conversion, which Swift does not vectorise).
    let magic = SIMD8<Float>(repeating: 12_582_912)
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    // r = x − n·ln2, with ln2 split in two for accuracy (Cody–Waite).
    let r = clamped - n * 0.693_145_75 - n * 1.428_606_8e-6
    var p = SIMD8<Float>(repeating: 1.0 / 720)
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
    let bits = (integer &+ 127) &<< 23
    return p * unsafeBitCast(bits, to: SIMD8<Float>.self)
}

/// e^x for one value, by the same method as the vector routine, written as straight-line scalar
/// code without branches or calls so that the compiler vectorises loops that call it (libm's
/// `expf` is a call per element). Relative error about 1e-7; inputs clamped to [−87, 88], where
/// the result is a normal Float. Public and inlinable for the fused kernels of other modules.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    let v = min(max(x, -87), 88)
    // Adding 1.5·2²³ rounds v·log₂e to an integer n that sits in the low mantissa bits, so n is
    // read from the bits rather than by a float-to-integer conversion.
    let shifted = v * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = v - n * 0.693_145_75 - n * 1.428_606_8e-6      // ln 2 in two parts (Cody–Waite)
    var p: Float = 1.0 / 720
    p = p * r + 1.0 / 120
    p = p * r + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1
    return p * Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
}

/// erf(z) given e = e^(−z²), by Abramowitz & Stegun 7.1.26:
/// erf(|z|) = 1 − (a₁t + a₂t² + a₃t³ + a₄t⁴ + a₅t⁵)·e^(−z²) with t = 1/(1 + p·|z|), absolute
/// error below 1.5e-7; the sign of z is copied onto the result. Callers often have e^(−z²) at
/// hand already (GELU's derivative needs it too).
@inlinable @inline(__always)
public func fastErf(_ z: Float, expMinusSquare e: Float) -> Float {
    let a = Float(bitPattern: z.bitPattern & 0x7FFF_FFFF)
    let t = 1 / (1 + 0.327_591_1 * a)
    var poly: Float = 1.061_405_429
    poly = poly * t - 1.453_152_027
    poly = poly * t + 1.421_413_741
    poly = poly * t - 0.284_496_736
    poly = poly * t + 0.254_829_592
    let magnitude = 1 - poly * t * e
    return Float(bitPattern: magnitude.bitPattern | (z.bitPattern & 0x8000_0000))
}

/// `fastErf` on eight lanes at once: the same operations, lane by lane.
@inlinable @inline(__always)
public func fastErf(_ z: SIMD8<Float>, expMinusSquare e: SIMD8<Float>) -> SIMD8<Float> {
    let signMask = SIMD8<UInt32>(repeating: 0x8000_0000)
    let zBits = unsafeBitCast(z, to: SIMD8<UInt32>.self)
    let a = unsafeBitCast(zBits & ~signMask, to: SIMD8<Float>.self)
    let t = 1 / (1 + 0.327_591_1 * a)
    var poly = SIMD8<Float>(repeating: 1.061_405_429)
    poly = poly * t - 1.453_152_027
    poly = poly * t + 1.421_413_741
    poly = poly * t - 0.284_496_736
    poly = poly * t + 0.254_829_592
    let magnitude = 1 - poly * t * e
    return unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | (zBits & signMask), to: SIMD8<Float>.self)
}

/// Applies a lane-wise function to `count` floats from `src` into `dst`, eight at a time.
@inline(__always)
func mapSIMD(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ count: Int,
             _ f: (SIMD8<Float>) -> SIMD8<Float>) {
    var i = 0
    while i + 8 <= count {
        let v = UnsafeRawPointer(src + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f(v), as: SIMD8<Float>.self)
        i += 8
    }
    if i < count {
        var v = SIMD8<Float>(repeating: 0)
        for j in 0..<(count - i) { v[j] = src[i + j] }
        let y = f(v)
        for j in 0..<(count - i) { dst[i + j] = y[j] }
    }
}

/// The same with two inputs.
@inline(__always)
func mapSIMD(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>,
             _ count: Int, _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) {
    var i = 0
    while i + 8 <= count {
        let u = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        let v = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: f(u, v), as: SIMD8<Float>.self)
        i += 8
    }
    if i < count {
        var u = SIMD8<Float>(repeating: 0), v = SIMD8<Float>(repeating: 0)
        for j in 0..<(count - i) { u[j] = a[i + j]; v[j] = b[i + j] }
        let y = f(u, v)
        for j in 0..<(count - i) { dst[i + j] = y[j] }
    }
}

@inline(__always)
func sigmoidSIMD(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + fastExp(-x)) }

extension Tensor {
    /// Builds a unary op whose forward and derivative run on eight lanes at once:
    /// `f(x)` and `df(x, y)` with y = f(x).
    @inline(__always)
    func unarySIMD(_ name: String, _ f: @escaping (SIMD8<Float>) -> SIMD8<Float>,
                   _ df: @escaping (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        let src = storage.pointer, n = count
        let out = Tensor.make(shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(n) { r in mapSIMD(src + r.lowerBound, o + r.lowerBound, r.count, f) }
        }
        let x = self, y = out.detached() // not `out` itself, which would make a reference cycle
        return Tensor.record(out, name, [self]) { g, _ in
            let px = x.storage.pointer, py = y.storage.pointer, pg = g.storage.pointer
            return [Tensor.make(x.shape) { d in
                let o = d.baseAddress!
                Parallel.forRanges(n) { r in
                    var i = r.lowerBound
                    while i < r.upperBound {
                        let len = min(8, r.upperBound - i)
                        var xv = SIMD8<Float>(repeating: 0), yv = xv, gv = xv
                        if len == 8 {
                            xv = UnsafeRawPointer(px + i).loadUnaligned(as: SIMD8<Float>.self)
                            yv = UnsafeRawPointer(py + i).loadUnaligned(as: SIMD8<Float>.self)
                            gv = UnsafeRawPointer(pg + i).loadUnaligned(as: SIMD8<Float>.self)
                            UnsafeMutableRawPointer(o + i).storeBytes(of: gv * df(xv, yv), as: SIMD8<Float>.self)
                        } else {
                            for j in 0..<len { xv[j] = px[i + j]; yv[j] = py[i + j]; gv[j] = pg[i + j] }
                            let r = gv * df(xv, yv)
                            for j in 0..<len { o[i + j] = r[j] }
                        }
                        i += 8
                    }
                }
            }]
        }
    }
}

/// y = GELU(x) = x·Φ(x) = ½x(1 + erf(x/√2)) for `count` floats, eight lanes at a time: the
/// vector `fastExp` and `fastErf` in straight-line SIMD code.
/// The scalar formula in a loop does not vectorise (its clamps are calls), and GELU over a
/// transformer's 4C-wide hidden layer is otherwise a sixth of an inference pass. `x` and `y`
/// may be the same buffer.
public func fastGELU(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    mapSIMD(x, y, count) { v in
        let z = v * 0.707_106_78
        return 0.5 * v * (1 + fastErf(z, expMinusSquare: fastExp(-z * z)))
    }
}
