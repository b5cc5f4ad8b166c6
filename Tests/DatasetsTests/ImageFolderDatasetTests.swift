import Foundation
import Imaging
import Testing
import Tensors
@testable import Datasets

/// A fresh temporary folder, removed after `body`.
func withTemporaryFolder<R>(_ body: (String) throws -> R) throws -> R {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("datasets-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// Collects warning lines.
final class WarningLog: @unchecked Sendable {
    var lines: [String] = []
}

@Suite("PNG folder dataset")
struct ImageFolderDatasetTests {
    let generator = LandscapeGenerator(seed: 77)

    @Test("loads PNGs recursively with their maps; skips a corrupt file with a warning naming it")
    func loadsAndSkips() throws {
        try withTemporaryFolder { folder in
            try generator.export(count: 4, width: 40, height: 30, to: folder)
            try generator.export(count: 2, width: 48, height: 36, to: folder + "/more/deeper", firstIndex: 10)
            try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/broken.png"))
            try Data().write(to: URL(fileURLWithPath: folder + "/more/empty.png"))
            try Data("not an image".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
            let log = WarningLog()
            let dataset = try ImageFolderDataset(folder: folder, width: 16, height: 16) { log.lines.append($0) }
            #expect(dataset.count == 6)
            #expect(dataset.hasSegmentation)
            #expect(dataset.classCount == nil)
            // Pictures without maps are skipped once any picture has one; the corrupt ones are named.
            #expect(Set(dataset.skipped.map { ($0.path as NSString).lastPathComponent }) == ["broken.png", "empty.png"])
            #expect(log.lines.count == 2)
            #expect(log.lines.allSatisfy { $0.hasPrefix("warning: skipping ") })
            #expect(log.lines.contains { $0.contains("broken.png") })
            var rng = RandomGenerator(seed: 1)
            for i in 0..<dataset.count {
                let example = dataset.example(at: i, rng: &rng)
                #expect(example.image.shape == [3, 16, 16])
                let labels = try #require(example.segmentation)
                #expect(labels.count == 256 && labels.allSatisfy { Int($0) < SemanticClass.count })
                #expect(example.image.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
            }
        }
    }

    @Test("an unaugmented example is the whole picture, area-averaged: it matches the map")
    func validationCropFollowsMap() throws {
        try withTemporaryFolder { folder in
            try generator.export(count: 1, width: 64, height: 64, to: folder, scene: .day)
            let dataset = try ImageFolderDataset(folder: folder, width: 32, height: 32, augmentation: .none)
            var rng = RandomGenerator(seed: 0)
            let example = dataset.example(at: 0, rng: &rng)
            let sample = generator.sample(index: 0, width: 64, height: 64, scene: .day)
            // Each output pixel is the mean of a 2×2 block (up to 8-bit rounding).
            let s = sample.image.scalars, e = example.image.scalars
            for (y, x) in [(0, 0), (10, 20), (31, 31), (20, 5)] {
                for c in 0..<3 {
                    let block = [(0, 0), (0, 1), (1, 0), (1, 1)].map { s[c * 4096 + (2 * y + $0.0) * 64 + 2 * x + $0.1] }
                    #expect(abs(e[c * 1024 + y * 32 + x] - block.reduce(0, +) / 4) < 0.02)
                }
            }
        }
    }

    @Test("random crops and flips move picture and map together")
    func cropsKeepMapsAligned() throws {
        try withTemporaryFolder { folder in
            // A picture whose colour is a function of its label: red where 1, blue where 2.
            let (w, h) = (60, 40)
            var labels = [UInt8](repeating: 1, count: w * h)
            for y in 0..<h { for x in 0..<w where x + y / 2 >= 30 { labels[y * w + x] = 2 } }
            let image = Tensor.make([3, h, w]) { out in
                for i in 0..<(w * h) {
                    out[i] = labels[i] == 1 ? 1 : -1
                    out[w * h + i] = -1
                    out[2 * w * h + i] = labels[i] == 1 ? -1 : 1
                }
            }
            try PNGImage.write(image, to: folder + "/split.png")
            try PNGImage.writeLabels(LabelMap(width: w, height: h, labels: labels), to: folder + "/split.seg.png")
            let dataset = try ImageFolderDataset(folder: folder, width: 12, height: 12,
                                                 augmentation: .init(minCropScale: 0.5, flips: true))
            var rng = RandomGenerator(seed: 42)
            var sawFlip = false
            for _ in 0..<20 {
                let e = dataset.example(at: 0, rng: &rng)
                let map = try #require(e.segmentation)
                let s = e.image.scalars
                for p in 0..<144 where abs(s[p] - s[288 + p]) > 1.5 {
                    // Clearly red or clearly blue pixels carry the matching label.
                    #expect(map[p] == (s[p] > 0 ? 1 : 2))
                }
                // Label 2 lies on the right unless the example is mirrored.
                if map[0] == 2 && map[11] == 1 { sawFlip = true }
            }
            #expect(sawFlip)
        }
    }

    @Test("classes from subfolders, and a seeded train/validation split")
    func classesAndSplit() throws {
        try withTemporaryFolder { folder in
            try generator.export(count: 3, width: 24, height: 24, to: folder + "/alpha")
            try generator.export(count: 5, width: 24, height: 24, to: folder + "/beta", firstIndex: 3)
            let dataset = try ImageFolderDataset(folder: folder, width: 8, height: 8, classesFromSubfolders: true) { _ in }
            #expect(dataset.classNames == ["alpha", "beta"])
            var rng = RandomGenerator(seed: 0)
            let classes = (0..<dataset.count).map { dataset.example(at: $0, rng: &rng).sceneClass }
            #expect(classes.filter { $0 == 0 }.count == 3 && classes.filter { $0 == 1 }.count == 5)
            let (train, validation) = try dataset.split(validationFraction: 0.25, seed: 3)
            #expect(train.count == 6 && validation.count == 2)
            #expect(Set(train.paths).isDisjoint(with: validation.paths))
            #expect(Set(train.paths + validation.paths) == Set(dataset.paths))
            #expect(validation.augmentation == .none)
            let again = try dataset.split(validationFraction: 0.25, seed: 3)
            #expect(again.validation.paths == validation.paths)
            #expect(throws: DatasetError.self) { try dataset.split(validationFraction: 1, seed: 3) }
        }
    }

    @Test("a map of the wrong size is skipped with a warning")
    func mismatchedMap() throws {
        try withTemporaryFolder { folder in
            try generator.export(count: 2, width: 20, height: 20, to: folder)
            try PNGImage.writeLabels(LabelMap(width: 5, height: 5, labels: [UInt8](repeating: 0, count: 25)),
                                     to: folder + "/landscape-00001.seg.png")
            let log = WarningLog()
            let dataset = try ImageFolderDataset(folder: folder, width: 8, height: 8) { log.lines.append($0) }
            #expect(dataset.count == 1)
            #expect(log.lines.count == 1 && log.lines[0].contains("landscape-00001.png") && log.lines[0].contains("5×5"))
        }
    }

    @Test("a missing folder, an empty one, or one without usable PNGs is a clear error")
    func folderErrors() throws {
        try withTemporaryFolder { folder in
            #expect(throws: DatasetError.notAFolder(folder + "/missing")) {
                try ImageFolderDataset(folder: folder + "/missing", width: 8, height: 8)
            }
            #expect(throws: DatasetError.emptyFolder(folder)) {
                try ImageFolderDataset(folder: folder, width: 8, height: 8)
            }
            try Data("junk".utf8).write(to: URL(fileURLWithPath: folder + "/a.png"))
            try Data("junk".utf8).write(to: URL(fileURLWithPath: folder + "/b.png"))
            let log = WarningLog()
            #expect(throws: DatasetError.noUsableImages(folder: folder, skipped: 2)) {
                try ImageFolderDataset(folder: folder, width: 8, height: 8) { log.lines.append($0) }
            }
            #expect(log.lines.count == 2)
            #expect(throws: DatasetError.self) { try ImageFolderDataset(folder: folder, width: 0, height: 8) }
            #expect(throws: DatasetError.self) {
                try ImageFolderDataset(folder: folder, width: 8, height: 8, augmentation: .init(minCropScale: 0))
            }
        }
    }

    @Test("the gallery figure has one row per scene and two cells per sample")
    func gallery() {
        let figure = LandscapeGallery.figure(generator: generator, samplesPerScene: 2, width: 16, height: 12, padding: 2)
        #expect(figure.shape == [3, SceneClass.count * (12 + 2) + 2, 4 * (16 + 2) + 2])
        let legend = LandscapeGallery.legend(swatch: 4, padding: 1)
        #expect(legend.shape == [3, 6, SemanticClass.count * 5 + 1])
    }
}
