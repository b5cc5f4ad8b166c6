import Foundation

/// OKLab, a perceptual colour space (Björn Ottosson, 2020): equal steps in L look equally bright
/// whatever the hue, which makes it a good place to pick many colours of even lightness.
/// L is lightness (0 black … 1 white); a and b are green–red and blue–yellow axes. Written here in
/// its polar form, LCh: chroma C = √(a² + b²) and hue angle h.
enum OKLab {
    /// The sRGB colour for lightness `l`, chroma `c` and hue `hue` (in turns, 0…1), or nil when it
    /// lies outside what sRGB can show.
    static func color(lightness l: Double, chroma c: Double, hue: Double) -> RGBColor? {
        let a = c * cos(2 * Double.pi * hue), b = c * sin(2 * Double.pi * hue)
        // OKLab → cone responses (cube roots), then cubed and mixed into linear sRGB.
        let l1 = l + 0.3963377774 * a + 0.2158037573 * b
        let m1 = l - 0.1055613458 * a - 0.0638541728 * b
        let s1 = l - 0.0894841775 * a - 1.2914855480 * b
        let (lc, mc, sc) = (l1 * l1 * l1, m1 * m1 * m1, s1 * s1 * s1)
        let linear = [
            4.0767416621 * lc - 3.3077115913 * mc + 0.2309699292 * sc,
            -1.2684380046 * lc + 2.6097574011 * mc - 0.3413193965 * sc,
            -0.0041960863 * lc - 0.7034186147 * mc + 1.7076147010 * sc,
        ]
        guard linear.allSatisfy({ $0 >= -1e-4 && $0 <= 1 + 1e-4 }) else { return nil }
        let encoded = linear.map { Float(srgbEncode(min(1, max(0, $0)))) }
        return RGBColor(red: encoded[0], green: encoded[1], blue: encoded[2])
    }

    /// Linear light → sRGB-encoded value (the sRGB transfer curve).
    static func srgbEncode(_ x: Double) -> Double {
        x <= 0.0031308 ? 12.92 * x : 1.055 * pow(x, 1 / 2.4) - 0.055
    }
}
