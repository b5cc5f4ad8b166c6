import Foundation

/// What went wrong building, rendering or writing a diagram. Every case carries a message a
/// chapter can print as `error: \(error)`, naming the graph, format or file involved.
public enum DiagramError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Graphviz could not parse the DOT source (a syntax error in hand-written DOT).
    case invalidDOT(message: String)
    /// Graphviz parsed the graph but its layout engine failed.
    case layoutFailed(engine: String, message: String)
    /// Rendering to the output format failed, or the format is not installed.
    case renderFailed(format: String, message: String)
    /// Graphviz could not be started (no context, no plugins).
    case graphvizUnavailable(message: String)
    /// A diagram description that cannot be drawn (e.g. a link to a stage that does not exist).
    case invalidDiagram(String)
    /// A file name given to `write(to:name:)` cannot name a file.
    case invalidName(String, reason: String)
    /// A file or its folder could not be written.
    case unwritable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidDOT(let message):
            return "Graphviz could not read the DOT source: \(message)"
        case .layoutFailed(let engine, let message):
            return "Graphviz layout '\(engine)' failed: \(message)"
        case .renderFailed(let format, let message):
            return "Graphviz could not render \(format): \(message)"
        case .graphvizUnavailable(let message):
            return "Graphviz is unavailable: \(message)"
        case .invalidDiagram(let message):
            return "the diagram cannot be drawn: \(message)"
        case .invalidName(let name, let reason):
            return "'\(name)' cannot be a diagram file name: \(reason)"
        case .unwritable(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }

    public var errorDescription: String? { description }
}
