import Foundation
import Testing

@Suite("Chapter 06", .serialized) struct Chapter06Tests {
    @Test func quickRunWritesItsFiguresAndSummary() throws {
        let folders = ChapterFolders("06"), out = folders.out, cache = folders.cache
        defer { folders.remove() }
        let run = try #require(try ChapterRunner.run("06-megapixel", folders.quickArguments),
                               "06-megapixel is not built: run swift build first")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for heading in ["## 1. Why a window can suffice", "## 4. A map as tokens", "## 5. A transformer for one window",
                        "## 7. A panorama from a map", "## 8. The faithful sampler and a cache-aware one",
                        "## 9. Decoding without seams", "## 10. Without a map", "## 11. What it costs"] {
            #expect(run.stdout.contains(heading), "missing \(heading)")
        }
        let metrics = try folders.metrics()
        for key in ["seconds_per_token_cached", "seconds_per_token_faithful", "sampling_seconds_cached", "speedup",
                    "same_codes_fraction", "held_out_bits_per_code", "first_stage_psnr", "bits_per_code_stride_1"] {
            let value = try #require(metrics[key] as? Double, "summary.json lacks \(key)")
            #expect(value >= 0 && value.isFinite)
        }
        #expect(metrics["size"] as? String == "96x64" && metrics["tokens"] as? Int == 24 * 16)
        for figure in ["stationarity.png", "class-by-column.svg", "crops.png", "first-stage.png", "diagrams/sliding-window.png",
                       "frames.png", "panorama.png", "samplers.png", "strides.svg", "seams.png", "unconditional.png",
                       "cost.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(figure).path), "missing \(figure)")
        }
        // A map of one's own, at the panorama's size.
        var labels = [UInt8](repeating: 0, count: 64 * 32)
        for i in (16 * 64)..<(64 * 32) { labels[i] = 4 }         // grass below the middle
        let map = out.appendingPathComponent("my-map.png")
        try grayPNG(labels, width: 64, height: 32).write(to: map)
        let again = try #require(try ChapterRunner.run("06-megapixel", ["--quick", "--size", "64x32", "--segmentation", map.path,
                                                                       "--out", out.path, "--cache", cache.path]))
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("64 × 32 pixels, 128 codes"))
        #expect(again.stdout.contains("loaded 06-gpt-window-map"), "the window transformer was not loaded from the cache")
    }

    @Test func impossibleOptionsAreOneClearError() throws {
        let folder = ChapterRunner.temporaryFolder("06-bad")
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [([String], String)] = [
            (["--size", "30x30"], "--size"),
            (["--size", "wide"], "--size"),
            (["--stride", "9"], "--stride"),
            (["--segmentation", folder.appendingPathComponent("missing.png").path], "missing.png"),
        ]
        for (arguments, phrase) in cases {
            let run = try #require(try ChapterRunner.run("06-megapixel", ["--quick", "--out", folder.path, "--cache", folder.path]
                                                           + arguments))
            #expect(run.status != 0)
            let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") || $0.hasPrefix("Error:") }
            #expect(errors.count == 1 && errors[0].contains(phrase), "stderr: \(run.stderr)")
            #expect(!run.stdout.contains("## 3."), "options are checked before any training")
        }
    }
}
