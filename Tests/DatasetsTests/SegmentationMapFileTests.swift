import Foundation
import Imaging
import Testing
import Tensors
@testable import Datasets

/// Writes `labels` as an 8-bit grayscale PNG whose gray levels are the labels.
func writeGray(_ labels: [UInt8], width: Int, height: Int, to path: String) throws {
    // A gray tensor value v/127.5 − 1 is stored as gray level v exactly.
    try PNGImage.write(Tensor(shape: [1, height, width], labels.map { Float($0) / 127.5 - 1 }), to: path)
}

@Suite("Reading a user's segmentation map")
struct SegmentationMapFileTests {
    /// A 4×3 map of landscape classes.
    let labels: [UInt8] = [0, 0, 1, 1,
                           2, 2, 4, 4,
                           6, 6, 6, 8]

    @Test("a grayscale map reads back as written; a palette map too")
    func roundTrips() throws {
        try withTemporaryFolder { folder in
            let gray = folder + "/map.png"
            try writeGray(labels, width: 4, height: 3, to: gray)
            #expect(try SegmentationMapFile.read(path: gray, width: 4, height: 3) == labels)
            let palette = folder + "/palette.png"
            try SegmentationMapFile.write(labels, width: 4, height: 3, to: palette)
            #expect(try PNGImage.readLabels(path: palette).labels == labels)
            #expect(try PNGImage.read(path: palette).shape == [3, 3, 4])   // a picture to look at, too
            #expect(try SegmentationMapFile.read(path: palette, width: 4, height: 3) == labels)
        }
    }

    @Test("a map twice the size is reduced by majority vote over 2×2 blocks")
    func wholeMultiple() throws {
        try withTemporaryFolder { folder in
            // 4×4 → 2×2: blocks of mostly 4, all 6, mostly 0, a tie 2/5 (the smaller wins).
            let big: [UInt8] = [4, 4, 6, 6,
                                4, 0, 6, 6,
                                0, 0, 2, 5,
                                0, 3, 2, 5]
            let path = folder + "/big.png"
            try writeGray(big, width: 4, height: 4, to: path)
            #expect(try SegmentationMapFile.read(path: path, width: 2, height: 2) == [4, 6, 0, 2])
        }
    }

    @Test("missing file, colour picture, wrong size and a label out of range are clear errors")
    func errors() throws {
        try withTemporaryFolder { folder in
            let missing = folder + "/nope.png"
            #expect(throws: SegmentationMapError.missing(path: missing)) {
                try SegmentationMapFile.read(path: missing, width: 4, height: 3)
            }
            let rgb = folder + "/photo.png"
            try PNGImage.write(Tensor.zeros([3, 3, 4]), to: rgb)
            do {
                _ = try SegmentationMapFile.read(path: rgb, width: 4, height: 3)
                Issue.record("an RGB picture was read as a map")
            } catch let error as SegmentationMapError {
                guard case .notALabelImage(let path, let reason) = error else {
                    Issue.record("wrong error \(error)"); return
                }
                #expect(path == rgb && reason.contains("RGB"))
                #expect(error.description.contains("photo.png") && error.description.contains("grayscale"))
            }
            let text = folder + "/notes.png"
            try Data("not a picture".utf8).write(to: URL(fileURLWithPath: text))
            #expect(throws: SegmentationMapError.self) { try SegmentationMapFile.read(path: text, width: 4, height: 3) }

            let map = folder + "/map.png"
            try writeGray(labels, width: 4, height: 3, to: map)
            #expect(throws: SegmentationMapError.wrongSize(path: map, width: 4, height: 3, expectedWidth: 8,
                                                           expectedHeight: 6)) {
                try SegmentationMapFile.read(path: map, width: 8, height: 6)
            }
            #expect(throws: SegmentationMapError.wrongSize(path: map, width: 4, height: 3, expectedWidth: 3,
                                                           expectedHeight: 3)) {
                try SegmentationMapFile.read(path: map, width: 3, height: 3)
            }
            var bad = labels
            bad[7] = 200   // x 3, y 1
            let out = folder + "/bad.png"
            try writeGray(bad, width: 4, height: 3, to: out)
            let expected = SegmentationMapError.labelOutOfRange(path: out, label: 200, x: 3, y: 1, classes: 9)
            #expect(throws: expected) { try SegmentationMapFile.read(path: out, width: 4, height: 3) }
            #expect(expected.description.contains("label 200 at pixel (x 3, y 1)"))
            #expect(expected.description.contains("0…8"))
        }
    }
}
