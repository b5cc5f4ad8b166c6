import NN
import Taming
import Tensors
import TestSupport
import Testing

@Suite struct EdgePaddedBackboneTests {
    /// A 2×3 picture extended by 2: each outside pixel repeats the nearest edge pixel.
    @Test func marginsRepeatTheEdgePixels() {
        let x = Tensor(shape: [1, 1, 2, 3], [1, 2, 3, 4, 5, 6])
        let p = EdgePaddedBackbone.edgePadded(x, 2)
        #expect(p.shape == [1, 1, 6, 7])
        for y in 0..<6 {
            for z in 0..<7 {
                let (sy, sz) = (min(max(y - 2, 0), 1), min(max(z - 2, 0), 2))
                #expect(p[0, 0, y, z] == x[0, 0, sy, sz], "(\(y), \(z))")
            }
        }
    }

    /// Gradients reach the picture: each edge pixel collects those of the copies made of it.
    @Test func gradientsCollectAtTheEdges() {
        let x = seededUniform([1, 1, 2, 3], seed: 1)
        x.requiresGrad = true
        let g = EdgePaddedBackbone.edgePadded(x, 2).sum().gradients(with: [x])[0]
        // Corners are copied into a 3×3 block, the middle pixels of the long sides into 3×1.
        #expect(g.scalars == [9, 3, 9, 9, 3, 9])
    }

    @Test func featuresAreTheBackbonesOnTheExtendedPicture() {
        var rng = RandomGenerator(seed: 3)
        let net = FeatureNetwork(.init(widths: [4, 8]), rng: &rng)
        let padded = EdgePaddedBackbone(net, margin: 4)
        let x = seededUniform([2, 3, 8, 8], seed: 4)
        let stacks = padded.featureStacks(x)
        #expect(stacks.map(\.shape) == [[2, 4, 16, 16], [2, 8, 8, 8]])
        expectClose(stacks[1], net.featureStacks(EdgePaddedBackbone.edgePadded(x, 4))[1])
        #expect(padded.featureChannels == [4, 8])
    }
}
