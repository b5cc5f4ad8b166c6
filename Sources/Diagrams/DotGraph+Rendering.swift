import Foundation

/// The picture formats a diagram is written in.
public enum DiagramFormat: String, CaseIterable, Sendable {
    /// Scalable vector graphics from Graphviz's core renderer (text stays text).
    case svg
    /// A raster image from the cairo renderer.
    case png
}

extension DotGraph {
    /// Lays the graph out with `dot` and renders it in this process through libgvc.
    /// PNGs are drawn at `pngResolution` dots per inch unless the graph sets its own `dpi`.
    public func render(format: DiagramFormat) throws -> [UInt8] {
        var graph = self
        if format == .png, graph.graphAttributes["dpi"] == nil {
            graph.graphAttributes["dpi"] = String(DotGraph.pngResolution)
        }
        return try Graphviz.render(dot: graph.dot, format: format.rawValue)
    }

    /// 1.5× Graphviz's 96 dpi, so PNGs stay sharp on high-density screens.
    public static let pngResolution = 144

    /// Writes `name.dot`, `name.svg` and `name.png` into `directory`, creating it if needed.
    /// Each file is written to a temporary file and renamed into place, so a reader never
    /// sees half a file. Everything is rendered before the first file is written.
    public func write(to directory: URL, name: String) throws {
        try DiagramFiles.validate(name: name)
        let source = Array(dot.utf8)
        let svg = try render(format: .svg)
        let png = try render(format: .png)
        try DiagramFiles.createFolder(directory)
        try DiagramFiles.write(source, to: directory.appendingPathComponent(name + ".dot"))
        try DiagramFiles.write(svg, to: directory.appendingPathComponent(name + ".svg"))
        try DiagramFiles.write(png, to: directory.appendingPathComponent(name + ".png"))
    }
}

/// Writing diagram files: name checks, folder creation and atomic replacement.
enum DiagramFiles {
    static func validate(name: String) throws {
        if name.isEmpty { throw DiagramError.invalidName(name, reason: "the name is empty") }
        if name.contains("/") || name.contains("\0") {
            throw DiagramError.invalidName(name, reason: "a file name cannot contain '/' or NUL")
        }
        if name == "." || name == ".." { throw DiagramError.invalidName(name, reason: "that names a folder") }
    }

    static func createFolder(_ directory: URL) throws {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isFolder) {
            guard isFolder.boolValue else {
                throw DiagramError.unwritable(path: directory.path, reason: "it is a file, not a folder")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DiagramError.unwritable(path: directory.path, reason: "cannot create the folder")
        }
    }

    /// Writes to a uniquely named temporary file beside `url`, then renames it over `url`.
    static func write(_ bytes: [UInt8], to url: URL) throws {
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(bytes).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw DiagramError.unwritable(path: url.path, reason: "cannot write a file in \(folder.path)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw DiagramError.unwritable(path: url.path, reason: reason)
        }
    }
}
