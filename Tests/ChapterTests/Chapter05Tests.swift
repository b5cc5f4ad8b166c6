import Foundation
import Testing

@Suite("Chapter 05", .serialized) struct Chapter05Tests {
    @Test func quickRunWritesItsFiguresAndSummary() throws {
        let folders = ChapterFolders("05"), out = folders.out
        defer { folders.remove() }
        let run = try #require(try ChapterRunner.run("05-conditioning", folders.quickArguments),
                               "05-conditioning is not built: run swift build first")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for heading in ["## 1. Classes and maps in the data", "## 4. The cond stage: a VQ model of maps",
                        "## 5. One vocabulary for two kinds of token", "## 6. The judges", "## 7. Three transformers",
                        "## 9. Class-conditional samples", "## 10. Segmentation-conditional samples",
                        "## 11. A map of your own", "## 12. How well is the conditioning obeyed?"] {
            #expect(run.stdout.contains(heading), "missing \(heading)")
        }
        #expect(run.stdout.contains("a map: 64 prefix tokens in 512…"))
        let metrics = try folders.metrics()
        for key in ["class_accuracy_conditional", "class_accuracy_unconditional", "pixel_accuracy_conditional",
                    "pixel_accuracy_unconditional", "miou_conditional", "miou_unconditional", "cond_stage_pixel_accuracy",
                    "cond_stage_miou", "judge_class_accuracy_real", "judge_pixel_accuracy_real", "judge_miou_real",
                    "held_out_bits_per_code_map"] {
            let value = try #require(metrics[key] as? Double, "summary.json lacks \(key)")
            #expect(value >= 0 && value.isFinite)
        }
        for figure in ["data.png", "cond-stage.png", "diagrams/conditioning.svg", "diagrams/conditioning.png",
                       "class-samples.png", "map-samples.png", "drawn-map.png", "drawn-map-labels.png", "obedience.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(figure).path), "missing \(figure)")
        }
        // The drawn map is a valid --segmentation file, and a second run loads every model from the cache.
        let labels = out.appendingPathComponent("drawn-map-labels.png").path
        let again = try #require(try ChapterRunner.run("05-conditioning", folders.quickArguments + ["--segmentation", labels]))
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("Painting \(labels)."))
        for name in ["05-cond-stage", "05-scene-classifier", "05-pixel-segmenter", "05-gpt-unconditional", "05-gpt-class",
                     "05-gpt-map"] {
            #expect(again.stdout.contains("loaded \(name)"), "\(name) was not loaded from the cache")
        }
    }

    @Test func badSegmentationMapsAreOneClearError() throws {
        let folder = ChapterRunner.temporaryFolder("05-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        // A 32×32 gray map whose pixel (x 5, y 2) holds 42, which is no class.
        var labels = [UInt8](repeating: 0, count: 32 * 32)
        labels[2 * 32 + 5] = 42
        let outOfRange = folder.appendingPathComponent("out-of-range.png")
        try grayPNG(labels, width: 32, height: 32).write(to: outOfRange)
        let wrongSize = folder.appendingPathComponent("wrong-size.png")
        try grayPNG([UInt8](repeating: 4, count: 20 * 10), width: 20, height: 10).write(to: wrongSize)
        let cases: [(String, [String])] = [
            (folder.appendingPathComponent("missing.png").path, ["does not exist"]),
            (outOfRange.path, ["label 42", "x 5, y 2"]),
            (wrongSize.path, ["20×10", "32×32"]),
        ]
        for (path, phrases) in cases {
            let run = try #require(try ChapterRunner.run("05-conditioning", ["--quick", "--segmentation", path,
                                                                             "--out", folder.path, "--cache", folder.path]))
            #expect(run.status != 0)
            let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
            #expect(errors.count == 1 && errors[0].contains(path), "stderr: \(run.stderr)")
            for phrase in phrases { #expect(errors.first?.contains(phrase) == true, "stderr: \(run.stderr)") }
            #expect(!run.stdout.contains("## 2."), "the map must be checked before any training")
        }
    }
}

/// An 8-bit grayscale PNG of `pixels`, written by hand (stored deflate blocks, no compression),
/// so that this target needs no image library.
func grayPNG(_ pixels: [UInt8], width: Int, height: Int) -> Data {
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }
    func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 255), UInt8((v >> 8) & 255), UInt8(v & 255)] }
    func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
        let typed = Array(type.utf8) + body
        return be(UInt32(body.count)) + typed + be(crc32(typed))
    }
    var raw: [UInt8] = []
    for y in 0..<height { raw += [0] + pixels[(y * width)..<((y + 1) * width)] }
    var zlib: [UInt8] = [0x78, 0x01]
    var start = 0
    repeat {
        let end = min(raw.count, start + 65535)
        let n = UInt16(end - start)
        zlib += [end == raw.count ? 1 : 0, UInt8(n & 255), UInt8(n >> 8), UInt8(~n & 255), UInt8(~n >> 8)]
        zlib += raw[start..<end]
        start = end
    } while start < raw.count
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in raw { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
    zlib += be(b << 16 | a)
    let header = be(UInt32(width)) + be(UInt32(height)) + [8, 0, 0, 0, 0]
    return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", zlib)
                + chunk("IEND", []))
}
