import Testing
import Tensors
import TestSupport

/// Ops that move values: reshape, permute, transpose, slice, crop, pad, concat, stack.
extension TensorsSuite {
    @Suite("Shape ops")
    struct ShapeTests {
        @Test("reshaped keeps the order of values and infers −1")
        func reshape() {
            let x = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
            let y = x.reshaped([3, -1])
            #expect(y.shape == [3, 2])
            #expect(y.scalars == x.scalars)
            #expect(x.flattened().shape == [6])
            #expect(seededNormal([2, 3, 4, 5], seed: 0).flattened(from: 1).shape == [2, 60])
            let z = seededNormal([2, 3, 4], seed: 1)
            gradientCheck(inputs: [z]) { $0[0].reshaped([4, 6]) }
            gradientCheck(inputs: [z]) { $0[0].flattened(from: 1) }
        }

        @Test("permuted moves dimension order[i] to position i", arguments: [[0, 1, 2], [2, 0, 1], [1, 0, 2], [0, 2, 1], [2, 1, 0]])
        func permute(_ order: [Int]) {
            let x = seededNormal([2, 3, 4], seed: 2)
            let y = x.permuted(order)
            #expect(y.shape == order.map { x.shape[$0] })
            for i in 0..<2 { for j in 0..<3 { for k in 0..<4 {
                let src = [i, j, k]
                let dst = order.map { src[$0] }
                #expect(y[dst[0], dst[1], dst[2]] == x[i, j, k])
            } } }
            gradientCheck(inputs: [x]) { $0[0].permuted(order) }
        }

        @Test("permuting a rank-4 tensor (NCHW → NHWC and back) is the identity round trip")
        func permuteRank4() {
            let x = seededNormal([2, 3, 4, 5], seed: 3)
            let nhwc = x.permuted([0, 2, 3, 1])
            #expect(nhwc.shape == [2, 4, 5, 3])
            #expect(nhwc[1, 2, 3, 0] == x[1, 0, 2, 3])
            #expect(nhwc.permuted([0, 3, 1, 2]).scalars == x.scalars)
            gradientCheck(inputs: [x]) { $0[0].permuted([0, 2, 3, 1]) }
        }

        @Test("transposed swaps the last two dimensions (also the blocked path beyond 32×32)")
        func transpose() {
            let x = seededNormal([2, 33, 35], seed: 4)
            let y = x.transposed()
            #expect(y.shape == [2, 35, 33])
            for b in 0..<2 { for i in stride(from: 0, to: 33, by: 4) { for j in stride(from: 0, to: 35, by: 3) {
                #expect(y[b, j, i] == x[b, i, j])
            } } }
            let small = seededNormal([2, 3, 4], seed: 5)
            gradientCheck(inputs: [small]) { $0[0].transposed() }
            gradientCheck(inputs: [small]) { $0[0].transposed(0, 2) }
        }

        @Test("slice along each axis, and crop")
        func sliceAndCrop() {
            let x = Tensor(shape: [2, 3, 4], (0..<24).map(Float.init))
            let s = x.slice(axis: 1, 1..<3)
            #expect(s.shape == [2, 2, 4])
            #expect(s.scalars == [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23])
            #expect(x.slice(axis: -1, 2..<4).scalars == [2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23])
            #expect(x.slice(axis: 0, 1..<2).scalars == Array((12..<24).map(Float.init)))
            let img = Tensor(shape: [1, 1, 4, 4], (0..<16).map(Float.init))
            #expect(img.crop(top: 1, left: 2, height: 2, width: 2).scalars == [6, 7, 10, 11])
            let z = seededNormal([2, 3, 4], seed: 6)
            gradientCheck(inputs: [z]) { $0[0].slice(axis: 0, 1..<2) }
            gradientCheck(inputs: [z]) { $0[0].slice(axis: 1, 0..<2) }
            gradientCheck(inputs: [z]) { $0[0].slice(axis: 2, 1..<4) }
            gradientCheck(inputs: [seededNormal([1, 2, 5, 5], seed: 7)]) { $0[0].crop(top: 1, left: 0, height: 3, width: 4) }
        }

        @Test("padded by (left, right, top, bottom) as F.pad, with zeros or a value")
        func pad() {
            let x = Tensor(shape: [1, 1, 2, 2], [1, 2, 3, 4])
            let y = x.padded(left: 0, right: 1, top: 0, bottom: 1)
            #expect(y.shape == [1, 1, 3, 3])
            #expect(y.scalars == [1, 2, 0, 3, 4, 0, 0, 0, 0])
            let z = x.padded(left: 2, right: 0, top: 1, bottom: 0, value: -1)
            #expect(z.shape == [1, 1, 3, 4])
            #expect(z.scalars == [-1, -1, -1, -1, -1, -1, 1, 2, -1, -1, 3, 4])
            let v = seededNormal([2, 3, 3, 2], seed: 8)
            gradientCheck(inputs: [v]) { $0[0].padded(left: 1, right: 2, top: 0, bottom: 1) }
            gradientCheck(inputs: [v]) { $0[0].padded(left: 0, right: 1, top: 0, bottom: 1) }
        }

        @Test("concat along each axis; gradients only for the inputs that need them")
        func concatenate() {
            let a = Tensor(shape: [2, 2], [1, 2, 3, 4])
            let b = Tensor(shape: [2, 1], [5, 6])
            #expect(concat([a, b], axis: 1).scalars == [1, 2, 5, 3, 4, 6])
            #expect(concat([a, a], axis: 0).scalars == [1, 2, 3, 4, 1, 2, 3, 4])
            #expect(concat([a, b], axis: -1).shape == [2, 3])
            let x = seededNormal([2, 3, 2], seed: 9), y = seededNormal([2, 1, 2], seed: 10), z = seededNormal([2, 2, 2], seed: 11)
            gradientCheck(inputs: [x, y, z]) { concat($0, axis: 1) }
            gradientCheck(inputs: [x, x]) { concat($0, axis: 0) }
            gradientCheck(inputs: [x, x]) { concat($0, axis: 2) }
            // A constant among the inputs gets nothing; the others still get their slices.
            let leaf = Tensor(shape: [2, 2], [1, 2, 3, 4], requiresGrad: true)
            let constant = Tensor(shape: [2, 2], [0, 0, 0, 0])
            let weights = Tensor(shape: [4, 2], [1, 2, 3, 4, 5, 6, 7, 8])
            (concat([constant, leaf], axis: 0) * weights).sum().backward()
            #expect(leaf.grad?.scalars == [5, 6, 7, 8])
            #expect(constant.grad == nil)
        }

        @Test("stack adds a leading axis")
        func stacking() {
            let a = Tensor(shape: [2], [1, 2]), b = Tensor(shape: [2], [3, 4])
            let s = stack([a, b])
            #expect(s.shape == [2, 2])
            #expect(s.scalars == [1, 2, 3, 4])
            gradientCheck(inputs: [seededNormal([3, 2], seed: 12), seededNormal([3, 2], seed: 13)]) { stack($0) }
        }
    }
}
