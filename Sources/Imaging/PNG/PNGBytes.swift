/// The few facts about the PNG byte layout that are checked before libpng sees a file: the
/// signature, the header fields, and the chunks that carry colour-space information.
///
/// A PNG file is the 8-byte signature followed by chunks, each `length (4, big-endian) · type (4
/// ASCII letters) · data (length bytes) · CRC-32 (4)`; the first chunk is IHDR (width, height,
/// bit depth, colour type, …), the last is IEND.
enum PNGBytes {
    /// Every PNG file starts with these eight bytes.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Whether `bytes` starts with the PNG signature.
    static func hasSignature(_ bytes: [UInt8]) -> Bool {
        bytes.count >= signature.count && Array(bytes.prefix(signature.count)) == signature
    }

    /// Bit depth and colour type from IHDR, which sits at a fixed place: signature (8), chunk
    /// length (4), "IHDR" (4), width (4), height (4), then bit depth and colour type.
    /// PNG colour types: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGB + alpha.
    static func header(_ bytes: [UInt8]) -> (bitDepth: Int, colorType: Int)? {
        guard bytes.count >= 26, Array(bytes[12..<16]) == Array("IHDR".utf8) else { return nil }
        return (Int(bytes[24]), Int(bytes[25]))
    }

    /// Chunk types that describe how stored values map to colours (gamma, primaries, sRGB intent,
    /// ICC profile). The reader drops them so that tensors hold the stored values.
    static let colorSpaceChunks: Set<[UInt8]> = Set(["gAMA", "cHRM", "sRGB", "iCCP"].map { Array($0.utf8) })

    /// `bytes` without its colour-space chunks. A malformed chunk list is returned unchanged from
    /// that point on, for libpng to diagnose.
    static func removingColorSpaceChunks(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        out.append(contentsOf: bytes.prefix(signature.count))
        var offset = signature.count
        while offset + 12 <= bytes.count {
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let end = offset + 12 + length
            guard end <= bytes.count else { break }
            if !colorSpaceChunks.contains(Array(bytes[offset + 4..<offset + 8])) {
                out.append(contentsOf: bytes[offset..<end])
            }
            offset = end
        }
        out.append(contentsOf: bytes[offset...])
        return out
    }
}
