import Foundation
import Testing

@Suite("Chapter 04", .serialized) struct Chapter04Tests {
    /// On a fresh cache the chapter trains a stand-in first stage (saying so), then runs every
    /// cell; a second run loads every model from the cache.
    @Test func quickRunWritesItsFiguresAndSummary() throws {
        let folders = ChapterFolders("04"), out = folders.out
        defer { folders.remove() }
        let run = try #require(try ChapterRunner.run("04-transformer", folders.quickArguments),
                               "04-transformer is not built: run swift build first")
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for heading in ["## 1. The frozen first stage", "## 2. Pictures as sequences of codes",
                        "## 3. Training the transformer", "## 4. Bits per picture", "## 5. Samples: top-k and temperature",
                        "## 6. Completions", "## 7. Pixels against codes"] {
            #expect(run.stdout.contains(heading), "missing \(heading)")
        }
        #expect(run.stdout.contains("training a stand-in first stage"))
        let metrics = try folders.metrics()
        for key in ["validation_bits_per_image", "validation_bits_per_pixel", "validation_bits_per_code",
                    "sample_seconds_per_image", "sample_seconds_per_token", "decode_seconds_per_image",
                    "uniform_bits_per_code", "reconstruction_psnr", "parameters"] {
            #expect(metrics[key] is Double || metrics[key] is Int, "summary.json lacks \(key)")
        }
        // 8×8 codes of 512 in the quick run: fewer bits than the uniform guess, spread over 32×32 pixels.
        let bitsPerImage = try #require(metrics["validation_bits_per_image"] as? Double)
        let bitsPerPixel = try #require(metrics["validation_bits_per_pixel"] as? Double)
        #expect(bitsPerImage > 0 && bitsPerImage < 64 * 9)
        #expect(abs(bitsPerPixel - bitsPerImage / 1024) < 1e-9)
        #expect(metrics["cached_and_recomputed_codes_agree"] as? Double == 1)
        let table = try #require(metrics["comparison"] as? [[String: Any]])
        #expect(table.count == 5)
        #expect(table.map { $0["pictures"] as? String }.prefix(2) == ["pixel GPT", "code GPT"])
        #expect(table[0]["tokens"] as? Int == table[1]["tokens"] as? Int)
        #expect((table[1]["pixels"] as? Int ?? 0) == 16 * (table[0]["pixels"] as? Int ?? 0))
        for row in table { #expect(row["frechet"] is Double, "a comparison row lacks its Fréchet distance") }
        for figure in ["diagrams/pipeline.png", "diagrams/pipeline.svg", "diagrams/pipeline.dot", "tokens.png", "sequence.png",
                       "orders.png", "loss.svg", "bits.svg", "samples.png", "completions.png", "comparison.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(figure).path), "missing \(figure)")
        }
        let again = try #require(try ChapterRunner.run("04-transformer", folders.quickArguments))
        #expect(again.status == 0)
        for name in ["04-stand-in-f4", "04-gpt-", "04-pixel-gpt-", "03-feature-network"] {
            #expect(again.stdout.contains("loaded \(name)"), "\(name) was not loaded from the cache")
        }
    }

    /// With chapter 03's VQGAN (and its judge) in the cache, the chapter uses them.
    @Test func usesChapter03sVQGANFromTheCache() throws {
        let folders = ChapterFolders("04-with-03"), out = folders.out, cache = folders.cache
        defer { folders.remove() }
        let three = try #require(try ChapterRunner.run("03-vqgan", ["--quick", "--out", out.appendingPathComponent("03").path,
                                                                    "--cache", cache.path]), "03-vqgan is not built")
        try #require(three.status == 0, "chapter 03 failed: \(three.stderr)")
        let run = try #require(try ChapterRunner.run("04-transformer", folders.quickArguments))
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("loaded chapter 03's VQGAN"))
        #expect(!run.stdout.contains("training a stand-in"))
        #expect(run.stdout.contains("loaded 03-feature-network from cache"))
        let metrics = try folders.metrics()
        #expect(metrics["first_stage"] as? String == "chapter 03 VQGAN")
    }

    @Test(arguments: [(["--pkeep", "0"], "--pkeep"), (["--order", "hilbert"], "hilbert"), (["--steps", "0"], "--steps")])
    func aBadOptionIsOneClearError(arguments: [String], named: String) throws {
        let out = ChapterRunner.temporaryFolder("04-bad")
        defer { try? FileManager.default.removeItem(at: out) }
        let run = try #require(try ChapterRunner.run("04-transformer", ["--quick", "--out", out.path, "--cache", out.path] + arguments))
        #expect(run.status != 0)
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains(named), "stderr: \(run.stderr)")
        #expect(!run.stdout.contains("## 1."), "the chapter started despite a bad option")
    }
}
