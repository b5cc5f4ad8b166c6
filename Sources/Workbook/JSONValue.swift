import Foundation

/// A JSON document written the same way every time: keys sorted, numbers in their shortest
/// round-tripping form, two-space indentation. Same values, same bytes.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    /// A number; NaN and infinities are written as `null` (JSON has no spelling for them).
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// A Float as the decimal it prints as (`0.1`, not `0.10000000149011612`).
    public static func number(_ value: Float) -> JSONValue {
        guard value.isFinite else { return .null }
        return .number(Double(value.description) ?? Double(value))
    }

    /// A number rounded to `digits` decimals: timings in milliseconds, say.
    public static func number(_ value: Double, decimals digits: Int) -> JSONValue {
        let scale = pow(10, Double(digits))
        return .number((value * scale).rounded() / scale)
    }

    /// The document as text, ending with a newline.
    public func rendered() -> String {
        var out = ""
        write(to: &out, indent: "")
        return out + "\n"
    }

    private func write(to out: inout String, indent: String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let x): out += Self.format(x)
        case .string(let s): Self.quote(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            if items.allSatisfy(\.isScalar) {
                out += "["
                for (i, item) in items.enumerated() {
                    if i > 0 { out += ", " }
                    item.write(to: &out, indent: indent)
                }
                out += "]"
                return
            }
            let inner = indent + "  "
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += inner
                item.write(to: &out, indent: inner)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            let inner = indent + "  "
            out += "{\n"
            let keys = members.keys.sorted()
            for (i, key) in keys.enumerated() {
                out += inner
                Self.quote(key, into: &out)
                out += ": "
                members[key]!.write(to: &out, indent: inner)  // invariant: key comes from members
                out += i == keys.count - 1 ? "\n" : ",\n"
            }
            out += indent + "}"
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    /// Swift's shortest round-trip spelling, which is also valid JSON (`1.5`, `1e-05`, `2.0`).
    private static func format(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == 0 { return "0.0" }  // also for -0.0
        return x.description
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

/// Values a chapter can record as a metric without spelling out a `JSONValue`.
public protocol JSONRepresentable {
    var json: JSONValue { get }
}

extension JSONValue: JSONRepresentable { public var json: JSONValue { self } }
extension Int: JSONRepresentable { public var json: JSONValue { .int(self) } }
extension UInt64: JSONRepresentable {
    /// A number when it fits an Int, else its decimal digits as a string.
    public var json: JSONValue { self <= UInt64(Int.max) ? .int(Int(self)) : .string(String(self)) }
}
extension Double: JSONRepresentable { public var json: JSONValue { .number(self) } }
extension Float: JSONRepresentable { public var json: JSONValue { .number(self) } }
extension Bool: JSONRepresentable { public var json: JSONValue { .bool(self) } }
extension String: JSONRepresentable { public var json: JSONValue { .string(self) } }
extension Array: JSONRepresentable where Element: JSONRepresentable {
    public var json: JSONValue { .array(map(\.json)) }
}
extension Dictionary: JSONRepresentable where Key == String, Value: JSONRepresentable {
    public var json: JSONValue { .object(mapValues(\.json)) }
}
