import ArgumentParser
import Foundation

/// The options every chapter accepts (the chapter contract), declared once.
///
/// A chapter with options of its own composes these into its own type:
///
/// ```swift
/// struct Options: ParsableArguments {
///     @OptionGroup var chapter: ChapterOptions
///     @Option(help: "Width of the big sample.") var width = 1024
/// }
/// let options = Options.parseOrFail()
/// ```
public struct ChapterOptions: ParsableArguments {
    @Flag(help: "A tiny run (seconds, not minutes): used by the tests and CI.")
    public var quick = false

    @Option(help: ArgumentHelp("Training steps (default: the chapter's own).", valueName: "n"))
    public var steps: Int?

    @Option(help: ArgumentHelp(
        "Train for a wall-clock budget instead of a step count.", valueName: "seconds"))
    public var seconds: Double?

    @Option(help: ArgumentHelp("Seed for every random draw.", valueName: "s"))
    public var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Folder for figures and summary.json (default: Figures/<chapter>).",
                               valueName: "dir"))
    public var out: String?

    @Option(help: ArgumentHelp("A folder of PNG images to train on instead of procedural data.",
                               valueName: "dir"))
    public var data: String?

    @Option(name: .customLong("val-data"),
            help: ArgumentHelp("A folder of PNG images to validate on.", valueName: "dir"))
    public var valData: String?

    @Option(help: ArgumentHelp("Worker threads (default: all cores).", valueName: "n"))
    public var threads: Int?

    @Option(help: ArgumentHelp("Checkpoint cache shared between chapters.", valueName: "dir"))
    public var cache: String = ".cache"

    public init() {}

    public mutating func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1 (got \(steps))") }
        if let seconds, !(seconds > 0 && seconds.isFinite) {
            throw ValidationError("--seconds must be a positive number of seconds (got \(seconds))")
        }
        if steps != nil && seconds != nil {
            throw ValidationError("--steps and --seconds both set a training budget: pass only one")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        if let data { try Self.requireFolder(data, option: "--data") }
        if let valData { try Self.requireFolder(valData, option: "--val-data") }
        if let out { try Self.refuseFile(out, option: "--out") }
        try Self.refuseFile(cache, option: "--cache")
    }

    /// Threads the kernels will use: `--threads`, or every active core.
    public var threadCount: Int { threads ?? ProcessInfo.processInfo.activeProcessorCount }

    /// The training budget: `--seconds` or `--steps` if given, else the chapter's default for a
    /// normal or a `--quick` run.
    public func budget(steps defaultSteps: Int, quick quickSteps: Int) -> TrainingBudget {
        if let seconds { return .seconds(seconds) }
        if let steps { return .steps(steps) }
        return .steps(quick ? quickSteps : defaultSteps)
    }

    /// The options as they were given, for summary.json.
    public var json: JSONValue {
        .object([
            "quick": .bool(quick), "steps": steps.map { .int($0) } ?? .null,
            "seconds": seconds.map { .number($0) } ?? .null, "seed": seed.json,
            "out": out.map { .string($0) } ?? .null, "data": data.map { .string($0) } ?? .null,
            "val_data": valData.map { .string($0) } ?? .null, "threads": .int(threadCount),
            "cache": .string(cache),
        ])
    }

    private static func requireFolder(_ path: String, option: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw ValidationError("\(option) \(path): no such folder")
        }
        guard isFolder.boolValue else { throw ValidationError("\(option) \(path): not a folder") }
    }

    private static func refuseFile(_ path: String, option: String) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            throw ValidationError("\(option) \(path): is a file, not a folder")
        }
    }
}

extension ParsableArguments {
    /// Parses the command line, or ends the program: `--help` prints help and exits 0; a bad
    /// option prints one `error: …` line to stderr and exits 64 (EX_USAGE) or 1.
    public static func parseOrFail(_ arguments: [String]? = nil, console: Console = .standard) -> Self {
        switch parseResult(arguments) {
        case .success(let options): return options
        case .failure(let failure):
            if failure.code == 0 { ProgramCommand<Self>.exit(withError: failure.error) }  // help: ArgumentParser prints it
            console.error(failure.message)
            Foundation.exit(failure.code)
        }
    }

    /// Parses the command line without exiting: the options, or the message and exit code a bad
    /// command line deserves (code 0 for a help request).
    public static func parseResult(_ arguments: [String]? = nil) -> Result<Self, ParseFailure> {
        do {
            return .success(try ProgramCommand<Self>.parse(arguments).options)
        } catch {
            let code = ProgramCommand<Self>.exitCode(for: error).rawValue
            let message = ProgramCommand<Self>.message(for: error).split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
            return .failure(ParseFailure(error: error, message: message + (code == 0 ? "" : " (see --help)"),
                                         code: code))
        }
    }
}

/// Why a command line did not parse: a one-line message and the exit code it deserves.
public struct ParseFailure: Error {
    public var error: Error
    public var message: String
    public var code: Int32
}

/// Options wrapped in a command named after the executable, so `--help` shows `01-pixels`, not
/// the options type's name.
struct ProgramCommand<Options: ParsableArguments>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: CommandLine.arguments.first.map {
            URL(fileURLWithPath: $0).lastPathComponent
        })
    }

    @OptionGroup var options: Options

    init() {}
}
