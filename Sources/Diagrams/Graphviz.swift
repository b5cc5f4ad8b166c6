import CGraphviz
import Foundation

/// Renders DOT source in this process through libgvc (no `dot` executable needed).
///
/// Graphviz keeps global state (its parser, error reporting, plugin registry) and is not
/// thread-safe, so every call goes through one lock, and one context, created on first use,
/// serves the whole process. Graphviz reports problems through `agerr`; we capture those
/// messages and turn them into a thrown `DiagramError` instead of letting them reach stderr.
public enum Graphviz {
    /// Lays out `dot` with `engine` and renders it as `format` ("svg", "png", "dot", …).
    /// Same source, same bytes: nothing variable (time, paths) is embedded by these formats.
    public static func render(dot: String, format: String, engine: String = "dot") throws -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        let context = try sharedContext()
        try requireFormat(format, in: context)

        beginCapture()
        defer { endCapture() }
        guard let graph = GraphvizReader.read(dot) else {
            throw DiagramError.invalidDOT(message: capturedMessage(or: "the source is not a graph"))
        }
        defer { agclose(graph) }
        if let message = capturedErrors() { throw DiagramError.invalidDOT(message: message) }

        guard gvLayout(context, graph, engine) == 0 else {
            throw DiagramError.layoutFailed(engine: engine, message: capturedMessage(or: "no reason given"))
        }
        defer { gvFreeLayout(context, graph) }
        if let message = capturedErrors() { throw DiagramError.layoutFailed(engine: engine, message: message) }

        var data: UnsafeMutablePointer<CChar>?
        var length: UInt32 = 0
        let status = gvRenderData(context, graph, format, &data, &length)
        defer { if let data { gvFreeRenderData(data) } }
        guard status == 0, let data else {
            throw DiagramError.renderFailed(format: format, message: capturedMessage(or: "no output"))
        }
        if let message = capturedErrors() { throw DiagramError.renderFailed(format: format, message: message) }
        return data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(length)))
        }
    }

    /// The output formats the installed plugins provide, e.g. ["dot", "png", "svg", …], sorted.
    public static func availableFormats() throws -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return try formats(in: try sharedContext())
    }

    /// The Graphviz library version, e.g. "2.42.2".
    public static func version() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        guard let text = gvcVersion(try sharedContext()) else { return "unknown" }
        return String(cString: text)
    }

    // MARK: - The shared context

    private static let lock = NSLock()
    nonisolated(unsafe) private static var context: OpaquePointer?
    nonisolated(unsafe) private static var formatCache: [String]?

    /// One context for the process: `gvContext()` reads the installed plugin configuration
    /// (`config6` in Graphviz's library folder) and loads plugins as they are first needed.
    private static func sharedContext() throws -> OpaquePointer {
        if let context { return context }
        guard let created = gvContext() else {
            throw DiagramError.graphvizUnavailable(message: "gvContext() returned no context")
        }
        context = created
        return created
    }

    private static func formats(in context: OpaquePointer) throws -> [String] {
        if let formatCache { return formatCache }
        var count: Int32 = 0
        var names = Set<String>()
        if let list = gvPluginList(context, "device", &count, nil) {
            for index in 0..<Int(count) {
                guard let item = list[index] else { continue }
                // Entries look like "png" or "png:cairo"; keep the format part.
                let entry = String(cString: item)
                names.insert(String(entry.split(separator: ":").first ?? Substring(entry)))
                free(item)
            }
            free(list)
        }
        guard !names.isEmpty else {
            throw DiagramError.graphvizUnavailable(
                message: "no output plugins are installed (is Graphviz's plugin configuration missing?)")
        }
        let sorted = names.sorted()
        formatCache = sorted
        return sorted
    }

    private static func requireFormat(_ format: String, in context: OpaquePointer) throws {
        let base = String(format.split(separator: ":").first ?? Substring(format))
        let available = try formats(in: context)
        guard available.contains(base) else {
            throw DiagramError.renderFailed(
                format: format,
                message: "this Graphviz has no '\(base)' output plugin; available: "
                    + available.joined(separator: ", ")
                    + (base == "png" ? " (PNG comes from the cairo plugin in libgvc6 / Homebrew graphviz)" : ""))
        }
    }

    // MARK: - Capturing Graphviz's error messages

    nonisolated(unsafe) private static var captured = ""
    nonisolated(unsafe) private static var previousHandler: agusererrf?

    /// Graphviz calls this with pieces of each message ("Error", ": ", the text); we collect them.
    private static let handler: agusererrf = { text in
        if let text { Graphviz.captured += String(cString: text) }
        return 0
    }

    private static func beginCapture() {
        captured = ""
        agreseterrors()
        previousHandler = agseterrf(handler)
    }

    private static func endCapture() {
        agseterrf(previousHandler)
        agreseterrors()
        captured = ""
    }

    /// The messages so far, or `fallback` when Graphviz gave none.
    private static func capturedMessage(or fallback: String) -> String {
        let text = captured.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { return fallback }
        // One line per message, without the "Error: " prefixes Graphviz puts on each.
        return text.split(separator: "\n").map { line in
            line.hasPrefix("Error: ") ? String(line.dropFirst(7)) : String(line)
        }.joined(separator: "; ")
    }

    /// The messages so far if any of them was an error (warnings alone do not fail a render).
    private static func capturedErrors() -> String? {
        agerrors() >= Int32(AGERR.rawValue) ? capturedMessage(or: "an unspecified error") : nil
    }
}
