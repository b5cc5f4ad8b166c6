import Foundation
import Testing
import Tensors
@testable import Imaging

@Suite struct LabelMapTests {
    @Test(arguments: [2, 5, 17, 256])
    func writeThenReadIsExact(_ classes: Int) throws {
        var rng = RandomGenerator(seed: UInt64(classes))
        let labels = (0..<(23 * 11)).map { _ in UInt8(rng.int(below: classes)) }
        let map = LabelMap(width: 23, height: 11, labels: labels)
        let folder = try TemporaryFolder()
        defer { folder.cleanUp() }
        let path = folder.path("maps/segmentation.png")
        try PNGImage.writeLabels(map, to: path)
        #expect(try PNGImage.readLabels(path: path) == map)
        let bytes = try PNGImage.encodeLabels(map)
        #expect(PNGBytes.header(bytes)?.colorType == 3)  // palette
        #expect(bytes == (try PNGImage.encodeLabels(map)))
    }

    @Test func labelFilesLookLikeThePalette() throws {
        let map = LabelMap(width: 3, height: 1, labels: [0, 1, 2])
        let picture = try PNGImage.decode(PNGImage.encodeLabels(map))
        let expected = colorize(map)
        #expect(picture.shape == expected.shape)
        for (a, b) in zip(picture.scalars, expected.scalars) { #expect(Swift.abs(a - b) < 1e-6) }
    }

    @Test(arguments: [1, 2, 4, 8])
    func grayFilesGiveStoredValuesUnscaled(_ depth: Int) throws {
        let png = TestPNG.pattern(.gray, bitDepth: depth)
        let map = try PNGImage.decodeLabels(png.encode())
        #expect(map.width == png.width && map.height == png.height)
        #expect(map.labels == png.samples.map { UInt8($0) })
    }

    @Test(arguments: [1, 2, 4, 8])
    func paletteFilesGiveTheirIndices(_ depth: Int) throws {
        let png = TestPNG.pattern(.palette, bitDepth: depth, interlaced: depth == 4, withTRNS: depth >= 4)
        let map = try PNGImage.decodeLabels(png.encode())
        #expect(map.labels == png.samples.map { UInt8($0) })
    }

    @Test func colourFilesAreNotLabelMaps() throws {
        for png in [TestPNG.pattern(.rgb, bitDepth: 8), .pattern(.grayAlpha, bitDepth: 8), .pattern(.gray, bitDepth: 16)] {
            let error = #expect(throws: ImagingError.self) { try PNGImage.decodeLabels(png.encode(), name: "seg.png") }
            #expect(error.map { if case .unsupported = $0 { true } else { false } } == true)
            #expect("\(error!)".contains("seg.png"))
        }
    }

    @Test func subscriptsAndIndices() {
        var map = LabelMap(width: 3, height: 2, labels: [0, 1, 2, 3, 4, 5])
        #expect(map[2, 1] == 5)
        map[0, 1] = 9
        #expect(map.labels == [0, 1, 2, 9, 4, 5] && map.indices == [0, 1, 2, 9, 4, 5])
    }
}
