import Testing
import Tensors
@testable import Datasets

@Suite("Procedural landscapes")
struct LandscapeGeneratorTests {
    let generator = LandscapeGenerator(seed: 2024)

    @Test("same seed and index give the same bytes; other seeds and indices differ")
    func determinism() {
        let a = generator.sample(index: 3, width: 40, height: 24)
        let b = LandscapeGenerator(seed: 2024).sample(index: 3, width: 40, height: 24)
        #expect(a.image.scalars == b.image.scalars)
        #expect(a.segmentation == b.segmentation)
        #expect(a.scene == b.scene)
        let otherSeed = LandscapeGenerator(seed: 2025).sample(index: 3, width: 40, height: 24)
        let otherIndex = generator.sample(index: 4, width: 40, height: 24)
        #expect(otherSeed.image.scalars != a.image.scalars)
        #expect(otherIndex.image.scalars != a.image.scalars)
    }

    @Test("shapes, value range and label range", arguments: [(16, 16), (48, 32), (20, 64)])
    func ranges(size: (Int, Int)) {
        let (width, height) = size
        for index in 0..<SceneClass.count {
            let s = generator.sample(index: index, width: width, height: height)
            #expect(s.image.shape == [3, height, width])
            #expect(s.segmentation.count == width * height)
            #expect(s.image.scalars.allSatisfy { $0 >= -1 && $0 <= 1 && $0.isFinite })
            #expect(s.segmentation.allSatisfy { Int($0) < SemanticClass.count })
        }
    }

    @Test("every scene class is drawn, and forcing a scene is obeyed")
    func sceneClasses() {
        let drawn = Set((0..<60).map { generator.scene(index: $0) })
        #expect(drawn == Set(SceneClass.allCases))
        for scene in SceneClass.allCases {
            #expect(generator.sample(index: 11, width: 16, height: 16, scene: scene).scene == scene)
        }
    }

    @Test("every semantic class appears, and each scene has its own ground")
    func semanticClasses() {
        var seen = Set<UInt8>()
        var perScene: [SceneClass: Set<UInt8>] = [:]
        for index in 0..<50 {
            let scene = SceneClass.allCases[index % SceneClass.count]
            let s = generator.sample(index: index, width: 48, height: 48, scene: scene)
            seen.formUnion(s.segmentation)
            perScene[scene, default: []].formUnion(s.segmentation)
        }
        #expect(seen == Set(SemanticClass.allCases.map(\.rawValue)))
        #expect(perScene[.desert]?.contains(SemanticClass.grass.rawValue) == false)
        #expect(perScene[.desert]?.contains(SemanticClass.sand.rawValue) == true)
        #expect(perScene[.snow]?.contains(SemanticClass.grass.rawValue) == false)
        #expect(perScene[.day]?.contains(SemanticClass.grass.rawValue) == true)
    }

