import Foundation

/// A colour as sRGB-encoded red, green and blue in 0…1 (what an 8-bit PNG stores, divided by 255).
public struct RGBColor: Hashable, Sendable {
    public var red: Float
    public var green: Float
    public var blue: Float

    public init(red: Float, green: Float, blue: Float) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A colour from its web notation as a number, e.g. `RGBColor(hex: 0x3B6FB6)`.
    public init(hex: UInt32) {
        red = Float((hex >> 16) & 0xFF) / 255
        green = Float((hex >> 8) & 0xFF) / 255
        blue = Float(hex & 0xFF) / 255
    }

    /// A gray of the given brightness.
    public init(gray: Float) { self.init(red: gray, green: gray, blue: gray) }

    public static let white = RGBColor(gray: 1)
    public static let black = RGBColor(gray: 0)

    /// The colour in web notation, `#rrggbb`, as SVG wants it.
    public var hex: String {
        let digits = Array("0123456789abcdef")
        var text = "#"
        for byte in [redByte, greenByte, blueByte] {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return text
    }

    var redByte: UInt8 { Self.byte(red) }
    var greenByte: UInt8 { Self.byte(green) }
    var blueByte: UInt8 { Self.byte(blue) }

    /// The channels as tensor values in [-1, 1] (2c − 1), the convention of `PNGImage`.
    public var tensorValues: [Float] { [red, green, blue].map { 2 * $0 - 1 } }

    /// The colour `t` of the way towards `other` (interpolated in sRGB values).
    public func mixed(with other: RGBColor, amount t: Float) -> RGBColor {
        RGBColor(red: red * (1 - t) + other.red * t, green: green * (1 - t) + other.green * t,
                 blue: blue * (1 - t) + other.blue * t)
    }

    private static func byte(_ x: Float) -> UInt8 {
        guard x > 0 else { return 0 }
        guard x < 1 else { return 255 }
        return UInt8((x * 255).rounded())
    }

    /// The colour rounded to what an 8-bit file can hold, so that the same colour comes out of
    /// every platform's maths library.
    var quantized: RGBColor {
        RGBColor(red: Float(redByte) / 255, green: Float(greenByte) / 255, blue: Float(blueByte) / 255)
    }
}
