import CPNG

/// A thin layer over libpng's simplified API (`png_image_*`), the part of libpng that reports
/// errors as return values. The classic API reports them by `longjmp`, which Swift cannot catch.
enum LibPNG {
    /// png.h's `PNG_FORMAT_FLAG_*` bits; the composite format macros do not import into Swift.
    static let alphaFlag: UInt32 = 0x01, colorFlag: UInt32 = 0x02
    static let linearFlag: UInt32 = 0x04, colormapFlag: UInt32 = 0x08

    /// The pixels libpng is asked for.
    enum Output {
        /// 8-bit R, G, B per pixel; transparency composited over white by libpng.
        case rgb8
        /// 16-bit R, G, B, A per pixel with colours premultiplied by alpha, no gamma change.
        case rgba16
        /// One byte per pixel: the stored palette index or gray value, unscaled.
        case indices
    }

    /// Decoded pixels, interleaved, top row first.
    struct Pixels {
        var width = 0, height = 0
        var bytes: [UInt8] = []
        var words: [UInt16] = []
    }

    /// What the header says, for choosing the output.
    struct Header {
        var width: Int, height: Int
        /// `PNG_FORMAT_FLAG_*` bits describing the file: alpha, colour, 16-bit (linear), palette.
        var format: UInt32
    }

    /// Decodes a whole PNG held in `data`. `choose` sees the header and picks the output; the
    /// size is checked against `maxPixels` before any pixel buffer is allocated.
    static func decode(_ data: [UInt8], path: String, maxPixels: Int,
                       choose: (Header) throws -> Output) throws -> Pixels {
        try data.withUnsafeBytes { raw -> Pixels in
            var image = png_image()
            image.version = UInt32(PNG_IMAGE_VERSION)
            defer { png_image_free(&image) }
            guard png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count) != 0 else {
                throw ImagingError.corrupt(path: path, reason: message(of: image))
            }
            let (width, height) = (Int(image.width), Int(image.height))
            // Both are below 2^31 (PNG's own limit), so the product cannot overflow.
            guard width * height <= maxPixels else {
                throw ImagingError.tooLarge(path: path, width: width, height: height, limit: maxPixels)
            }
            let output = try choose(Header(width: width, height: height, format: image.format))
            var pixels = Pixels(width: width, height: height)
            var ok: Int32 = 0
            switch output {
            case .rgb8:
                image.format = colorFlag
                var white = png_color(red: 255, green: 255, blue: 255)
                pixels.bytes = [UInt8](repeating: 0, count: width * height * 3)
                ok = pixels.bytes.withUnsafeMutableBytes {
                    png_image_finish_read(&image, &white, $0.baseAddress, Int32(width * 3), nil)
                }
            case .rgba16:
                image.format = linearFlag | colorFlag | alphaFlag
                pixels.words = [UInt16](repeating: 0, count: width * height * 4)
                ok = pixels.words.withUnsafeMutableBytes {
                    png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * 4), nil)
                }
            case .indices:
                // Asking for a colour-mapped RGBA image makes libpng hand over the stored palette
                // indices (or 1–8-bit gray values) as they are, unscaled and without gamma changes.
                image.format = colormapFlag | colorFlag | alphaFlag
                image.colormap_entries = 256
                var colormap = [UInt8](repeating: 0, count: 256 * 4)
                pixels.bytes = [UInt8](repeating: 0, count: width * height)
                ok = pixels.bytes.withUnsafeMutableBytes { buffer in
                    colormap.withUnsafeMutableBytes { map in
                        png_image_finish_read(&image, nil, buffer.baseAddress, Int32(width), map.baseAddress)
                    }
                }
            }
            guard ok != 0 else { throw ImagingError.corrupt(path: path, reason: message(of: image)) }
            return pixels
        }
    }

    /// Encodes interleaved 8-bit pixels: gray (1 channel), RGB (3), or palette indices when a
    /// colour map of RGB triples is given. No time stamp or other varying chunk is written, so
    /// equal pixels give equal bytes.
    static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8],
                       colormap: [UInt8]? = nil, path: String) throws -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(width)
        image.height = UInt32(height)
        if let colormap {
            image.format = colormapFlag | colorFlag
            image.colormap_entries = UInt32(colormap.count / 3)
        } else {
            image.format = channels == 3 ? colorFlag : 0
        }
        // An upper bound on the file size (zlib's worst case plus chunk overhead), so one pass
        // normally suffices; libpng reports the size it needs if this is ever too small.
        let raw = height * (width * channels + 1)
        var capacity = raw + raw / 8 + raw / 64 + 12 * (raw / 8192 + 1) + 2048
        for _ in 0..<2 {
            var out = [UInt8](repeating: 0, count: capacity)
            var size = capacity
            let ok = out.withUnsafeMutableBytes { dst in
                pixels.withUnsafeBytes { src in
                    withOptionalBytes(colormap) { map in
                        png_image_write_to_memory(&image, dst.baseAddress, &size, 0, src.baseAddress,
                                                  Int32(width * channels), map)
                    }
                }
            }
            if ok != 0 { return Array(out.prefix(size)) }
            guard size > capacity else { break }
            capacity = size
            image.warning_or_error = 0
        }
        let reason = message(of: image)
        png_image_free(&image)
        throw ImagingError.unwritable(path: path, reason: "libpng could not encode the image: \(reason)")
    }

    private static func withOptionalBytes<R>(_ array: [UInt8]?, _ body: (UnsafeRawPointer?) -> R) -> R {
        guard let array else { return body(nil) }
        return array.withUnsafeBytes { body($0.baseAddress) }
    }

    /// libpng's error text, stored in the image struct.
    static func message(of image: png_image) -> String {
        var copy = image.message
        let text = withUnsafeBytes(of: &copy) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "libpng reported an error" : text
    }
}
