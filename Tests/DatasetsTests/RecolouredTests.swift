import Testing
@testable import Datasets
@testable import Tensors

@Suite struct RecolouredTests {
    /// M·Mᵀ for a row-major 3×3 matrix.
    private func gram(_ m: [Float]) -> [Float] {
        (0..<9).map { i in (0..<3).reduce(0) { $0 + m[3 * (i / 3) + $1] * m[3 * (i % 3) + $1] } }
    }

    @Test func transformsAreOrthogonalAndKeepGreyGrey() {
        var rng = RandomGenerator(seed: 3)
        for _ in 0..<50 {
            let m = ColourVariation().randomMatrix(rng: &rng)
            let g = gram(m)
            for i in 0..<9 { #expect(abs(g[i] - (i % 4 == 0 ? 1 : 0)) < 1e-5) }
            // A grey (r = g = b) stays grey, possibly inverted: every row sums to ±1, all alike.
            let sums: [Float] = (0..<3).map { r in m[3 * r] + m[3 * r + 1] + m[3 * r + 2] }
            #expect(abs(abs(sums[0]) - 1) < 1e-5)
            #expect(abs(sums[1] - sums[0]) < 1e-5)
            #expect(abs(sums[2] - sums[0]) < 1e-5)
        }
    }

    @Test func allVariationsOccurAndNoneIsIdentity() {
        var rng = RandomGenerator(seed: 4)
        var inverted = 0
        for _ in 0..<200 {
            let m = ColourVariation().randomMatrix(rng: &rng)
            let sum: Float = m[0] + m[1] + m[2]
            if sum < 0 { inverted += 1 }
        }
        #expect(inverted > 60 && inverted < 140)
        #expect(ColourVariation.none.randomMatrix(rng: &rng) == [1, 0, 0, 0, 1, 0, 0, 0, 1])
    }

    @Test func aThirdOfATurnPermutesTheChannels() {
        // With the angle 2π/3 the rotation is the cycle r → g → b → r.
        let picture = Tensor(shape: [3, 1, 2], [0.5, -0.2, 0.1, 0.3, -0.7, 0.9])
        var rng = RandomGenerator(seed: 0)
        var draw = rng
        // Find a seed whose first uniform gives an angle near 2π/3, then check the cycle.
        var found = false
        for seed in 0..<5000 {
            rng = RandomGenerator(seed: UInt64(seed))
            draw = rng
            let angle = draw.uniform(0, 2 * Float.pi)
            guard abs(angle - 2 * Float.pi / 3) < 2e-3 else { continue }
            let out = ColourVariation(inversion: false).apply(to: picture, rng: &rng).scalars
            let cycled: [Float] = [-0.7, 0.9, 0.5, -0.2, 0.1, 0.3]
            for i in 0..<6 { #expect(abs(out[i] - cycled[i]) < 1e-2) }
            found = true
            break
        }
        #expect(found)
    }

    @Test func recolouredDatasetKeepsMapsAndRepeats() throws {
        let base = try ProceduralDataset(seed: 1, count: 4, width: 8, height: 8)
        let data = Recoloured(base)
        #expect(data.count == 4 && data.width == 8 && data.hasSegmentation)
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9), plain = RandomGenerator(seed: 9)
        let first = data.example(at: 2, rng: &a), again = data.example(at: 2, rng: &b)
        let original = base.example(at: 2, rng: &plain)
        #expect(first.image.scalars == again.image.scalars)
        #expect(first.segmentation == original.segmentation && first.sceneClass == original.sceneClass)
        #expect(first.image.scalars != original.image.scalars)
        #expect(first.image.scalars.allSatisfy { $0 >= -1 && $0 <= 1 })
    }
}
