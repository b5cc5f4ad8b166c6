extension PNGImage {
    /// Reads a label map: a gray or palette PNG of 1–8 bits whose stored values are the labels.
    ///
    /// Values are taken as they are stored: a palette file gives its palette indices, a gray file
    /// its gray levels (a 4-bit gray 3 is label 3, not 51); no colour conversion is applied.
    ///
    /// - Throws: `ImagingError` naming the file when it cannot be read, is not a PNG, is damaged,
    ///   is too large, or stores colours (RGB, gray + alpha, 16-bit) rather than labels.
    public static func readLabels(path: String, maxPixels: Int = defaultPixelLimit) throws -> LabelMap {
        try decodeLabels(readFile(path), name: path, maxPixels: maxPixels)
    }

    /// Decodes a label map from PNG bytes, as `readLabels(path:)` does.
    public static func decodeLabels(_ bytes: [UInt8], name: String = "PNG data",
                                    maxPixels: Int = defaultPixelLimit) throws -> LabelMap {
        try checkSignature(bytes, name: name)
        if let header = PNGBytes.header(bytes) {
            let kinds = [0: "gray", 2: "RGB", 3: "palette", 4: "gray + alpha", 6: "RGBA"]
            let kind = kinds[header.colorType] ?? "colour type \(header.colorType)"
            guard header.colorType == 0 || header.colorType == 3 else {
                throw ImagingError.unsupported(
                    path: name, reason: "a label map must be a gray or palette PNG, this one is \(kind)")
            }
            guard header.bitDepth <= 8 else {
                throw ImagingError.unsupported(
                    path: name, reason: "a label map must have at most 8 bits per pixel, this \(kind) PNG has \(header.bitDepth)")
            }
        }
        // A header that cannot be parsed is left to libpng to diagnose.
        let pixels = try LibPNG.decode(bytes, path: name, maxPixels: maxPixels) { _ in .indices }
        return LabelMap(width: pixels.width, height: pixels.height, labels: pixels.bytes)
    }

    /// Writes a label map as a palette PNG: each pixel stores its label as the palette index, and
    /// the palette gives label i the colour `Palette.categorical.color(i)`, so the file opens as
    /// a readable picture and reads back exactly. Atomic, creates the folder, deterministic.
    public static func writeLabels(_ map: LabelMap, to path: String) throws {
        try AtomicWrite.write(encodeLabels(map, name: path), to: path)
    }

    /// The bytes `writeLabels(_:to:)` would write.
    public static func encodeLabels(_ map: LabelMap, name: String = "PNG data") throws -> [UInt8] {
        guard map.width > 0, map.height > 0 else {
            throw ImagingError.invalidImage(path: name, reason: "the label map \(map.width)×\(map.height) has no pixels")
        }
        let entries = Int(map.labels.max() ?? 0) + 1
        var colormap: [UInt8] = []
        colormap.reserveCapacity(entries * 3)
        for label in 0..<entries {
            let color = Palette.categorical.color(label)
            colormap += [color.redByte, color.greenByte, color.blueByte]
        }
        return try LibPNG.encode(width: map.width, height: map.height, channels: 1, pixels: map.labels,
                                 colormap: colormap, path: name)
    }
}