    @Test("a 32×32 sample shows sky above and land below, not noise")
    func smallSamplesAreLandscapes() {
        for index in 0..<10 {
            let s = generator.sample(index: index, width: 32, height: 32)
            let top = s.segmentation[0..<(32 * 4)]
            let bottom = s.segmentation[(32 * 28)...]
            let skyLike: Set<UInt8> = [SemanticClass.sky.rawValue, SemanticClass.cloud.rawValue,
                                        SemanticClass.mountain.rawValue, SemanticClass.snow.rawValue]
            #expect(top.filter { skyLike.contains($0) }.count > top.count / 2, "index \(index)")
            #expect(bottom.filter { $0 == SemanticClass.sky.rawValue || $0 == SemanticClass.cloud.rawValue }.isEmpty,
                    "index \(index)")
        }
    }

    @Test("night is darker than day, and scenes have different palettes")
    func palettes() {
        func meanBrightness(_ scene: SceneClass) -> Float {
            let images = (0..<4).map { generator.sample(index: $0, width: 24, height: 24, scene: scene).image.scalars }
            let all = images.flatMap { $0 }
            return all.reduce(0, +) / Float(all.count)
        }
        #expect(meanBrightness(.night) < meanBrightness(.day) - 0.3)
        #expect(meanBrightness(.snow) > meanBrightness(.night) + 0.3)
    }

    @Test("a wide picture extends a narrow one: the world does not depend on the frame's width")
    func widthExtendsTheView() {
        let narrow = generator.layout(index: 5, width: 32, height: 32)
        let wide = generator.layout(index: 5, width: 128, height: 32)
        for y in 0..<32 {
            #expect(Array(wide.labels[(y * 128)..<(y * 128 + 32)]) == Array(narrow.labels[(y * 32)..<(y * 32 + 32)]))
        }
    }

    @Test("the same index at two resolutions is the same scene")
    func resolutionIndependence() {
        // Where the sky (with its clouds) meets the land is the same at 32 and at 128 pixels;
        // finer detail (cloud edges, small trees) may differ, as more octaves and parts show.
        let air: Set<UInt8> = [SemanticClass.sky.rawValue, SemanticClass.cloud.rawValue]
        for index in 0..<5 {
            let small = generator.layout(index: index, width: 32, height: 32)
            let large = generator.layout(index: index, width: 128, height: 128)
            var agree = 0
            for y in 0..<32 {
                for x in 0..<32 where air.contains(small.labels[y * 32 + x])
                    == air.contains(large.labels[(4 * y + 2) * 128 + 4 * x + 2]) { agree += 1 }
            }
            #expect(agree > 32 * 32 * 95 / 100, "index \(index): \(agree) of 1024 pixels agree")
        }
    }

    @Test("painting a sample's own map gives the sample's picture")
    func renderMatchesSample() throws {
        for index in 0..<5 {
            let sample = generator.sample(index: index, width: 40, height: 30)
            let layout = generator.layout(index: index, width: 40, height: 30)
            #expect(layout.labels == sample.segmentation)
            #expect(try generator.render(layout).scalars == sample.image.scalars)
            let painted = try generator.render(segmentation: sample.segmentation, width: 40, height: 30,
                                               scene: sample.scene, index: index)
            #expect(painted.scalars == sample.image.scalars)
        }
    }

    @Test("the picture follows a given map: each class gets its own colours, changes stay local")
    func pictureFollowsMap() throws {
        let (w, h) = (32, 32)
        // Sky over grass, with a lake and a block of rock.
        var map = [UInt8](repeating: SemanticClass.sky.rawValue, count: w * h)
        for y in 16..<h { for x in 0..<w { map[y * w + x] = SemanticClass.grass.rawValue } }
        for y in 16..<22 { for x in 0..<16 { map[y * w + x] = SemanticClass.water.rawValue } }
        let image = try generator.render(segmentation: map, width: w, height: h, scene: .day)
        func mean(_ label: SemanticClass, in labels: [UInt8], of picture: Tensor) -> (Float, Float, Float) {
            let s = picture.scalars, plane = w * h
            let pixels = (0..<plane).filter { labels[$0] == label.rawValue }
            let n = Float(pixels.count)
            return (pixels.map { s[$0] }.reduce(0, +) / n, pixels.map { s[plane + $0] }.reduce(0, +) / n,
                    pixels.map { s[2 * plane + $0] }.reduce(0, +) / n)
        }
        let sky = mean(.sky, in: map, of: image), grass = mean(.grass, in: map, of: image)
        #expect(sky.2 > sky.0)         // blue sky
        #expect(grass.1 > grass.0 && grass.1 > grass.2) // green grass
        var withRock = map
        for y in 24..<30 { for x in 20..<28 { withRock[y * w + x] = SemanticClass.rock.rawValue } }
        let image2 = try generator.render(segmentation: withRock, width: w, height: h, scene: .day)
        let rock = mean(.rock, in: withRock, of: image2)
        let (a, b) = (image.scalars, image2.scalars)
        // Rows above the rock are untouched; the rock's pixels changed colour.
        for c in 0..<3 { for i in 0..<(24 * w) { #expect(a[c * w * h + i] == b[c * w * h + i]) } }
        // Grass is green-dominant, the rock in its place is not.
        #expect(rock.1 - max(rock.0, rock.2) < grass.1 - max(grass.0, grass.2) - 0.2)
        // A map of the wrong size is an error, not a crash.
        #expect(throws: DatasetError.self) {
            try generator.render(segmentation: map, width: w + 1, height: h, scene: .day)
        }
        var layout = generator.layout(index: 0, width: 8, height: 8)
        layout.labels.removeLast()
        #expect(throws: DatasetError.self) { try generator.render(layout) }
    }

    @Test("a panorama has the same statistics across its width")
    func stationarity() {
        let pano = generator.layout(index: 2, width: 512, height: 32, scene: .day)
        // The sky fraction of each quarter of the width stays near the whole picture's.
        let sky = SemanticClass.sky.rawValue, cloud = SemanticClass.cloud.rawValue
        func skyFraction(_ x0: Int, _ x1: Int) -> Float {
            var n = 0
            for y in 0..<32 { for x in x0..<x1 where pano.labels[y * 512 + x] == sky || pano.labels[y * 512 + x] == cloud { n += 1 } }
            return Float(n) / Float(32 * (x1 - x0))
        }
        let whole = skyFraction(0, 512)
        for q in 0..<4 { #expect(abs(skyFraction(q * 128, q * 128 + 128) - whole) < 0.25) }
    }
}
