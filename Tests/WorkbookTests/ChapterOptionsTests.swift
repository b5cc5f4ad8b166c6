import ArgumentParser
import Foundation
import Testing
@testable import Workbook

@Suite struct ChapterOptionsTests {
    @Test func defaultsFollowTheChapterContract() throws {
        let options = try ChapterOptions.parse([])
        #expect(options.quick == false)
        #expect(options.steps == nil && options.seconds == nil)
        #expect(options.seed == 0)
        #expect(options.out == nil && options.data == nil && options.valData == nil)
        #expect(options.cache == ".cache")
        #expect(options.threadCount == ProcessInfo.processInfo.activeProcessorCount)
        #expect(options.budget(steps: 2000, quick: 20) == .steps(2000))
    }

    @Test func everyOptionParses() throws {
        let folder = try temporaryFolder()
        let options = try ChapterOptions.parse([
            "--quick", "--steps", "12", "--seed", "7", "--out", "/tmp/x", "--data", folder.path,
            "--val-data", folder.path, "--threads", "1", "--cache", "/tmp/c",
        ])
        #expect(options.quick && options.steps == 12 && options.seed == 7)
        #expect(options.out == "/tmp/x" && options.data == folder.path && options.valData == folder.path)
        #expect(options.threadCount == 1 && options.cache == "/tmp/c")
        #expect(options.budget(steps: 2000, quick: 20) == .steps(12))
    }

    @Test func quickAndSecondsChooseTheBudget() throws {
        #expect(try ChapterOptions.parse(["--quick"]).budget(steps: 2000, quick: 20) == .steps(20))
        #expect(try ChapterOptions.parse(["--seconds", "90"]).budget(steps: 2000, quick: 20) == .seconds(90))
        #expect(try ChapterOptions.parse(["--quick", "--seconds", "2.5"]).budget(steps: 2000, quick: 20)
            == .seconds(2.5))
    }

    @Test(arguments: [
        (["--steps", "0"], "--steps must be at least 1"),
        (["--steps=-3"], "--steps must be at least 1"),
        (["--seconds", "0"], "--seconds must be a positive number"),
        (["--seconds", "nan"], "--seconds must be a positive number"),
        (["--steps", "5", "--seconds", "5"], "pass only one"),
        (["--threads", "0"], "--threads must be at least 1"),
        (["--data", "/no/such/folder"], "--data /no/such/folder: no such folder"),
        (["--val-data", "/no/such/folder"], "--val-data /no/such/folder: no such folder"),
        (["--steps", "many"], "many"),
        (["--frobnicate"], "--frobnicate"),
    ])
    func impossibleOptionsGiveOneCleanLine(arguments: [String], expected: String) throws {
        let problem = try #require(failure(of: arguments))
        #expect(problem.message.contains(expected), "message: \(problem.message)")
        #expect(!problem.message.contains("\n"))
        #expect(problem.code != 0)
    }

    @Test func aFileIsNotAFolder() throws {
        let file = try temporaryFolder().appendingPathComponent("image.png")
        try Data([1, 2, 3]).write(to: file)
        #expect(failure(of: ["--data", file.path])?.message.contains("not a folder") == true)
        #expect(failure(of: ["--out", file.path])?.message.contains("is a file, not a folder") == true)
        #expect(failure(of: ["--cache", file.path])?.message.contains("is a file, not a folder") == true)
    }

    @Test func helpIsNotAnError() {
        #expect(failure(of: ["--help"])?.code == 0)
    }

    @Test func chaptersComposeTheOptionsWithTheirOwn() throws {
        struct Options: ParsableArguments {
            @OptionGroup var chapter: ChapterOptions
            @Option var width = 1024
        }
        let options = try Options.parse(["--width", "512", "--quick"])
        #expect(options.width == 512 && options.chapter.quick)
        guard case .failure(let failure) = Options.parseResult(["--threads", "0"]) else {
            Issue.record("--threads 0 parsed"); return
        }
        #expect(failure.message.contains("--threads must be at least 1"))
    }

    @Test func optionsAreRecordedAsJSON() throws {
        let json = try ChapterOptions.parse(["--steps", "3", "--threads", "2"]).json
        guard case .object(let members) = json else { Issue.record("not an object"); return }
        #expect(members["steps"] == .int(3) && members["threads"] == .int(2) && members["quick"] == .bool(false))
        #expect(members["seconds"] == .null && members["cache"] == .string(".cache"))
    }

    private func failure(of arguments: [String]) -> ParseFailure? {
        if case .failure(let failure) = ChapterOptions.parseResult(arguments) { return failure }
        return nil
    }
}
