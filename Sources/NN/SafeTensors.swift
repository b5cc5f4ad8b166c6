import Foundation
import Tensors

/// Reading and writing the safetensors format (huggingface/safetensors): a simple, safe container
/// for named tensors, the file format of our checkpoints.
///
/// A file is 8 bytes little-endian u64 N, N bytes of JSON header (see `SafeTensorsHeader`), then
/// the raw little-endian data. We write F32 only, deterministically: names sorted, data in that
/// order, no timestamps, the header padded with spaces so the data starts 8-byte aligned, as the
/// reference implementation does. We read F32, F16 and BF16 (converted to Float). Any malformed
/// file gives a `SafeTensorsError` naming it, never a crash: every length and offset is checked
/// before a byte is read.
public enum SafeTensors {
    /// Reads every tensor and the metadata of the file at `url`.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw SafeTensorsError(file: url.path, problem: "cannot be read (\(error.localizedDescription))")
        }
        return try decode(data, source: url.path)
    }

    /// Decodes a whole file's bytes; `source` names them in errors.
    public static func decode(_ data: Data, source: String = "in memory") throws -> SafeTensorsFile {
        func problem(_ message: String) -> SafeTensorsError { SafeTensorsError(file: source, problem: message) }
        return try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) throws -> SafeTensorsFile in
            guard raw.count >= 8 else {
                throw problem("it is \(raw.count) bytes long, too short for the 8-byte header length")
            }
            let declared = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            guard declared <= UInt64(SafeTensorsHeader.maximumLength) else {
                throw problem("its header length \(declared) is implausibly large (limit \(SafeTensorsHeader.maximumLength) bytes)")
            }
            let headerLength = Int(declared)
            guard headerLength <= raw.count - 8 else {
                throw problem("its header length \(headerLength) exceeds the \(raw.count - 8) bytes after it "
                              + "(is the file truncated?)")
            }
            let headerBytes = Array(raw[8..<(8 + headerLength)])
            let json: JSONValue
            do {
                json = try JSONParser.parse(headerBytes)
            } catch let e as JSONSyntaxError {
                throw problem("its header is not valid JSON: \(e.message) at byte \(8 + e.offset)")
            }
            let dataStart = 8 + headerLength
            let header: SafeTensorsHeader
            do {
                header = try SafeTensorsHeader(json: json, bufferLength: raw.count - dataStart)
            } catch let e as HeaderProblem {
                throw problem(e.message)
            }
            let tensors = header.entries.map { e in
                (name: e.name, tensor: tensor(e, from: UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])))
            }
            return SafeTensorsFile(tensors: tensors, metadata: header.metadata)
        }
    }

    /// Converts one tensor's bytes (already checked to be exactly its size) to Float.
    private static func tensor(_ e: SafeTensorsHeader.Entry, from bytes: UnsafeRawBufferPointer) -> Tensor {
        Tensor.make(e.shape) { out in
            switch e.dtype {
            case .f32:
                for i in out.indices {
                    out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
            case .f16:
                for i in out.indices {
                    out[i] = floatFromHalf(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in out.indices {
                    out[i] = floatFromBFloat16(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            }
        }
    }

    // MARK: Writing

    /// The header bytes (length prefix included) for `tensors` sorted by name, and that order.
    private static func header(_ tensors: [(String, Tensor)], metadata: [String: String],
                               source: String) throws -> (bytes: Data, order: [(String, Tensor)]) {
        var names = Set<String>()
        for (name, _) in tensors {
            guard name != "__metadata__" else {
                throw SafeTensorsError(file: source, problem: "\"__metadata__\" cannot name a tensor")
            }
            guard names.insert(name).inserted else {
                throw SafeTensorsError(file: source, problem: "tensor name \"\(name)\" is given twice")
            }
        }
        let sorted = tensors.sorted { $0.0 < $1.0 }
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { jsonQuoted($0) + ":" + jsonQuoted(metadata[$0]!) } // invariant: key from keys
            parts.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, t) in sorted {
            let end = offset + 4 * t.count
            parts.append(jsonQuoted(name) + ":{\"dtype\":\"F32\",\"shape\":["
                         + t.shape.map(String.init).joined(separator: ",")
                         + "],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        var json = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        // Pad with spaces so that the data begins at a multiple of 8 bytes.
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        var bytes = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: json)
        return (bytes, sorted)
    }

    /// One tensor's values as little-endian F32 bytes.
    private static func bytes(of t: Tensor) -> Data {
        t.withUnsafeBufferPointer { values in
            #if _endian(little)
            return Data(buffer: values)
            #else
            var d = Data(capacity: 4 * values.count)
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
            return d
            #endif
        }
    }

    /// The whole file's bytes for `tensors` (as F32) and `metadata`.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String] = [:]) throws -> Data {
        var (data, order) = try header(tensors, metadata: metadata, source: "in memory")
        for (_, t) in order { data.append(bytes(of: t)) }
        return data
    }

    /// Writes `tensors` (as F32) and `metadata` to `url` atomically: into a temporary file in the
    /// same folder, flushed to disk, then renamed over `url`, so a reader (or a run killed
    /// mid-write) sees the old file or the new one, never half of one. Creates the folder.
    public static func write(_ tensors: [(String, Tensor)], metadata: [String: String] = [:], to url: URL) throws {
        let (head, order) = try header(tensors, metadata: metadata, source: url.path)
        try AtomicFileWrite.write(to: url) { handle in
            try handle.write(contentsOf: head)
            for (_, t) in order { try handle.write(contentsOf: bytes(of: t)) }
        }
    }

    /// `write` for a dictionary of tensors.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try write(tensors.map { ($0.key, $0.value) }, metadata: metadata, to: url)
    }
}

/// The contents of a safetensors file: tensors in data order, and string metadata.
public struct SafeTensorsFile {
    public var tensors: [(name: String, tensor: Tensor)]
    public var metadata: [String: String]

    public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The tensor called `name`, if present.
    public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

    /// The tensors by name.
    public var dictionary: [String: Tensor] {
        Dictionary(tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }

    /// The tensor names, in data order.
    public var names: [String] { tensors.map(\.name) }
}

/// Atomic file replacement: write a temporary file beside the target, flush it, rename it over.
enum AtomicFileWrite {
    static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let folder = url.deletingLastPathComponent()
        func failure(_ what: String) -> SafeTensorsError { SafeTensorsError(file: url.path, problem: what) }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw failure("cannot create its folder (\(error.localizedDescription))")
        }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw failure("cannot create the temporary file \(temporary.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temporary)
            do {
                try body(handle)
                try handle.synchronize()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw failure("cannot be written (\(error.localizedDescription))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw failure("cannot move the temporary file into place (\(reason))")
        }
    }
}
