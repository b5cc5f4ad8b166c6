/// What a node, edge, cluster or graph shows as its label.
public enum Label: Hashable, Sendable, ExpressibleByStringLiteral {
    /// Plain text; `\n` in the string starts a new (centred) line.
    case text(String)
    /// A record label (for nodes of shape `record` or `Mrecord`): fields side by side, with
    /// `RecordField.group` switching between horizontal and vertical.
    case record([RecordField])
    /// An HTML-like label: the markup between Graphviz's `<` and `>`, written as given.
    /// Use `Label.htmlEscaped(_:)` for any text placed inside it.
    case html(String)

    public init(stringLiteral value: String) { self = .text(value) }

    /// A record whose fields stack top to bottom in a top-to-bottom graph (`{ a | b | c }`).
    public static func stacked(_ fields: [String]) -> Label {
        .record([.group(fields.map { .text($0) })])
    }

    /// A record whose fields sit side by side in a top-to-bottom graph (`a | b | c`).
    public static func row(_ fields: [String]) -> Label {
        .record(fields.map { .text($0) })
    }

    /// `text` escaped for use inside an HTML-like label.
    public static func htmlEscaped(_ text: String) -> String { DotEscaping.html(text) }

    /// The label as a DOT attribute value (quoted string, or `<…>` for HTML).
    var dotValue: String {
        switch self {
        case .text(let text): return DotEscaping.quotedText(text)
        case .record(let fields): return "\"" + fields.map(\.dotText).joined(separator: " | ") + "\""
        case .html(let markup): return "<" + markup + ">"
        }
    }
}

/// One field of a record label. Fields at the top level run across the node in a top-to-bottom
/// graph; a `group` turns its fields through 90°, and groups can nest.
public indirect enum RecordField: Hashable, Sendable, ExpressibleByStringLiteral {
    /// Text, optionally with a port name that edges can attach to (`tailport`/`headport`).
    case text(String, port: String? = nil)
    /// Fields laid out perpendicular to the enclosing level (`{ … }` in DOT).
    case group([RecordField])

    public init(stringLiteral value: String) { self = .text(value) }

    var dotText: String {
        switch self {
        case .text(let text, let port):
            let body = DotEscaping.recordFieldText(text)
            guard let port else { return body }
            return "<" + DotEscaping.recordFieldText(port) + "> " + body
        case .group(let fields):
            return "{ " + fields.map(\.dotText).joined(separator: " | ") + " }"
        }
    }
}
