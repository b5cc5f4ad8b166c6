import Foundation
import Testing
@testable import Imaging

/// Bad files give an `ImagingError` naming the file: never a crash, never a giant allocation.
@Suite struct PNGErrorTests {
    let valid = TestPNG.pattern(.rgb, bitDepth: 8).encode()

    /// Reads `bytes` from a file and returns the error, checking it names the file.
    func readError(_ bytes: [UInt8], labels: Bool = false, maxPixels: Int = PNGImage.defaultPixelLimit,
                   sourceLocation: SourceLocation = #_sourceLocation) throws -> ImagingError? {
        let folder = try TemporaryFolder()
        defer { folder.cleanUp() }
        let path = try folder.write(bytes, to: "input file.png")
        do {
            if labels { _ = try PNGImage.readLabels(path: path, maxPixels: maxPixels) } else {
                _ = try PNGImage.read(path: path, maxPixels: maxPixels)
            }
            Issue.record("no error for \(path)", sourceLocation: sourceLocation)
            return nil
        } catch let error as ImagingError {
            #expect(error.path == path, sourceLocation: sourceLocation)
            #expect("\(error)".contains(path), sourceLocation: sourceLocation)
            #expect(error.localizedDescription.contains(path), sourceLocation: sourceLocation)
            return error
        }
    }

    @Test func missingFile() throws {
        let path = "/nonexistent-folder/missing.png"
        #expect(throws: ImagingError.unreadable(path: path, reason: "no such file")) { try PNGImage.read(path: path) }
        #expect(throws: ImagingError.self) { try PNGImage.readLabels(path: path) }
    }

    @Test func folderInsteadOfFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanUp() }
        let error = #expect(throws: ImagingError.self) { try PNGImage.read(path: folder.url.path) }
        #expect("\(error!)".contains(folder.url.path) && "\(error!)".contains("folder"))
    }

    @Test func emptyFile() throws {
        let error = try readError([])
        #expect(error.map { if case .empty = $0 { true } else { false } } == true)
    }

    @Test func notAPNG() throws {
        let error = try readError(Array("GIF89a, or a text file that happens to be called .png".utf8))
        #expect(error.map { if case .notPNG = $0 { true } else { false } } == true)
        let jpegStart = try readError([0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 0x4A, 0x46, 0x49, 0x46])
        #expect(jpegStart.map { if case .notPNG = $0 { true } else { false } } == true)
    }

    @Test(arguments: [8, 20, 40, 60, 0.5, 0.9] as [Double])
    func truncatedFile(_ keep: Double) throws {
        let count = keep >= 1 ? Int(keep) : Int(Double(valid.count) * keep)
        let error = try readError(Array(valid.prefix(count)))
        #expect(error != nil)
    }

    @Test func damagedImageData() throws {
        // A flipped byte inside IDAT fails the chunk's CRC.
        let idat = try #require(PNGSurgery.chunks(valid).first { $0.type == "IDAT" })
        var flipped = valid
        flipped[idat.offset + 8 + idat.length / 2] ^= 0x5A
        let crcError = try readError(flipped)
        #expect(crcError.map { if case .corrupt = $0 { true } else { false } } == true)
        // The same damage with a matching CRC is caught by the decompressor instead.
        var garbage = valid
        for k in 2..<idat.length { garbage[idat.offset + 8 + k] = UInt8(truncatingIfNeeded: k &* 73) }
        PNGSurgery.fixCRC(&garbage, chunkAt: idat.offset)
        #expect(try readError(garbage) != nil)
        // A broken header chunk.
        var header = valid
        header[25] = 5  // no such colour type
        PNGSurgery.fixCRC(&header, chunkAt: 8)
        #expect(try readError(header) != nil)
    }

    @Test func absurdDeclaredSizeIsRefusedBeforeAllocating() throws {
        let huge = PNGSurgery.withDeclaredSize(valid, width: 200_000, height: 200_000)
        let error = try readError(huge)
        #expect(error == .tooLarge(path: error?.path ?? "", width: 200_000, height: 200_000,
                                   limit: PNGImage.defaultPixelLimit))
        #expect(try readError(huge, labels: true) != nil)
        // A caller's lower limit applies too.
        let limited = try readError(valid, maxPixels: 50)
        #expect(limited.map { if case .tooLarge = $0 { true } else { false } } == true)
    }

    @Test func randomDamageNeverCrashes() throws {
        // Deterministic single-byte damage all over a small file: each decode either succeeds
        // or throws an ImagingError naming the data.
        let png = TestPNG.pattern(.palette, bitDepth: 4, interlaced: true, withTRNS: true).encode()
        var state: UInt64 = 12345
        for _ in 0..<300 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var damaged = png
            let position = 8 + Int(state >> 33) % (png.count - 8)
            damaged[position] ^= UInt8(truncatingIfNeeded: (state >> 20) | 1)
            do { _ = try PNGImage.decode(damaged, name: "damaged") } catch let error as ImagingError {
                #expect(error.path == "damaged")
            }
            do { _ = try PNGImage.decodeLabels(damaged, name: "damaged") } catch let error as ImagingError {
                #expect(error.path == "damaged")
            }
        }
    }
}
