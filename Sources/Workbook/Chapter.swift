import Foundation
import Tensors

/// The runtime of one chapter: it narrates the cells, times them, keeps track of figures and
/// metrics, and writes `summary.json` at the end.
///
/// A chapter's `main.swift` reads top to bottom:
///
/// ```swift
/// let chapter = Chapter(number: 2, title: "VQ-VAE", folder: "02-vqvae")
///
/// //: First we need pictures to learn from.
/// let images = chapter.cell("Data", "2,000 procedural landscapes, 32×32.") {
///     try Landscapes.generate(count: 2000, size: 32, seed: chapter.options.seed)
/// }
/// ...
/// chapter.finish()
/// ```
///
/// A cell that throws ends the chapter with one `error: …` line on stderr and exit status 1
/// (130 after Ctrl-C), never a stack trace.
public final class Chapter {
    public let number: Int
    public let title: String
    /// The chapter's folder name, e.g. `02-vqvae`: the default `--out` is `Figures/<folder>`.
    public let folder: String
    public let options: ChapterOptions
    /// Where figures and summary.json go (`--out`).
    public let outputFolder: URL
    /// Checkpoints shared between chapters (`--cache`).
    public let cache: CheckpointCache
    public let console: Console
    let clock: Clock
    let interruption: Interruption
    private let startTime: Double
    public private(set) var summary: Summary
    private var figureNames: Set<String> = []
    private var finished = false

    /// Starts a chapter: applies `--threads` and prints the chapter's heading.
    ///
    /// `options` defaults to the process's command line; a chapter with options of its own
    /// parses those and passes their `ChapterOptions` here.
    public init(number: Int, title: String, folder: String, options: ChapterOptions = .parseOrFail(),
                console: Console = .standard, clock: Clock = .system, interruption: Interruption = .shared) {
        self.number = number
        self.title = title
        self.folder = folder
        self.options = options
        self.console = console
        self.clock = clock
        self.interruption = interruption
        self.outputFolder = URL(fileURLWithPath: options.out ?? "Figures/\(folder)", isDirectory: true)
        self.cache = CheckpointCache(folder: URL(fileURLWithPath: options.cache, isDirectory: true),
                                     tags: Self.cacheTags(for: options), console: console)
        self.startTime = clock.now()
        Parallel.setThreadCount(options.threadCount)
        summary = Summary(chapter: number, title: title, seed: options.seed, threads: Parallel.threadCount)
        summary.options = options.json
        cache.clock = clock
        cache.interruption = interruption
        cache.onReport = { [unowned self] report in summary.training[report.label] = report }
        var setting = ["seed \(options.seed)", "\(Parallel.threadCount) thread\(Parallel.threadCount == 1 ? "" : "s")"]
        if options.quick { setting.append("quick run") }
        setting.append("writes to \(outputFolder.relativePath)")
        console.line("# \(number). \(title)")
        console.line(setting.joined(separator: " · "))
    }

    // MARK: Cells

    /// Runs one cell: prints `## n. Title` and the narration, runs `body`, prints how long it
    /// took. If `body` throws, the chapter ends here with one `error:` line (see `fail`).
    @discardableResult
    public func cell<T>(_ title: String, _ narration: String = "", _ body: () throws -> T) -> T {
        do {
            return try runCell(title, narration, body)
        } catch {
            fail(error)
        }
    }

    /// `cell`, but passing errors on to the caller instead of ending the program.
    public func runCell<T>(_ title: String, _ narration: String = "", _ body: () throws -> T) throws -> T {
        let index = summary.cells.count + 1
        console.line()
        console.line("## \(index). \(title)")
        if !narration.isEmpty { console.line(narration) }
        let began = clock.now()
        summary.cells.append((title, 0))
        do {
            let result = try body()
            let seconds = clock.now() - began
            summary.cells[index - 1].seconds = seconds
            console.line("  (\(formatDuration(seconds)))")
            return result
        } catch {
            summary.cells[index - 1].seconds = clock.now() - began
            throw error
        }
    }

    // MARK: Results

