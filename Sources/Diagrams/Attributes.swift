/// An ordered set of Graphviz attributes (`name="value"`). Keeps the order keys were first set,
/// so the DOT text is the same on every run; setting a key again replaces its value in place.
public struct Attributes: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    private var keys: [String] = []
    private var values: [String: String] = [:]

    public init() {}

    public init(dictionaryLiteral elements: (String, String)...) {
        for (key, value) in elements { self[key] = value }
    }

    /// The value of `key`, or nil; assigning nil removes the key.
    public subscript(key: String) -> String? {
        get { values[key] }
        set {
            if let newValue {
                if values.updateValue(newValue, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// The pairs in the order they were first set.
    public var pairs: [(key: String, value: String)] { keys.map { ($0, values[$0]!) } } // invariant: keys and values hold the same keys

    /// `other`'s values override ours; new keys go at the end.
    public func merging(_ other: Attributes) -> Attributes {
        var merged = self
        merged.merge(other)
        return merged
    }

    /// Sets every pair of `other`, overriding values we already have.
    public mutating func merge(_ other: Attributes) {
        for (key, value) in other.pairs { self[key] = value }
    }

    /// `name="value"` items, ready to join inside `[ … ]`.
    func dotItems(label: Label? = nil) -> [String] {
        var items = pairs.map { DotEscaping.id($0.key) + "=" + DotEscaping.value($0.value) }
        if let label { items.append("label=" + label.dotValue) }
        return items
    }
}
