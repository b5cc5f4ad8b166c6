import CPNG
import Foundation
@testable import Imaging

/// A PNG described by its stored samples, encoded with libpng's classic write API, which (unlike
/// the simplified API the library uses) writes every colour type, bit depth, palette + tRNS and
/// Adam7 interlacing. The inputs here are always valid, so libpng's longjmp errors cannot occur.
struct TestPNG: CustomStringConvertible {
    enum Kind: Int32, CustomStringConvertible {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6
        var channels: Int { [Kind.gray: 1, .rgb: 3, .palette: 1, .grayAlpha: 2, .rgba: 4][self]! }
        var description: String { [Kind.gray: "gray", .rgb: "RGB", .palette: "palette", .grayAlpha: "gray+alpha", .rgba: "RGBA"][self]! }
    }

    var kind: Kind
    var bitDepth: Int
    var interlaced = false
    var width = 13, height = 7
    /// width × height × channels stored values, each below 2^bitDepth (palette: indices).
    var samples: [Int] = []
    /// Palette colours (palette files only).
    var palette: [(UInt8, UInt8, UInt8)] = []
    /// tRNS: alpha per palette entry.
    var paletteAlpha: [UInt8] = []
    /// tRNS: the one gray value or RGB triple that is transparent (gray and RGB files).
    var transparent: [Int]? = nil

    var description: String {
        "\(kind) \(bitDepth)-bit\(interlaced ? " interlaced" : "")\(paletteAlpha.isEmpty && transparent == nil ? "" : " + tRNS")"
    }

    var maxValue: Int { (1 << bitDepth) - 1 }

    /// A test image with a deterministic pattern covering the value range; alpha (when present)
    /// is either fully transparent or fully opaque, so the expected pixels are exact.
    static func pattern(_ kind: Kind, bitDepth: Int, interlaced: Bool = false, withTRNS: Bool = false) -> TestPNG {
        var png = TestPNG(kind: kind, bitDepth: bitDepth, interlaced: interlaced)
        let channels = kind.channels
        let maxValue = png.maxValue
        for y in 0..<png.height {
            for x in 0..<png.width {
                for c in 0..<channels {
                    let isAlpha = (kind == .grayAlpha && c == 1) || (kind == .rgba && c == 3)
                    if isAlpha {
                        png.samples.append((x + 2 * y) % 3 == 0 ? 0 : maxValue)
                    } else {
                        let hash = Int(truncatingIfNeeded: UInt64((x * 31 + y * 17 + c * 7 + 3) * 2_654_435_761) >> 7)
                        png.samples.append(kind == .palette ? hash % min(maxValue + 1, 40) : hash % (maxValue + 1))
                    }
                }
            }
        }
        png.samples[0] = 0  // include both ends of the range
        png.samples[channels] = kind == .palette ? 1 : maxValue
        if kind == .palette {
            let entries = min(maxValue + 1, 40)
            png.palette = (0..<entries).map { (i: Int) -> (UInt8, UInt8, UInt8) in
                let r = UInt8(i * 6 % 256), g = UInt8(255 - i * 5), b = UInt8(i * 97 % 256)
                return (r, g, b)
            }
            if withTRNS { png.paletteAlpha = (0..<min(entries, 3)).map { (i: Int) -> UInt8 in i == 1 ? 0 : 255 } }
        } else if withTRNS {
            png.transparent = Array(png.samples[channels..<(channels + channels)])
        }
        return png
    }

    /// The [3, H, W] tensor values `PNGImage.read` should produce: stored values scaled to
    /// [-1, 1], transparent pixels white.
    var expected: [Float] {
        let plane = width * height, channels = kind.channels
        var out = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane {
            let s = Array(samples[i * channels..<(i + 1) * channels])
            var rgb: [Double], alpha = 1.0
            switch kind {
            case .gray: rgb = [Double(s[0]) / Double(maxValue)].repeated3
            case .grayAlpha: rgb = [Double(s[0]) / Double(maxValue)].repeated3; alpha = Double(s[1]) / Double(maxValue)
            case .rgb: rgb = s.map { Double($0) / Double(maxValue) }
            case .rgba: rgb = s.prefix(3).map { Double($0) / Double(maxValue) }; alpha = Double(s[3]) / Double(maxValue)
            case .palette:
                let p = palette[s[0]]
                rgb = [p.0, p.1, p.2].map { Double($0) / 255 }
                if s[0] < paletteAlpha.count { alpha = Double(paletteAlpha[s[0]]) / 255 }
            }
            if let transparent, transparent == s { alpha = 0 }
            for c in 0..<3 { out[c * plane + i] = Float(2 * (rgb[c] * alpha + (1 - alpha)) - 1) }
        }
        return out
    }

