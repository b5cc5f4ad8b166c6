import Foundation
import Testing
import Tensors
import TestSupport
@testable import Imaging

/// Every kind of PNG a user may bring decodes to the expected [3, H, W] values.
@Suite struct PNGReadTests {
    static let cases: [TestPNG] = [
        .pattern(.gray, bitDepth: 1), .pattern(.gray, bitDepth: 2), .pattern(.gray, bitDepth: 4),
        .pattern(.gray, bitDepth: 8), .pattern(.gray, bitDepth: 16),
        .pattern(.gray, bitDepth: 8, withTRNS: true), .pattern(.gray, bitDepth: 16, withTRNS: true),
        .pattern(.grayAlpha, bitDepth: 8), .pattern(.grayAlpha, bitDepth: 16),
        .pattern(.palette, bitDepth: 1), .pattern(.palette, bitDepth: 2),
        .pattern(.palette, bitDepth: 4, withTRNS: true), .pattern(.palette, bitDepth: 8, withTRNS: true),
        .pattern(.rgb, bitDepth: 8), .pattern(.rgb, bitDepth: 16), .pattern(.rgb, bitDepth: 8, withTRNS: true),
        .pattern(.rgba, bitDepth: 8), .pattern(.rgba, bitDepth: 16),
        // Adam7 interlacing, on a 13 × 7 image so that passes are partly empty.
        .pattern(.gray, bitDepth: 1, interlaced: true), .pattern(.palette, bitDepth: 4, interlaced: true, withTRNS: true),
        .pattern(.rgb, bitDepth: 16, interlaced: true), .pattern(.rgba, bitDepth: 8, interlaced: true),
        .pattern(.grayAlpha, bitDepth: 16, interlaced: true),
    ]

    @Test(arguments: cases)
    func decodesEveryColorTypeAndBitDepth(_ png: TestPNG) throws {
        let bytes = png.encode()
        #expect(PNGBytes.header(bytes)?.bitDepth == png.bitDepth)
        let image = try PNGImage.decode(bytes, name: "\(png)")
        #expect(image.shape == [3, png.height, png.width])
        // 16-bit files keep 16-bit precision: the tolerance is far below one 8-bit step (2/255).
        let tolerance: Float = png.bitDepth == 16 ? 1e-4 : 1e-6
        expectClose(image, Tensor(shape: [3, png.height, png.width], png.expected), rtol: 0, atol: tolerance,
                    "\(png)")
    }

    @Test func sixteenBitValuesAreNotRoundedToEightBits() throws {
        var png = TestPNG(kind: .gray, bitDepth: 16, width: 3, height: 1)
        png.samples = [0x8000, 0x8040, 0x80C0]  // all three round to the same 8-bit value
        let values = try PNGImage.decode(png.encode()).scalars
        #expect(values[0] < values[1] && values[1] < values[2])
        #expect(Swift.abs(values[1] - (Float(0x8040) / 32767.5 - 1)) < 1e-6)
    }

    @Test func translucentPixelsAreCompositedOverWhite() throws {
        // Black at alpha 0, ¼, ½, ¾, 1 in a 16-bit gray + alpha file: c·a + (1 − a).
        var png = TestPNG(kind: .grayAlpha, bitDepth: 16, width: 5, height: 1)
        let alphas = [0, 16384, 32768, 49152, 65535]
        png.samples = alphas.flatMap { [0, $0] }
        let values = try PNGImage.decode(png.encode()).scalars
        for (i, a) in alphas.enumerated() {
            let expected = 2 * (1 - Float(a) / 65535) - 1
            #expect(Swift.abs(values[i] - expected) < 1e-4, "alpha \(a)")
        }
        // 8-bit: libpng composites; fully transparent is white, opaque is the colour, and a
        // half-transparent black lies strictly between.
        var png8 = TestPNG(kind: .rgba, bitDepth: 8, width: 3, height: 1)
        png8.samples = [0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 128]
        let v8 = try PNGImage.decode(png8.encode())
        #expect(v8[0, 0, 0] == 1 && v8[1, 0, 0] == 1 && v8[2, 0, 0] == 1)
        #expect(v8[0, 0, 1] == -1)
        #expect(v8[0, 0, 2] > -0.9 && v8[0, 0, 2] < 0.9)
    }

    @Test func colorSpaceChunksDoNotChangeStoredValues() throws {
        // A file written by our writer carries an sRGB chunk; one with a gAMA of 1.0 would be
        // gamma-converted by libpng if the chunk were kept. Values must read as stored either way.
        let png = TestPNG.pattern(.rgb, bitDepth: 8)
        let plain = png.encode()
        var withGamma = Array(plain.prefix(33))  // signature + IHDR
        let gAMA: [UInt8] = [0, 0, 0, 4] + Array("gAMA".utf8) + [0, 1, 0x86, 0xA0] + [0, 0, 0, 0]  // gamma 1.0
        withGamma += gAMA
        PNGSurgery.fixCRC(&withGamma, chunkAt: 33)
        withGamma += plain[33...]
        #expect(try PNGImage.decode(withGamma).scalars == PNGImage.decode(plain).scalars)
        #expect(PNGBytes.removingColorSpaceChunks(withGamma) == plain)
    }

    @Test func readsFromAFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.cleanUp() }
        let png = TestPNG.pattern(.palette, bitDepth: 8, withTRNS: true)
        let path = try folder.write(png.encode(), to: "photo.png")
        let image = try PNGImage.read(path: path)
        expectClose(image, Tensor(shape: [3, png.height, png.width], png.expected), rtol: 0, atol: 1e-6)
    }
}
