import Foundation
import Testing
@testable import Workbook

@Suite struct ChapterTests {
    private func chapter(_ arguments: [String], capture: Capture, time: ManualClock) throws -> Chapter {
        Chapter(number: 2, title: "VQ-VAE", folder: "02-vqvae", options: try ChapterOptions.parse(arguments),
                console: capture.console(), clock: time.clock, interruption: Interruption())
    }

    @Test func cellsAreNumberedNarratedAndTimed() throws {
        let out = try temporaryFolder(), capture = Capture(), time = ManualClock()
        let chapter = try chapter(["--out", out.path, "--seed", "3", "--threads", "1"], capture: capture, time: time)
        let answer = chapter.cell("Data", "Two thousand landscapes.\nEach 32×32.") {
            time.advance(1.5)
            return 42
        }
        chapter.cell("Training") { time.advance(75) }
        #expect(answer == 42)
        #expect(capture.output == """
            # 2. VQ-VAE
            seed 3 · 1 thread · writes to \(out.path)

            ## 1. Data
            Two thousand landscapes.
            Each 32×32.
              (1.50 s)

            ## 2. Training
              (1m15s)

            """)
        #expect(chapter.summary.cells.map(\.title) == ["Data", "Training"])
        #expect(chapter.summary.cells.map(\.seconds) == [1.5, 75])
    }

    @Test func summaryListsMetricsTrainingAndWrittenFigures() throws {
        let out = try temporaryFolder(), capture = Capture(), time = ManualClock()
        let chapter = try chapter(["--out", out.path, "--steps", "3", "--threads", "2"], capture: capture, time: time)
        let budget = chapter.budget(steps: 100, quick: 5)
        #expect(budget == .steps(3))
        let report = try chapter.runCell("Training") {
            try chapter.train("vqvae", budget: budget) { _ in time.advance(1); return ["loss": 0.5] }
        }
        #expect(report.steps == 3)
        chapter.record("psnr", Float(24.5))
        chapter.record("usage", [0.25, 0.75])
        let written = try chapter.figurePath("samples/grid.png")
        try Data([0x89]).write(to: written)
        _ = try chapter.figurePath("never-written.png")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("samples").path))
        time.advance(1)
        try chapter.writeSummary()

        let data = try Data(contentsOf: out.appendingPathComponent("summary.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((object["figures"] as? [String]) == ["samples/grid.png"])
        #expect((object["steps"] as? [String: Int]) == ["vqvae": 3])
        #expect((object["metrics"] as? [String: Any])?["psnr"] as? Double == 24.5)
        #expect(object["threads"] as? Int == 2 && object["seed"] as? Int == 0)
        #expect((object["timings"] as? [String: Any])?["total_seconds"] as? Double == 4)
        #expect(capture.output.contains("vqvae  3/3 steps  in 3.00 s"))
        #expect(capture.output.hasSuffix("Done in 4.00 s: 1 figure and summary.json in \(out.path)\n"))
    }

    @Test func theDefaultOutputFolderIsTheChaptersFigures() throws {
        let capture = Capture()
        let chapter = try chapter([], capture: capture, time: ManualClock())
        #expect(chapter.outputFolder.relativePath == "Figures/02-vqvae")
        #expect(chapter.cache.folder.relativePath == ".cache")
        #expect(chapter.cache.url(for: "02-vqvae", budget: .steps(2000)).lastPathComponent
            == "02-vqvae-2000-steps-seed0.safetensors")
    }

    @Test func cacheNamesSeparateRunsThatTrainDifferentWeights() throws {
        let data = try temporaryFolder()
        #expect(Chapter.cacheTags(for: try ChapterOptions.parse([])) == ["seed0"])
        #expect(Chapter.cacheTags(for: try ChapterOptions.parse(["--quick", "--seed", "9"])) == ["quick", "seed9"])
        let tags = Chapter.cacheTags(for: try ChapterOptions.parse(["--data", data.path]))
        #expect(tags.count == 2 && tags[1].hasPrefix("data"))
        #expect(tags == Chapter.cacheTags(for: try ChapterOptions.parse(["--data", data.path + "/"])))
    }

    @Test func errorsBecomeOneLine() {
        struct Plain: Error {}
        #expect(Chapter.message(for: WorkbookError("no PNG files in photos/")) == "no PNG files in photos/")
        #expect(Chapter.message(for: NonFiniteLossError(step: 7, name: "loss", value: .nan)).hasPrefix("loss is nan at step 7"))
        #expect(Chapter.message(for: WorkbookError("two\nlines")) == "two lines")
        #expect(Chapter.message(for: CocoaError(.fileReadNoSuchFile)).isEmpty == false)
        #expect(Chapter.message(for: Plain()) == "Plain()")
        #expect(Chapter.exitCode(for: Plain()) == 1)
        #expect(Chapter.exitCode(for: TrainingInterrupted(signal: SIGTERM, step: 3, checkpoint: nil)) == 143)
    }

    @Test func aFailingCellEndsTheProgramWithOneErrorLine() async {
        let result = await #expect(processExitsWith: .exitCode(1), observing: [\.standardErrorContent]) {
            let options = try ChapterOptions.parse(["--out", FileManager.default.temporaryDirectory.path])
            let chapter = Chapter(number: 1, title: "Pixels", folder: "01-pixels", options: options)
            chapter.cell("Data") { throw WorkbookError("photos/: no PNG files") }
            Issue.record("went on after a failing cell")
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr == "error: photos/: no PNG files\n")
    }
}

@Suite struct InterruptionTests {
    /// A real SIGINT in the middle of a training loop: the loop stops at the step boundary, and the
    /// chapter ends with status 130 and one error line saying where it stopped.
    @Test func ctrlCStopsTrainingAtAStepBoundary() async {
        let result = await #expect(processExitsWith: .exitCode(130), observing: [\.standardErrorContent]) {
            let options = try ChapterOptions.parse(["--out", FileManager.default.temporaryDirectory.path])
            let chapter = Chapter(number: 1, title: "Pixels", folder: "01-pixels", options: options)
            chapter.cell("Training") {
                try chapter.train("gpt", budget: .steps(1000)) { step in
                    if step == 2 {
                        kill(getpid(), SIGINT)
                        for _ in 0..<2000 where Interruption.shared.received == nil { usleep(1000) }
                    }
                    return [:]
                }
            }
            Issue.record("went on after an interrupt")
        }
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr == "warning: interrupted: stopping after this step and saving a checkpoint "
            + "(press Ctrl-C again to quit at once)\nerror: interrupted after step 3\n")
    }

    @Test func outsideTrainingLoopsSignalsAreNotCaught() {
        let interruption = Interruption()
        interruption.listening { interruption.request(SIGTERM) }
        #expect(interruption.received == SIGTERM)
        interruption.reset()
        #expect(interruption.received == nil)
    }
}
