import Foundation
import Testing

/// Runs a chapter executable as a learner would, and captures what it prints.
///
/// The chapters are built by `swift build` (`Scripts/test.sh` builds them in release mode first,
/// so `--quick` runs take seconds); the runner prefers the release binary and falls back to debug.
struct ChapterRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum ChapterRunner {
    /// The package root, found from this file's path.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The chapter's executable, release builds first: each configuration beside the running test
    /// binary (whatever `--scratch-path` built it), then in `.build`.
    static func executable(_ name: String) -> URL? {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let builds = [here.deletingLastPathComponent(), root.appendingPathComponent(".build")]
        let folders = ["release", "debug"].flatMap { configuration in builds.map { $0.appendingPathComponent(configuration) } }
        for folder in folders {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// A fresh temporary folder.
    static func temporaryFolder(_ label: String) -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("chapter-test-\(label)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `name` with `arguments` from the package root; nil if the executable is not built.
    static func run(_ name: String, _ arguments: [String]) throws -> ChapterRun? {
        guard let url = executable(name) else { return nil }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a chatty chapter cannot block on a full pipe.
        var stdoutData = Data(), stderrData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { stderrData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return ChapterRun(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                          stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

/// Fresh `--out` and `--cache` folders for one chapter test, removed again by `remove()`.
struct ChapterFolders {
    let out: URL, cache: URL

    init(_ label: String) {
        out = ChapterRunner.temporaryFolder("\(label)-out")
        cache = ChapterRunner.temporaryFolder("\(label)-cache")
    }

    /// `--quick`, writing into these folders.
    var quickArguments: [String] { ["--quick", "--out", out.path, "--cache", cache.path] }

    /// The `metrics` object of the summary.json the run wrote.
    func metrics() throws -> [String: Any] {
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json")))
        return try #require((summary as? [String: Any])?["metrics"] as? [String: Any])
    }

    func remove() {
        try? FileManager.default.removeItem(at: out)
        try? FileManager.default.removeItem(at: cache)
    }
}
