import BookWeaver
import Foundation

// weave: writes Book.md from Chapters/*/main.swift; `weave --check` only reports differences,
// missing figures, orphaned figures and chapter folders without a target, and exits 1 if any.
let arguments = CommandLine.arguments.dropFirst()
let root = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
let project = BookProject(root: root)
do {
    if arguments.contains("--check") {
        let problems = try project.problems()
        for p in problems { FileHandle.standardError.write(Data("error: \(p)\n".utf8)) }
        if problems.isEmpty { print("Book.md is up to date with \(try project.chapterFolders().count) chapters") }
        exit(problems.isEmpty ? 0 : 1)
    }
    let book = try project.weave()
    let url = root.appendingPathComponent("Book.md")
    try Data(book.utf8).write(to: url, options: .atomic)
    print("wrote Book.md (\(book.split(separator: "\n").count) lines)")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
