/// Escaping of text for the places it can appear in DOT source.
///
/// DOT has three layers: the quoted string (only `\"` is special to the parser), Graphviz's
/// "escString" processing of labels (`\n`, `\l`, `\N`, `\\`, …), and for record labels the field
/// syntax (`{ } | < >` separate fields and ports). Each function below escapes exactly what its
/// layer needs, so any text a learner passes shows up literally in the picture.
enum DotEscaping {
    /// An identifier (node, graph or attribute name): bare when DOT allows it (`conv_in`, `0.5`),
    /// otherwise a quoted string. Bare names keep the committed `.dot` files easy to read.
    static func id(_ id: String) -> String {
        isBare(id) ? id : quotedID(id)
    }

    /// An attribute value: bare when it is a plain name or number, else quoted label text.
    static func value(_ text: String) -> String {
        isBare(text) ? text : quotedText(text)
    }

    /// An identifier as a quoted DOT string.
    static func quotedID(_ id: String) -> String {
        var out = "\""
        for character in id {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": break
            default: out.append(character)
            }
        }
        return out + "\""
    }

    /// Label text (an escString) as a quoted DOT string: backslashes and quotes escaped, line
    /// breaks as centred `\n` breaks.
    static func quotedText(_ text: String) -> String {
        "\"" + escapeText(text, recordSyntax: false) + "\""
    }

    /// The text of one record field: like label text, plus the record field separators.
    static func recordFieldText(_ text: String) -> String {
        escapeText(text, recordSyntax: true)
    }

    /// Text for an HTML-like label: the XML entities, so the text is never read as markup.
    static func html(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n": out += "<br/>"
            default: out.append(character)
            }
        }
        return out
    }

    private static let keywords: Set<String> = ["node", "edge", "graph", "digraph", "subgraph", "strict"]

    /// Whether DOT reads `text` as one bare ID: a name of letters, digits and `_` not starting
    /// with a digit (and not a keyword), or a plain decimal number.
    private static func isBare(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first else { return false }
        let scalars = text.unicodeScalars
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.isASCII && c.properties.isAlphabetic) }
        func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
        if isNameStart(first) {
            return scalars.allSatisfy { isNameStart($0) || isDigit($0) } && !keywords.contains(text.lowercased())
        }
        let body = first == "-" ? Substring(text.dropFirst()) : Substring(text)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard !body.isEmpty, parts.count <= 2, parts.contains(where: { !$0.isEmpty }) else { return false }
        return parts.allSatisfy { $0.unicodeScalars.allSatisfy(isDigit) }
    }

    private static func escapeText(_ text: String, recordSyntax: Bool) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": break
            case "{", "}", "|", "<", ">":
                if recordSyntax { out += "\\" }
                out.append(character)
            default: out.append(character)
            }
        }
        return out
    }
}
