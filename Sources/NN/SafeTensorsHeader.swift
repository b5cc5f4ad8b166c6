/// The header of a safetensors file, checked against the data it describes.
///
/// Layout: 8 bytes little-endian u64 N, then N bytes of JSON
/// `{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, …,
///   "__metadata__": {"key": "value", …}}`, then the data buffer; offsets count from its start.
/// Like the reference implementation we insist that the tensors tile the buffer exactly: sorted by
/// offset, each begins where the previous ends, the first at 0 and the last at the buffer's end,
/// and each spans exactly shape·element-size bytes. So no byte is read twice or left unexplained.
struct SafeTensorsHeader {
    /// Element types we read (and, for F32, write).
    enum DType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
        var byteSize: Int { self == .f32 ? 4 : 2 }
    }

    struct Entry {
        var name: String
        var dtype: DType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// The tensors, in data order.
    var entries: [Entry]
    var metadata: [String: String]

    /// Dtypes of the format that we recognise but do not convert.
    static let otherDTypes: Set<String> = ["F64", "I64", "I32", "I16", "I8", "U64", "U32", "U16", "U8",
                                            "BOOL", "F8_E4M3", "F8_E5M2", "C64"]

    /// Largest header we accept, as the reference implementation (100 MB).
    static let maximumLength = 100_000_000

    /// Validates a parsed header for a data buffer of `bufferLength` bytes; errors are messages.
    init(json: JSONValue, bufferLength: Int) throws {
        guard case .object(let members) = json else { throw HeaderProblem("the header is not a JSON object") }
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw HeaderProblem("__metadata__ is not an object") }
                for (key, v) in pairs {
                    guard case .string(let s) = v else { throw HeaderProblem("metadata value for \"\(key)\" is not a string") }
                    metadata[key] = s
                }
                continue
            }
            entries.append(try Self.entry(name, value))
        }
        // The tensors must tile the data buffer exactly.
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expected = 0
        var previous: String?
        for e in entries {
            guard e.end <= bufferLength else {
                throw HeaderProblem("tensor \"\(e.name)\" has data_offsets [\(e.begin), \(e.end)] beyond the data "
                                    + "buffer's \(bufferLength) bytes (is the file truncated?)")
            }
            if e.begin < expected {
                throw HeaderProblem("tensor \"\(e.name)\" overlaps tensor \"\(previous ?? "")\" "
                                    + "(begins at byte \(e.begin), before \(expected))")
            }
            if e.begin > expected {
                throw HeaderProblem("tensor \"\(e.name)\" begins at byte \(e.begin), leaving a gap after byte "
                                    + "\(expected): the data is not contiguous")
            }
            expected = e.end
            previous = e.name
        }
        guard expected == bufferLength else {
            throw HeaderProblem("the tensors cover \(expected) bytes but the data buffer holds \(bufferLength)")
        }
        self.entries = entries
        self.metadata = metadata
    }

    /// One tensor's entry, checked on its own.
    private static func entry(_ name: String, _ value: JSONValue) throws -> Entry {
        guard case .object(let fields) = value else { throw HeaderProblem("entry \"\(name)\" is not an object") }
        func field(_ key: String) throws -> JSONValue {
            guard let v = fields.first(where: { $0.key == key })?.value else {
                throw HeaderProblem("tensor \"\(name)\" has no \(key)")
            }
            return v
        }
        guard case .string(let dtypeName) = try field("dtype") else {
            throw HeaderProblem("tensor \"\(name)\" has a dtype that is not a string")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            if otherDTypes.contains(dtypeName) {
                throw HeaderProblem("tensor \"\(name)\" has dtype \(dtypeName); only F32, F16 and BF16 can be read")
            }
            throw HeaderProblem("tensor \"\(name)\" has unknown dtype \"\(dtypeName)\"")
        }
        let shape = try integers(try field("shape"), "shape of tensor \"\(name)\"")
        let offsets = try integers(try field("data_offsets"), "data_offsets of tensor \"\(name)\"")
        guard offsets.count == 2 else {
            throw HeaderProblem("data_offsets of tensor \"\(name)\" must be [begin, end], got \(offsets.count) numbers")
        }
        guard offsets[0] <= offsets[1] else {
            throw HeaderProblem("data_offsets of tensor \"\(name)\" end before they begin: \(offsets)")
        }
        var count = 1
        for d in shape {
            let (c, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw HeaderProblem("shape \(shape) of tensor \"\(name)\" is too large") }
            count = c
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes == offsets[1] - offsets[0] else {
            throw HeaderProblem("tensor \"\(name)\" of shape \(shape) and dtype \(dtypeName) needs "
                                + "\(overflow ? "too many" : String(bytes)) bytes, but its data_offsets "
                                + "[\(offsets[0]), \(offsets[1])] span \(offsets[1] - offsets[0])")
        }
        return Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1])
    }

    /// A JSON array of non-negative integers.
    private static func integers(_ value: JSONValue, _ what: String) throws -> [Int] {
        guard case .array(let items) = value else { throw HeaderProblem("\(what) is not an array") }
        var result: [Int] = []
        for item in items {
            guard case .number(let text) = item, let n = Int(text), n >= 0 else {
                throw HeaderProblem("\(what) holds something other than a non-negative integer")
            }
            result.append(n)
        }
        return result
    }
}

/// A problem with a header, before the file's name is attached.
struct HeaderProblem: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
