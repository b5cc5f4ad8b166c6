import Foundation
import Testing
import Tensors
import TestSupport
@testable import Imaging

@Suite struct PNGWriteTests {
    @Test func rgbRoundTripIsExactAfterQuantizing() throws {
        let image = seededUniform([3, 9, 14], seed: 7, low: -1, high: 1)
        let decoded = try PNGImage.decode(PNGImage.encode(image))
        let quantized = image.scalars.map { Float(PNGImage.quantize($0)) / 127.5 - 1 }
        #expect(decoded.shape == [3, 9, 14])
        expectClose(decoded, Tensor(shape: [3, 9, 14], quantized), rtol: 0, atol: 1e-6)
        expectClose(decoded, image, rtol: 0, atol: 1 / 127.5 + 1e-6)
        // A second round trip changes nothing.
        #expect(try PNGImage.decode(PNGImage.encode(decoded)).scalars == decoded.scalars)
    }

    @Test func grayImagesReadBackAsThreeEqualChannels() throws {
        let gray = seededUniform([1, 5, 6], seed: 3)
        let bytes = try PNGImage.encode(gray)
        #expect(PNGBytes.header(bytes)?.colorType == 0)
        let rgb = try PNGImage.decode(bytes)
        #expect(rgb.shape == [3, 5, 6])
        let v = rgb.scalars
        #expect(Array(v[0..<30]) == Array(v[30..<60]) && Array(v[0..<30]) == Array(v[60..<90]))
    }

    @Test func valuesAreClampedAndRounded() throws {
        let image = Tensor(shape: [1, 1, 6], [-3, 2, .nan, 0, -1, 1])
        let back = try PNGImage.decode(PNGImage.encode(image)).scalars
        let expected: [Float] = [-1, 1, -1, 128 / 127.5 - 1, -1, 1]
        #expect(Array(back[0..<6]) == expected)
        #expect(PNGImage.quantize(0) == 128 && PNGImage.quantize(-1) == 0 && PNGImage.quantize(.infinity) == 255)
    }

    @Test func outputIsDeterministicWithoutTimestamps() throws {
        let image = seededUniform([3, 16, 16], seed: 11)
        let a = try PNGImage.encode(image), b = try PNGImage.encode(image.clone())
        #expect(a == b)
        let types = PNGSurgery.chunks(a).map(\.type)
        #expect(types.first == "IHDR" && types.last == "IEND" && !types.contains("tIME") && !types.contains("tEXt"))
    }

    @Test func writesAtomicallyIntoNewFolders() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanUp() }
        let path = folder.path("a/b/c/out.png")
        try PNGImage.write(seededUniform([3, 4, 5], seed: 1), to: path)
        try PNGImage.write(seededUniform([3, 4, 5], seed: 2), to: path)  // replaces
        let back = try PNGImage.read(path: path)
        expectClose(back, seededUniform([3, 4, 5], seed: 2), rtol: 0, atol: 1 / 127.5 + 1e-6)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path("a/b/c"))
        #expect(leftovers == ["out.png"])
    }

    @Test func badShapesAndPathsAreErrors() throws {
        for shape in [[2, 4, 4], [4, 4], [1, 3, 4, 4], [3, 0, 4]] {
            let error = #expect(throws: ImagingError.self) {
                try PNGImage.write(Tensor.zeros(shape), to: "/tmp/imaging-never-written.png")
            }
            #expect("\(error!)".contains("imaging-never-written.png"))
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/imaging-never-written.png"))
        let folder = try TemporaryFolder()
        defer { folder.cleanUp() }
        let file = try folder.write([1, 2, 3], to: "plain-file")
        let inside = file + "/child.png"  // a folder that is a file
        let error = #expect(throws: ImagingError.self) { try PNGImage.write(Tensor.zeros([3, 2, 2]), to: inside) }
        #expect(error?.path == inside)
    }
}