    /// The PNG file.
    func encode() -> [UInt8] {
        final class Sink { var bytes: [UInt8] = [] }
        let sink = Sink()
        var png: png_structp? = png_create_write_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil)
        var info: png_infop? = png_create_info_struct(png)
        defer { png_destroy_write_struct(&png, &info) }
        png_set_write_fn(png, Unmanaged.passUnretained(sink).toOpaque(), { png, data, length in
            let sink = Unmanaged<Sink>.fromOpaque(png_get_io_ptr(png)!).takeUnretainedValue()
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        }, { _ in })
        png_set_IHDR(png, info, UInt32(width), UInt32(height), Int32(bitDepth), kind.rawValue,
                     interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        if kind == .palette {
            var colors = palette.map { png_color(red: $0.0, green: $0.1, blue: $0.2) }
            png_set_PLTE(png, info, &colors, Int32(colors.count))
            if !paletteAlpha.isEmpty {
                var alphas = paletteAlpha
                png_set_tRNS(png, info, &alphas, Int32(alphas.count), nil)
            }
        } else if let transparent {
            var color = png_color_16()
            if kind == .gray { color.gray = UInt16(transparent[0]) } else {
                (color.red, color.green, color.blue) = (UInt16(transparent[0]), UInt16(transparent[1]), UInt16(transparent[2]))
            }
            png_set_tRNS(png, info, nil, 0, &color)
        }
        png_write_info(png, info)
        if bitDepth < 8 { png_set_packing(png) }  // we hand over one byte per sample
        let bytesPerSample = bitDepth == 16 ? 2 : 1
        var data: [UInt8] = []
        for v in samples {
            if bytesPerSample == 2 { data += [UInt8(v >> 8), UInt8(v & 0xFF)] } else { data.append(UInt8(v)) }
        }
        let rowBytes = width * kind.channels * bytesPerSample
        data.withUnsafeMutableBufferPointer { buffer in
            var rowPointers: [png_bytep?] = (0..<height).map { buffer.baseAddress! + $0 * rowBytes }
            png_write_image(png, &rowPointers)
        }
        png_write_end(png, nil)
        return sink.bytes
    }
}

extension Array where Element == Double {
    var repeated3: [Double] { [self[0], self[0], self[0]] }
}

/// PNG file surgery for error tests: chunk lists, CRC-32, patched headers.
enum PNGSurgery {
    /// CRC-32 as PNG uses it (polynomial 0xEDB88320), over chunk type and data.
    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// (type, offset of the chunk's length field, data length) for each chunk.
    static func chunks(_ bytes: [UInt8]) -> [(type: String, offset: Int, length: Int)] {
        var out: [(String, Int, Int)] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            out.append((String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self), offset, length))
            offset += 12 + length
        }
        return out
    }

    /// Recomputes the CRC of the chunk whose length field is at `offset`.
    static func fixCRC(_ bytes: inout [UInt8], chunkAt offset: Int) {
        let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        let crc = crc32(bytes[offset + 4..<offset + 8 + length])
        for k in 0..<4 { bytes[offset + 8 + length + k] = UInt8((crc >> (24 - 8 * UInt32(k))) & 0xFF) }
    }

    /// The file with IHDR declaring `width` × `height` (and a valid CRC).
    static func withDeclaredSize(_ bytes: [UInt8], width: UInt32, height: UInt32) -> [UInt8] {
        var out = bytes
        for k in 0..<4 {
            out[16 + k] = UInt8((width >> (24 - 8 * UInt32(k))) & 0xFF)
            out[20 + k] = UInt8((height >> (24 - 8 * UInt32(k))) & 0xFF)
        }
        fixCRC(&out, chunkAt: 8)
        return out
    }
}

/// A fresh folder under the system temporary folder, removed by `cleanUp()`.
struct TemporaryFolder {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("imaging-tests-\(UUID().uuidString)")

    init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let p = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}