    /// Records a number (or any JSON value) under `name` in summary.json's `metrics`.
    public func record(_ name: String, _ value: some JSONRepresentable) {
        summary.metrics[name] = value.json
    }

    /// The URL to write figure `name` to (e.g. `recon.png`, `diagrams/encoder.svg`) under `--out`,
    /// creating its folder. The figure is listed in summary.json if it exists at the end.
    public func figurePath(_ name: String) throws -> URL {
        let url = outputFolder.appendingPathComponent(name)
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw WorkbookError("cannot create output folder \(folder.relativePath): \(error.localizedDescription)")
        }
        figureNames.insert(name)
        return url
    }

    // MARK: Training

    /// Runs a training loop with a progress bar and Ctrl-C handling, and records its steps in
    /// summary.json. See `TrainingLoop`; `CheckpointCache.loadOrTrain` adds checkpoints.
    @discardableResult
    public func train(_ label: String, budget: TrainingBudget, start: TrainingState = TrainingState(),
                      save: ((TrainingState) throws -> URL?)? = nil,
                      _ body: (_ step: Int) throws -> KeyValuePairs<String, Float>) throws -> TrainingReport {
        var loop = TrainingLoop(label, budget: budget, start: start, save: save)
        loop.console = console
        loop.clock = clock
        loop.interruption = interruption
        let report = try loop.run(body)
        summary.training[label] = report
        return report
    }

    /// The training budget for this run: `--seconds`/`--steps` if given, else the chapter's
    /// default number of steps (or the `--quick` one).
    public func budget(steps: Int, quick: Int) -> TrainingBudget {
        options.budget(steps: steps, quick: quick)
    }

    /// The parts of cache file names that follow from the options: `quick`, the seed, and a hash
    /// of the `--data` folder, so runs that would train different weights never share a file.
    static func cacheTags(for options: ChapterOptions) -> [String] {
        var tags = options.quick ? ["quick"] : []
        tags.append("seed\(options.seed)")
        if let data = options.data {
            let path = URL(fileURLWithPath: data).standardizedFileURL.path
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a, 64 bits
            for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            tags.append("data" + String(hash >> 32, radix: 16))
        }
        return tags
    }

    // MARK: Ending

    /// Writes summary.json and prints where everything went. Call once, at the end.
    public func finish() {
        do {
            try writeSummary()
        } catch {
            fail(error)
        }
    }

    /// `finish`, but passing errors on to the caller.
    public func writeSummary() throws {
        guard !finished else { return }
        finished = true
        summary.totalSeconds = clock.now() - startTime
        summary.figures = figureNames.filter {
            FileManager.default.fileExists(atPath: outputFolder.appendingPathComponent($0).path)
        }.sorted()
        let url = outputFolder.appendingPathComponent("summary.json")
        try summary.write(to: url)
        console.line()
        let figures = summary.figures.count == 1 ? "1 figure" : "\(summary.figures.count) figures"
        console.line("Done in \(formatDuration(summary.totalSeconds)): \(figures) and summary.json "
            + "in \(outputFolder.relativePath)")
    }

    /// Runs a whole chapter body; an error ends it like a failing cell, success writes the summary.
    public func run(_ body: () throws -> Void) {
        do {
            try body()
            try writeSummary()
        } catch {
            fail(error)
        }
    }

    /// Ends the program after `error`: one `error: …` line on stderr, exit status 1 (or 128 + the
    /// signal after an interrupt).
    public func fail(_ error: Error) -> Never {
        console.error(Self.message(for: error))
        exit(Self.exitCode(for: error))
    }

    /// One line saying what went wrong, without type names or stack traces.
    public static func message(for error: Error) -> String {
        let text: String
        if let error = error as? CocoaError {
            text = error.localizedDescription
        } else if let error = error as? LocalizedError, let description = error.errorDescription {
            text = description
        } else if type(of: error) is NSError.Type {
            text = error.localizedDescription
        } else {
            text = String(describing: error)  // its description, if it has one
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// 128 + signal for an interrupted run, 1 for anything else.
    public static func exitCode(for error: Error) -> Int32 {
        (error as? TrainingInterrupted)?.exitCode ?? 1
    }
}
