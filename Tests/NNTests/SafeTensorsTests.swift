import Foundation
import Testing
import Tensors
import TestSupport
@testable import NN

/// The safetensors reader and writer: round trips, hand-built F16/BF16 files, and every kind of
/// malformed file throwing an error that names the file and the problem.
extension NNSuite {
    @Suite("SafeTensors")
    struct SafeTensorsTests {
        /// A fresh empty folder for one test.
        static func folder() throws -> URL {
            let url = FileManager.default.temporaryDirectory
                .appendingPathComponent("nn-tests-\(UUID().uuidString)", isDirectory: true)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            return url
        }

        /// A file's bytes from a header string and a data buffer, with the header length `length`
        /// (by default the header's true length).
        static func file(header: String, data: [UInt8] = [], length: UInt64? = nil) -> Data {
            let h = Array(header.utf8)
            var bytes = Data()
            withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: h)
            bytes.append(contentsOf: data)
            return bytes
        }

        /// Little-endian bytes of Floats.
        static func le(_ values: [Float]) -> [UInt8] {
            values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        }

        @Test("F32 round trip keeps names, shapes, bits and metadata")
        func roundTrip() throws {
            let dir = try Self.folder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let tensors: [(String, Tensor)] = [
                ("z.last", seededNormal([2, 3], seed: 1)),
                ("a.scalar", Tensor(-0.0)),
                ("m.empty", Tensor.zeros([0, 4])),
                ("m.special", Tensor(shape: [4], [.infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude])),
                ("名前 \"quoted\"", Tensor(shape: [1], [3])),
            ]
            let metadata = ["step": "12", "config": "{\"a\": [1, 2]}\n\ttab", "ünïcode": "✓", "ctl": "\u{01}"]
            let url = dir.appendingPathComponent("sub/model.safetensors")
            try SafeTensors.write(tensors, metadata: metadata, to: url)
            let file = try SafeTensors.read(from: url)
            #expect(file.names == tensors.map(\.0).sorted())
            #expect(file.metadata == metadata)
            for (name, t) in tensors {
                let read = try #require(file[name])
                expectBitIdentical(read, t, Comment(rawValue: name))
            }
            // Only the file itself is left in the folder: the temporary file was renamed away.
            #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
                    == ["model.safetensors"])
            // Overwriting replaces the file.
            try SafeTensors.write([("only", Tensor(1))], to: url)
            #expect(try SafeTensors.read(from: url).names == ["only"])
        }

        @Test("writing is deterministic, sorted and 8-byte aligned")
        func layout() throws {
            let a = Tensor(shape: [2], [1, 2]), b = Tensor(shape: [1], [3])
            let one = try SafeTensors.encode([("b", b), ("a", a)], metadata: ["k": "v"])
            let two = try SafeTensors.encode([("a", a), ("b", b)], metadata: ["k": "v"])
            #expect(one == two)
            let n = Int(one.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
            #expect((8 + n) % 8 == 0)
            let header = String(decoding: one[8..<(8 + n)], as: UTF8.self)
            #expect(header.trimmingCharacters(in: .whitespaces)
                    == #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#)
            #expect(Array(one[(8 + n)...]) == Self.le([1, 2, 3]))
        }

        @Test("F16 and BF16 are read and converted exactly")
        func halfPrecision() throws {
            // F16: 1, −2, 0x3555 = (1 + 341/1024)·2⁻², the smallest subnormal 2⁻²⁴, +∞, 65504 (max).
            let f16: [UInt16] = [0x3C00, 0xC000, 0x3555, 0x0001, 0x7C00, 0x7BFF]
            // BF16: 1, −5, 0x3E20 = 2⁻³·1.25.
            let bf16: [UInt16] = [0x3F80, 0xC0A0, 0x3E20]
            let data = (f16 + bf16).flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } } + Self.le([7])
            let header = #"{"h":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"#
                + #""b":{"dtype":"BF16","shape":[3],"data_offsets":[12,18]},"f":{"dtype":"F32","shape":[],"data_offsets":[18,22]}}"#
            let file = try SafeTensors.decode(Self.file(header: header, data: data))
            let h = try #require(file["h"])
            #expect(h.shape == [2, 3])
            #expect(h.scalars == [1, -2, Float((1 + 341.0 / 1024) / 4), Float(pow(2.0, -24)), .infinity, 65504])
            #expect(try #require(file["b"]).scalars == [1, -5, 0.15625])
            #expect(try #require(file["f"]).item == 7)
            #expect(floatFromHalf(0x7E00).isNaN && floatFromHalf(0x8000).sign == .minus)
        }

        /// The corruption cases: a header (and data) and a phrase the error must contain.
        static let corrupt: [(String, Data, String)] = {
            let t = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
            let eight = le([1, 2])
            return [
                ("too short", Data([1, 2, 3]), "too short"),
                ("header longer than the file", file(header: t, data: eight, length: 1000), "exceeds"),
                ("huge header length", file(header: t, data: eight, length: UInt64.max), "implausibly large"),
                ("not JSON", file(header: "hello", data: []), "not valid JSON"),
                ("truncated JSON", file(header: #"{"a":{"dtype":"F32""#, data: []), "not valid JSON"),
                ("not an object", file(header: "[1, 2]", data: []), "not a JSON object"),
                ("offsets beyond the data", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                                                 data: Array(eight.prefix(6))), "beyond the data"),
                ("overlapping", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                                     + #""b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "overlaps"),
                ("gap", file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "gap"),
                ("trailing bytes", file(header: t, data: eight + [0, 0, 0, 0]), "cover 8 bytes"),
                ("size mismatch", file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight), "needs 12 bytes"),
                ("unknown dtype", file(header: #"{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}"#, data: eight), "unknown dtype"),
                ("unsupported dtype", file(header: #"{"a":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}"#, data: eight), "only F32, F16 and BF16"),
                ("duplicate names", file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
                                         + #""a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), "duplicate key \"a\""),
                ("negative offset", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, data: eight), "non-negative integer"),
                ("fractional offset", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8.0]}}"#, data: eight), "non-negative integer"),
                ("three offsets", file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}"#, data: eight), "[begin, end]"),
                ("reversed offsets", file(header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: eight), "end before"),
                ("no dtype", file(header: #"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, data: eight), "has no dtype"),
                ("overflowing shape", file(header: #"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#,
                                           data: eight), "too large"),
                ("non-string metadata", file(header: #"{"__metadata__":{"step":3}}"#), "not a string"),
                ("deep nesting", file(header: String(repeating: "[", count: 200) + String(repeating: "]", count: 200)), "nesting"),
                ("invalid UTF-8", Data([7, 0, 0, 0, 0, 0, 0, 0]) + Data("{\"".utf8) + Data([0xFF]) + Data("\":1}".utf8), "UTF-8"),
                ("control character", file(header: "{\"a\u{01}\":1}"), "control character"),
            ]
        }()

        @Test("every malformed file throws an error naming the file and the problem",
              arguments: 0..<corrupt.count)
        func corruption(_ index: Int) throws {
            let (label, bytes, phrase) = Self.corrupt[index]
            let dir = try Self.folder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let url = dir.appendingPathComponent("bad.safetensors")
            try bytes.write(to: url)
            let error = try #require(throws: SafeTensorsError.self, "\(label)") { try SafeTensors.read(from: url) }
            #expect(error.file == url.path)
            #expect(error.description.contains(url.path))
            #expect(error.problem.contains(phrase), "\(label): \(error.problem)")
        }

        @Test("every truncation and every single-byte change of a valid file is handled without a crash")
        func fuzz() throws {
            let valid = try SafeTensors.encode([("w", seededNormal([3], seed: 1)), ("b", Tensor(2))], metadata: ["k": "v"])
            for n in 0..<valid.count {
                #expect(throws: SafeTensorsError.self) { try SafeTensors.decode(valid.prefix(n)) }
            }
            // Changing any byte either still parses (a data byte, a digit in a name) or throws.
            var parsed = 0
            for i in 0..<valid.count {
                for flip: UInt8 in [0x01, 0x80, 0xFF] {
                    var bytes = valid
                    bytes[i] ^= flip
                    if (try? SafeTensors.decode(bytes)) != nil { parsed += 1 }
                }
            }
            #expect(parsed > 0)   // data-byte changes decode fine
        }

        @Test("a missing file is an error naming it")
        func missingFile() throws {
            let url = URL(fileURLWithPath: "/nonexistent/nn-tests/missing.safetensors")
            let error = try #require(throws: SafeTensorsError.self) { try SafeTensors.read(from: url) }
            #expect(error.description.contains(url.path))
        }

        @Test("writing rejects duplicate and reserved names")
        func writeErrors() {
            #expect(throws: SafeTensorsError.self) { try SafeTensors.encode([("a", Tensor(1)), ("a", Tensor(2))]) }
            #expect(throws: SafeTensorsError.self) { try SafeTensors.encode([("__metadata__", Tensor(1))]) }
        }

        @Test("a writing failure leaves the old file in place")
        func atomicWriteFailure() throws {
            let dir = try Self.folder()
            defer { try? FileManager.default.removeItem(at: dir) }
            // The target is a non-empty folder: the rename fails, and nothing else is left behind.
            let url = dir.appendingPathComponent("blocked.safetensors")
            try FileManager.default.createDirectory(at: url.appendingPathComponent("inside"), withIntermediateDirectories: true)
            let error = try #require(throws: SafeTensorsError.self) { try SafeTensors.write([("a", Tensor(1))], to: url) }
            #expect(error.file == url.path)
            #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["blocked.safetensors"])
        }
    }
}

extension NNSuite.SafeTensorsTests {
    @Test("a module saves and loads itself by name; a mismatch names the file and the tensors")
    func moduleFiles() throws {
        let dir = try Self.folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("m.safetensors")
        var rng = RandomGenerator(seed: 1)
        let a = Linear(inFeatures: 3, outFeatures: 2, rng: &rng), b = Linear(inFeatures: 3, outFeatures: 2, rng: &rng)
        try a.saveSafeTensors(to: url, metadata: ["note": "x"])
        #expect(try b.loadSafeTensors(from: url) == ["note": "x"])
        expectBitIdentical(b.weight, a.weight)
        expectBitIdentical(b.bias!, a.bias!)
        let c = Linear(inFeatures: 4, outFeatures: 2, bias: false, rng: &rng)
        let error = try #require(throws: SafeTensorsError.self) { try c.loadSafeTensors(from: url) }
        #expect(error.file == url.path)
        #expect(error.problem.contains("unexpected bias") && error.problem.contains("weight is [2, 3], expected [2, 4]"))
    }
}
