import Testing
import Tensors
import TestSupport

/// Average pooling and nearest-neighbour upsampling.
extension TensorsSuite {
    @Suite("Resampling")
    struct ResamplingTests {
        @Test("avgPool2d averages non-overlapping windows")
        func averagePooling() {
            let x = Tensor(shape: [1, 1, 4, 4], (0..<16).map(Float.init))
            let y = avgPool2d(x, kernel: 2)
            #expect(y.shape == [1, 1, 2, 2])
            // Window (0, 0): 0, 1, 4, 5 → 2.5.
            #expect(y.scalars == [2.5, 4.5, 10.5, 12.5])
            let z = avgPool2d(Tensor(shape: [1, 1, 3, 3], (1...9).map(Float.init)), kernel: 3)
            #expect(z.scalars == [5])
            gradientCheck(inputs: [seededNormal([2, 3, 4, 6], seed: 1)]) { avgPool2d($0[0], kernel: 2) }
            gradientCheck(inputs: [seededNormal([1, 2, 6, 3], seed: 2)]) { avgPool2d($0[0], kernel: 3) }
        }

        @Test("upsampleNearest2x repeats each pixel in a 2×2 block; scale 3 likewise")
        func nearestUpsampling() {
            let x = Tensor(shape: [1, 1, 2, 2], [1, 2, 3, 4])
            let y = upsampleNearest2x(x)
            #expect(y.shape == [1, 1, 4, 4])
            #expect(y.scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
            let z = upsampleNearest(Tensor(shape: [1, 1, 1, 2], [5, 6]), scale: 3)
            #expect(z.shape == [1, 1, 3, 6])
            #expect(z.scalars == [5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6, 5, 5, 5, 6, 6, 6])
            #expect(upsampleNearest(x, scale: 1).scalars == x.scalars)
            gradientCheck(inputs: [seededNormal([2, 3, 3, 2], seed: 3)]) { upsampleNearest2x($0[0]) }
            gradientCheck(inputs: [seededNormal([1, 2, 2, 3], seed: 4)]) { upsampleNearest($0[0], scale: 3) }
        }

        @Test("pooling after upsampling is the identity")
        func poolUndoesUpsample() {
            let x = seededNormal([2, 2, 3, 3], seed: 5)
            expectClose(avgPool2d(upsampleNearest2x(x), kernel: 2), x, rtol: 1e-6, atol: 1e-7)
        }
    }
}
