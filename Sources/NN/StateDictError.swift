import Foundation
import Tensors

/// Why a set of named tensors does not fit a module (or an optimizer): which names are missing,
/// which were not expected, and which have the wrong shape, all in one message.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
    /// One tensor whose saved shape differs from the one expected.
    public struct ShapeMismatch: Equatable, Sendable {
        public var name: String
        public var expected: [Int]
        public var found: [Int]
    }

    /// What was being loaded, e.g. "state dict of VQModel" or "optimizer state".
    public var context: String
    public var missing: [String]
    public var unexpected: [String]
    public var wrongShapes: [ShapeMismatch]
    /// Any other problem with the values (e.g. an optimizer step count that is not an integer).
    public var note: String?

    public init(context: String, missing: [String] = [], unexpected: [String] = [],
                wrongShapes: [ShapeMismatch] = [], note: String? = nil) {
        self.context = context
        self.missing = missing
        self.unexpected = unexpected
        self.wrongShapes = wrongShapes
        self.note = note
    }

    /// Compares `given` with what `expected` needs. With `strict` false, missing and unexpected
    /// names are allowed (wrong shapes never are). Nil when everything fits.
    static func check(_ given: [String: Tensor], against expected: [(String, Tensor)],
                      strict: Bool, context: String) -> StateDictError? {
        var missing: [String] = [], wrong: [ShapeMismatch] = []
        var expectedNames = Set<String>()
        for (name, t) in expected {
            expectedNames.insert(name)
            if let g = given[name] {
                if g.shape != t.shape { wrong.append(ShapeMismatch(name: name, expected: t.shape, found: g.shape)) }
            } else if strict {
                missing.append(name)
            }
        }
        let unexpected = strict ? given.keys.filter { !expectedNames.contains($0) }.sorted() : []
        if missing.isEmpty && unexpected.isEmpty && wrong.isEmpty { return nil }
        return StateDictError(context: context, missing: missing, unexpected: unexpected, wrongShapes: wrong)
    }

    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing \(Self.list(missing))") }
        if !unexpected.isEmpty { parts.append("unexpected \(Self.list(unexpected))") }
        if !wrongShapes.isEmpty {
            let shapes = wrongShapes.map { "\($0.name) is \($0.found), expected \($0.expected)" }
            parts.append("wrong shape: \(Self.list(shapes))")
        }
        if let note { parts.append(note) }
        return "cannot load \(context): " + parts.joined(separator: "; ")
    }

    /// "a, b, c" — at most 10 items, then "and N more".
    private static func list(_ items: [String]) -> String {
        let shown = items.prefix(10).joined(separator: ", ")
        return items.count > 10 ? shown + " and \(items.count - 10) more" : shown
    }
}

extension Module {
    /// Copies saved tensors into this module's parameters and buffers, by name.
    ///
    /// Nothing is copied unless everything fits: with `strict` (the default) the names must match
    /// exactly; without it, missing and unexpected names are skipped. A shape mismatch is always
    /// an error. The error lists every problem at once.
    public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true) throws {
        let own = stateDict()
        if let error = StateDictError.check(tensors, against: own, strict: strict,
                                            context: "state dict of \(kind)") { throw error }
        withNoGrad {
            for (name, t) in own { if let saved = tensors[name] { t.copy(from: saved) } }
        }
    }

    /// `loadStateDict` for a list of named tensors (a later duplicate name wins).
    public func loadStateDict(_ tensors: [(String, Tensor)], strict: Bool = true) throws {
        try loadStateDict(Dictionary(tensors, uniquingKeysWith: { _, last in last }), strict: strict)
    }
}

extension StateDictError: LocalizedError {
    public var errorDescription: String? { description }
}
