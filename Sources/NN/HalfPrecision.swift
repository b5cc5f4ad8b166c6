/// Conversions from the 16-bit float formats safetensors files may hold to Float.

/// IEEE 754 binary16 (F16: 1 sign, 5 exponent, 10 mantissa bits) to Float, exactly: every half
/// value, subnormals, infinities and NaNs included, is representable as a Float.
@inline(__always)
func floatFromHalf(_ h: UInt16) -> Float {
    let sign = UInt32(h & 0x8000) << 16
    let exponent = UInt32(h >> 10) & 0x1F
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa · 2⁻²⁴.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 0x1F {  // infinity or NaN
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    // Normal: rebias the exponent from 15 to 127.
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}

/// bfloat16 (BF16: the top 16 bits of a Float) to Float, exactly.
@inline(__always)
func floatFromBFloat16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
