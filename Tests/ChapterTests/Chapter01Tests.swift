import Foundation
import Testing

/// Chapter 01 run as a learner runs it: the built `01-pixels` executable with `--quick`.
@Suite("Chapter 01", .serialized) struct Chapter01Tests {
    @Test func quickRunWritesItsFiguresAndSummary() throws {
        let folders = ChapterFolders("01"), out = folders.out
        defer { folders.remove() }
        let run = try Chapter01.run(folders.quickArguments)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for line in ["# 1. Pixels, one at a time", "## 1. Images as sequences", "## 2. A palette of colours",
                     "## 3. The GPT", "## 4. Training", "## 6. Samples", "## 8. What it costs", "## 9. The bill",
                     "bits/pixel on", "tokens identical", "fitted: training step ∝ T^", "extrapolated:",
                     "no cached 01-pixels-gpt"] {
            #expect(run.stdout.contains(line), "missing \(line)")
        }
        let metrics = try folders.metrics()
        for key in ["validation_bits_per_pixel", "sample_seconds", "cost", "cost_exponents", "extrapolated_limits",
                    "palette_colors", "parameters", "uniform_bits_per_pixel", "frequency_bits_per_pixel"] {
            #expect(metrics[key] != nil, "summary.json lacks \(key)")
        }
        // The model must have learnt something: fewer bits than the colour frequencies alone.
        let bits = try #require(metrics["validation_bits_per_pixel"] as? Double)
        let frequencies = try #require(metrics["frequency_bits_per_pixel"] as? Double)
        #expect(bits < frequencies, "held-out \(bits) bits/pixel, frequencies alone \(frequencies)")
        #expect(metrics["cached_and_recomputed_tokens_agree"] as? Double == 1)
        let cost = try #require(metrics["cost"] as? [[String: Any]])
        #expect(cost.count == 4 && cost.allSatisfy { ($0["train_step_seconds"] as? Double ?? 0) > 0 })
        for figure in ["raster.png", "palette.png", "quantized.png", "gpt.dot", "gpt.svg", "gpt.png", "loss.svg",
                       "samples.png", "completions.png", "cost-time.svg", "cost-memory.svg"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(figure).path), "missing \(figure)")
        }
        // A second run loads the model from the cache and gets the same held-out number.
        let again = try Chapter01.run(folders.quickArguments)
        #expect(again.status == 0, "stderr: \(again.stderr)")
        #expect(again.stdout.contains("loaded 01-pixels-gpt"))
        let line = { (text: String) in text.split(separator: "\n").first { $0.contains("bits/pixel on") } }
        #expect(line(run.stdout) != nil && line(run.stdout) == line(again.stdout))
    }

    /// A folder without pictures ends the chapter with one `error:` line naming it.
    @Test func anEmptyDataFolderIsOneClearError() throws {
        let folder = ChapterRunner.temporaryFolder("01-empty")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try Chapter01.run(["--quick", "--data", folder.path, "--out", folder.path,
                                     "--cache", folder.appendingPathComponent("cache").path])
        #expect(run.status != 0)
        let errors = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1 && errors[0].contains(folder.lastPathComponent), "stderr: \(run.stderr)")
        #expect(!run.stderr.contains("Backtrace") && !run.stderr.contains("Fatal error"))
    }
}

/// Finds and runs the `01-pixels` executable.
enum Chapter01 {
    static let name = "01-pixels"

    /// The executable in the build products folder next to this test bundle (or in the release
    /// folder beside it, when that one is at least as new as the chapter's source), else the
    /// package's default `.build` folders.
    static func executable() -> URL? {
        var candidates: [URL] = []
        if let products = testProductsFolder() {
            let configuration = products.lastPathComponent
            if configuration != "release" {
                candidates.append(products.deletingLastPathComponent().appendingPathComponent("release/\(name)"))
            }
            candidates.append(products.appendingPathComponent(name))
        }
        candidates += ["release", "debug"].map { ChapterRunner.root.appendingPathComponent(".build/\($0)/\(name)") }
        let existing = candidates.filter { FileManager.default.isExecutableFile(atPath: $0.path) }
        let source = ChapterRunner.root.appendingPathComponent("Chapters/\(name)/main.swift")
        let sourceDate = modificationDate(source) ?? .distantPast
        return existing.first { (modificationDate($0) ?? .distantPast) >= sourceDate } ?? existing.first
    }

    /// The folder holding the running test binary (Linux) or test bundle (macOS).
    static func testProductsFolder() -> URL? {
        #if os(Linux)
        let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return binary.deletingLastPathComponent()
        #else
        return Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }?.bundleURL.deletingLastPathComponent()
        #endif
    }

    static func modificationDate(_ url: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date
    }

    /// Runs the chapter from the package root and captures its output.
    static func run(_ arguments: [String]) throws -> ChapterRun {
        let url = try #require(executable(), "\(name) is not built: run swift build first")
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = ChapterRunner.root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errors = ErrorCollector(err.fileHandleForReading)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ChapterRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                          stderr: String(decoding: errors.wait(), as: UTF8.self))
    }

    /// Reads a pipe to its end on another thread (so neither pipe can fill up and block the child).
    final class ErrorCollector: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        func wait() -> Data {
            done.wait()
            return data
        }
    }
}
