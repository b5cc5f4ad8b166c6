import Foundation

/// The book as it lives in the repository: chapters in `Chapters/NN-name/main.swift`, an optional
/// `Chapters/Preface.md`, figures under `Figures/`, and the generated `Book.md` at the root.
public struct BookProject {
    public let root: URL
    public init(root: URL) { self.root = root }

    public static let title = "Taming Transformers, rebuilt: a Swift workbook"

    /// Chapter folders in order (names that start with two digits and a hyphen).
    public func chapterFolders() throws -> [String] {
        let dir = root.appendingPathComponent("Chapters")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        return names.filter { name in
            name.count > 3 && name.prefix(2).allSatisfy(\.isNumber) && name.dropFirst(2).first == "-"
        }.sorted()
    }

    /// Weaves the book from the chapter sources on disk.
    public func weave() throws -> String {
        var chapters: [Weaver.Chapter] = []
        for folder in try chapterFolders() {
            let path = root.appendingPathComponent("Chapters/\(folder)/main.swift")
            guard let text = try? String(contentsOf: path, encoding: .utf8) else {
                throw BookError("chapter folder Chapters/\(folder) has no readable main.swift")
            }
            chapters.append(.init(folder: folder, source: text))
        }
        let prefaceURL = root.appendingPathComponent("Chapters/Preface.md")
        let preface = (try? String(contentsOf: prefaceURL, encoding: .utf8)) ?? ""
        return Weaver(title: BookProject.title, preface: preface, chapters: chapters).book()
    }

    /// Every way the committed book can disagree with the code: Book.md differs from the weave, a
    /// referenced figure is missing, a chapter folder has no target in Package.swift, or a file in
    /// Figures/ is referenced by nothing (an orphan). Returns one message per problem.
    public func problems() throws -> [String] {
        var problems: [String] = []
        let woven = try weave()
        let bookURL = root.appendingPathComponent("Book.md")
        let committed = (try? String(contentsOf: bookURL, encoding: .utf8)) ?? ""
        if committed != woven {
            problems.append("Book.md differs from the chapters: run `swift run weave` to regenerate it")
        }
        let refs = Weaver.imageReferences(in: woven)
        for ref in refs where !FileManager.default.fileExists(atPath: root.appendingPathComponent(ref).path) {
            problems.append("Book.md references a missing figure: \(ref)")
        }
        let manifest = (try? String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)) ?? ""
        for folder in try chapterFolders() where !manifest.contains("\"\(folder)\"") {
            problems.append("Chapters/\(folder) has no executable target named \"\(folder)\" in Package.swift")
        }
        problems += orphanedFigures(referenced: Set(refs))
        return problems
    }

    /// Figures that the book never shows. A chapter's DOT sources, summary.json and the figures a
    /// referenced PNG or SVG was made with (same stem) count as referenced.
    func orphanedFigures(referenced: Set<String>) -> [String] {
        let figures = root.appendingPathComponent("Figures")
        guard let walker = FileManager.default.enumerator(atPath: figures.path) else { return [] }
        let referencedStems = Set(referenced.map { ($0 as NSString).deletingPathExtension })
        var orphans: [String] = []
        for case let rel as String in walker {
            let path = "Figures/" + rel
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDir)
            if isDir.boolValue { continue }
            let ext = (rel as NSString).pathExtension
            if !["png", "svg", "dot"].contains(ext) { continue }
            let stem = (path as NSString).deletingPathExtension
            if referenced.contains(path) || referencedStems.contains(stem) { continue }
            orphans.append("Figures/\(rel) is not referenced by Book.md")
        }
        return orphans.sorted()
    }
}

/// A problem with the book's sources, reported as one line.
public struct BookError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}
