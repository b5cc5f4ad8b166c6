import Foundation
import Tensors

/// PNG files in and out of tensors, through libpng in this process.
///
/// Pixels live in tensors as Float in [-1, 1], channels first: an 8-bit value v becomes
/// v / 127.5 − 1, a 16-bit value v becomes v / 32767.5 − 1, so black is −1 and white is +1.
/// These are the stored values; colour-space chunks (gAMA, cHRM, sRGB, iCCP) are ignored, as PIL
/// and torchvision do, so a file reads the same whatever its colour-profile metadata says.
public enum PNGImage {
    /// The most pixels a file may declare: 2^26 (8192 × 8192). Larger files are refused before
    /// anything is allocated, since their RGB tensor alone would take more than 800 MB.
    public static let defaultPixelLimit = 1 << 26

    /// The largest file read into memory at all (compressed bytes): 1 GiB.
    static let maxFileBytes = 1 << 30

    /// Reads a PNG file as an RGB tensor [3, H, W] in [-1, 1].
    ///
    /// Accepts every PNG: gray, gray + alpha, palette (with or without tRNS transparency), RGB and
    /// RGBA; 1, 2, 4, 8 and 16 bits per sample; interlaced or not. Gray is repeated into three
    /// channels; 1–4-bit values are scaled to the full range (a 1-bit 1 is white); 16-bit files
    /// keep their 16-bit precision.
    ///
    /// Alpha: transparent and translucent pixels are composited over white, so a PNG with a
    /// transparent background reads as it looks on a white page; the alpha channel is then
    /// dropped (the models see RGB only).
    ///
    /// - Throws: `ImagingError` naming the file when it is missing, empty, not a PNG, damaged or
    ///   truncated, or declares more than `maxPixels` pixels.
    public static func read(path: String, maxPixels: Int = defaultPixelLimit) throws -> Tensor {
        try decode(readFile(path), name: path, maxPixels: maxPixels)
    }

    /// Decodes PNG bytes as `read(path:)` does; `name` stands for the file in error messages.
    public static func decode(_ bytes: [UInt8], name: String = "PNG data",
                              maxPixels: Int = defaultPixelLimit) throws -> Tensor {
        try checkSignature(bytes, name: name)
        let pixels = try LibPNG.decode(PNGBytes.removingColorSpaceChunks(bytes), path: name,
                                       maxPixels: maxPixels) { header in
            header.format & LibPNG.linearFlag != 0 ? .rgba16 : .rgb8
        }
        let (h, w) = (pixels.height, pixels.width)
        let plane = h * w
        return Tensor.make([3, h, w]) { out in  // [3, H, W]
            if pixels.words.isEmpty {
                // 8-bit: a table of the 256 possible values.
                let table = (0..<256).map { Float($0) / 127.5 - 1 }
                pixels.bytes.withUnsafeBufferPointer { src in
                    for i in 0..<plane {
                        for c in 0..<3 { out[c * plane + i] = table[Int(src[3 * i + c])] }
                    }
                }
            } else {
                // 16-bit, premultiplied: colour + (1 − alpha) · white, in stored units.
                pixels.words.withUnsafeBufferPointer { src in
                    for i in 0..<plane {
                        let clear = 65535 - Int(src[4 * i + 3])
                        for c in 0..<3 {
                            let v = min(65535, Int(src[4 * i + c]) + clear)
                            out[c * plane + i] = Float(v) / 32767.5 - 1
                        }
                    }
                }
            }
        }
    }

    /// Writes a [3, H, W] (RGB) or [1, H, W] (gray) tensor in [-1, 1] as an 8-bit PNG.
    ///
    /// Values are clamped to [-1, 1] and rounded to the nearest of 256 levels (NaN becomes
    /// black). The file is written atomically (a temporary file in the same folder, then a
    /// rename) and its folder is created. Equal tensors give byte-identical files.
    public static func write(_ image: Tensor, to path: String) throws {
        try AtomicWrite.write(encode(image, name: path), to: path)
    }

    /// The PNG file `write(_:to:)` would write, as bytes; `name` stands for it in errors.
    public static func encode(_ image: Tensor, name: String = "PNG data") throws -> [UInt8] {
        guard image.rank == 3, image.shape[0] == 1 || image.shape[0] == 3 else {
            throw ImagingError.invalidImage(
                path: name, reason: "an image tensor must be [3, H, W] or [1, H, W], not \(image.shape)")
        }
        let (channels, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        guard h > 0, w > 0 else {
            throw ImagingError.invalidImage(path: name, reason: "the image \(image.shape) has no pixels")
        }
        let plane = h * w
        var bytes = [UInt8](repeating: 0, count: plane * channels)
        image.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBufferPointer { dst in
                for c in 0..<channels {
                    for i in 0..<plane { dst[i * channels + c] = quantize(src[c * plane + i]) }
                }
            }
        }
        return try LibPNG.encode(width: w, height: h, channels: channels, pixels: bytes, path: name)
    }

    /// [-1, 1] → 0…255, clamped and rounded; NaN → 0.
    @inline(__always)
    static func quantize(_ x: Float) -> UInt8 {
        guard x > -1 else { return 0 }
        guard x < 1 else { return 255 }
        return UInt8(((x + 1) * 127.5).rounded())
    }

    // MARK: Files

    /// The whole file, or an error that says why not.
    static func readFile(_ path: String) throws -> [UInt8] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ImagingError.unreadable(path: path, reason: "no such file")
        }
        guard !isFolder.boolValue else {
            throw ImagingError.unreadable(path: path, reason: "it is a folder, not a file")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= maxFileBytes else {
            throw ImagingError.unsupported(path: path, reason: "the file has \(size) bytes, more than the 1 GiB limit")
        }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ImagingError.unreadable(path: path, reason: error.localizedDescription)
        }
    }

    /// Empty files and files of another kind get their own messages before libpng is asked.
    static func checkSignature(_ bytes: [UInt8], name: String) throws {
        guard !bytes.isEmpty else { throw ImagingError.empty(path: name) }
        guard PNGBytes.hasSignature(bytes) else { throw ImagingError.notPNG(path: name) }
    }
}
