import Foundation
import Imaging
import Testing
import Tensors
@testable import Datasets

/// Writes a 60×40 picture whose red byte is 4·x and green byte 6·y, so a crop tells where it was cut.
private func writeCoordinatePicture(to path: String) throws {
    let (w, h) = (60, 40)
    let image = Tensor.make([3, h, w]) { p in
        for y in 0..<h {
            for x in 0..<w {
                p[y * w + x] = Float(4 * x) / 127.5 - 1
                p[h * w + y * w + x] = Float(6 * y) / 127.5 - 1
                p[2 * h * w + y * w + x] = -1
            }
        }
    }
    try PNGImage.write(image, to: path)
}

/// Where a crop was cut (its top-left source pixel), checking it is an exact, unresampled window.
private func origin(of crop: Tensor) -> (x: Int, y: Int)? {
    let (h, w) = (crop.shape[1], crop.shape[2])
    let v = crop.scalars
    let byte = { (i: Int) in Int(((v[i] + 1) * 127.5).rounded()) }
    let x0 = byte(0) / 4, y0 = byte(h * w) / 6
    for y in 0..<h {
        for x in 0..<w where byte(y * w + x) != 4 * (x0 + x) || byte(h * w + y * w + x) != 6 * (y0 + y) {
            return nil
        }
    }
    return (x0, y0)
}

@Suite("Photo crops")
struct PhotoCropsTests {
    @Test("every crop is an exact window of the picture at its own resolution")
    func cropsAreWindows() throws {
        try withTemporaryFolder { folder in
            try writeCoordinatePicture(to: folder + "/picture.png")
            let crops = try PhotoCrops(folder: folder, width: 16, height: 8, count: 100)
            #expect(crops.count == 100 && crops.width == 16 && crops.height == 8)
            var rng = RandomGenerator(seed: 3)
            var places = Set<Int>()
            for i in 0..<crops.count {
                let crop = crops.example(at: i, rng: &rng).image
                #expect(crop.shape == [3, 8, 16])
                let o = try #require(origin(of: crop), "crop \(i) is not a window of the picture")
                #expect(o.x >= 0 && o.x <= 60 - 16 && o.y >= 0 && o.y <= 40 - 8)
                places.insert(o.y * 100 + o.x)
            }
            #expect(places.count > 50, "random crops should land in many places, got \(places.count)")
        }
    }

    @Test("held-out crops are fixed by their seed and index; training crops follow the rng")
    func fixedAndRandom() throws {
        try withTemporaryFolder { folder in
            try writeCoordinatePicture(to: folder + "/picture.png")
            let held = try PhotoCrops(folder: folder, width: 8, height: 8, count: 20, fixedSeed: 5)
            var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
            let first = (0..<20).map { held.example(at: $0, rng: &a).image.scalars }
            let second = (0..<20).map { held.example(at: $0, rng: &b).image.scalars }
            #expect(first == second)
            #expect(Set(first).count > 10)
            let train = try PhotoCrops(folder: folder, width: 8, height: 8, count: 20)
            var c = RandomGenerator(seed: 9), d = RandomGenerator(seed: 9)
            #expect(train.example(at: 0, rng: &c).image.scalars == train.example(at: 0, rng: &d).image.scalars)
            let redrawn = Set((0..<10).map { _ in train.example(at: 0, rng: &c).image.scalars })
            #expect(redrawn.count > 5, "the same index should be cut at a new place on every draw")
        }
    }

    @Test("a picture smaller than the crop is enlarged; bad counts and empty folders are errors")
    func edgesAndErrors() throws {
        try withTemporaryFolder { folder in
            try writeCoordinatePicture(to: folder + "/picture.png")
            let big = try PhotoCrops(folder: folder, width: 80, height: 50, count: 2)
            var rng = RandomGenerator(seed: 0)
            #expect(big.example(at: 1, rng: &rng).image.shape == [3, 50, 80])
            #expect(throws: DatasetError.self) { try PhotoCrops(folder: folder, width: 8, height: 8, count: 0) }
        }
        try withTemporaryFolder { folder in
            #expect(throws: DatasetError.emptyFolder(folder)) { try PhotoCrops(folder: folder, width: 8, height: 8, count: 4) }
        }
    }
}
