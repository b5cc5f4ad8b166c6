import Testing
import Tensors
import TestSupport

/// conv2d against the definition of cross-correlation, computed by nested loops in the test:
///
///     y[b, o, i, j] = bias[o] + Σ_{c, u, v} w[o, c, u, v] · x[b, c, i·s + u − top, j·s + v − left]
///
/// with x = 0 outside the image. The backward pass is checked twice: against the loops' adjoint
/// (every element) and by finite differences (a sample).
extension TensorsSuite {
    @Suite("Convolution")
    struct ConvTests {
        /// One convolution's sizes. Shape letters: B batch, C input channels, O output channels.
        struct Case: CustomTestStringConvertible, Sendable {
            var b, c, o, h, w, kh, kw, stride: Int
            var pad: Padding
            var bias = true
            var testDescription: String {
                "x[\(b),\(c),\(h),\(w)] w[\(o),\(c),\(kh),\(kw)] s\(stride) pad(l\(pad.left) r\(pad.right) t\(pad.top) b\(pad.bottom))"
                    + (bias ? "" : " no bias")
            }
            var hout: Int { (h + pad.top + pad.bottom - kh) / stride + 1 }
            var wout: Int { (w + pad.left + pad.right - kw) / stride + 1 }
        }

        static let cases: [Case] = [
            Case(b: 1, c: 2, o: 3, h: 5, w: 5, kh: 3, kw: 3, stride: 1, pad: 1),                      // one image
            Case(b: 3, c: 2, o: 3, h: 5, w: 6, kh: 3, kw: 3, stride: 1, pad: 1),                      // images batched in one GEMM
            Case(b: 2, c: 2, o: 2, h: 6, w: 6, kh: 3, kw: 3, stride: 2,
                 pad: Padding(left: 0, right: 1, top: 0, bottom: 1)),                                 // the reference's Downsample
            Case(b: 2, c: 3, o: 2, h: 7, w: 5, kh: 3, kw: 3, stride: 2, pad: 1),                      // odd sizes, stride 2
            Case(b: 2, c: 3, o: 4, h: 4, w: 4, kh: 1, kw: 1, stride: 1, pad: .zero),                  // pointwise, batched
            Case(b: 1, c: 3, o: 4, h: 4, w: 3, kh: 1, kw: 1, stride: 1, pad: .zero, bias: false),     // pointwise, one image
            Case(b: 2, c: 1, o: 2, h: 5, w: 5, kh: 2, kw: 3, stride: 1,
                 pad: Padding(left: 1, right: 0, top: 0, bottom: 2)),                                 // non-square, asymmetric
            Case(b: 2, c: 2, o: 2, h: 3, w: 3, kh: 4, kw: 4, stride: 1, pad: 2, bias: false),         // kernel wider than image
            Case(b: 1, c: 2, o: 2, h: 6, w: 6, kh: 3, kw: 3, stride: 3, pad: .zero),                  // stride = kernel
            Case(b: 2, c: 1, o: 2, h: 4, w: 4, kh: 1, kw: 1, stride: 2, pad: .zero),                  // strided 1×1
            // Images of more than 512 output pixels are cut into GEMM tiles (ConvTiles.swift);
            // 30×23 = 690 pixels cuts mid-row.
            Case(b: 2, c: 3, o: 5, h: 30, w: 23, kh: 3, kw: 3, stride: 1, pad: 1, bias: false),       // cut images, same padding
            Case(b: 2, c: 2, o: 3, h: 30, w: 23, kh: 5, kw: 5, stride: 1, pad: 2),                    // 5×5, same padding
            Case(b: 1, c: 2, o: 3, h: 30, w: 23, kh: 3, kw: 3, stride: 1,
                 pad: Padding(left: 1, right: 1, top: 0, bottom: 2)),                                 // same width, other height
            Case(b: 2, c: 3, o: 2, h: 24, w: 25, kh: 4, kw: 4, stride: 1,
                 pad: Padding(left: 0, right: 1, top: 2, bottom: 1)),                                 // 4×4, asymmetric, cut
            Case(b: 2, c: 2, o: 3, h: 48, w: 47, kh: 3, kw: 3, stride: 2,
                 pad: Padding(left: 0, right: 1, top: 0, bottom: 1)),                                 // Downsample, cut images
            Case(b: 2, c: 3, o: 2, h: 30, w: 30, kh: 1, kw: 1, stride: 1, pad: .zero),                // pointwise, cut images
            Case(b: 11, c: 3, o: 4, h: 8, w: 8, kh: 3, kw: 3, stride: 1, pad: 1),                     // 8 images a tile, 3 left
            // Strides above 1 take their input gradient phase by phase (ConvPhases.swift).
            Case(b: 2, c: 3, o: 2, h: 9, w: 11, kh: 4, kw: 4, stride: 2, pad: 1),                     // 4×4: 2×2 taps a phase, odd sizes
            Case(b: 2, c: 2, o: 3, h: 8, w: 7, kh: 2, kw: 2, stride: 2, pad: .zero, bias: false),     // kernel = stride: one tap a phase
            Case(b: 1, c: 2, o: 2, h: 11, w: 10, kh: 5, kw: 3, stride: 3,
                 pad: Padding(left: 1, right: 0, top: 2, bottom: 1)),                                 // stride 3, non-square, asymmetric
            Case(b: 2, c: 2, o: 3, h: 5, w: 6, kh: 3, kw: 3, stride: 2,
                 pad: Padding(left: 1, right: 0, top: 0, bottom: 2)),                                 // odd height, asymmetric
            Case(b: 2, c: 2, o: 2, h: 6, w: 7, kh: 3, kw: 3, stride: 2, pad: 2),                      // padding ≥ stride: col2im instead
        ]

        /// Strided convolutions large enough to cut a phase into bands of rows, or to group whole
        /// images into one band; checked against the loops, not by finite differences (too slow).
        static let stridedCases: [Case] = [
            Case(b: 1, c: 2, o: 3, h: 48, w: 50, kh: 3, kw: 3, stride: 2,
                 pad: Padding(left: 0, right: 1, top: 0, bottom: 1)),                                 // Downsample, even width: pairs
            Case(b: 1, c: 2, o: 2, h: 45, w: 47, kh: 3, kw: 3, stride: 2, pad: 1),                    // odd sizes, cut
            Case(b: 36, c: 2, o: 2, h: 8, w: 8, kh: 3, kw: 3, stride: 2,
                 pad: Padding(left: 0, right: 1, top: 0, bottom: 1)),                                 // 32 images a band, 4 left
            Case(b: 2, c: 2, o: 2, h: 26, w: 28, kh: 6, kw: 6, stride: 3, pad: 2, bias: false),       // stride 3, 2×2 taps a phase
        ]

        /// The forward pass by loops, in Double.
        static func naiveForward(_ k: Case, x: [Float], w: [Float], bias: [Float]?) -> [Float] {
            var y = [Float](repeating: 0, count: k.b * k.o * k.hout * k.wout)
            for b in 0..<k.b { for o in 0..<k.o { for i in 0..<k.hout { for j in 0..<k.wout {
                var acc = Double(bias?[o] ?? 0)
                for c in 0..<k.c { for u in 0..<k.kh { for v in 0..<k.kw {
                    let iy = i * k.stride + u - k.pad.top, ix = j * k.stride + v - k.pad.left
                    guard iy >= 0, iy < k.h, ix >= 0, ix < k.w else { continue }
                    acc += Double(w[((o * k.c + c) * k.kh + u) * k.kw + v]) * Double(x[((b * k.c + c) * k.h + iy) * k.w + ix])
                } } }
                y[((b * k.o + o) * k.hout + i) * k.wout + j] = Float(acc)
            } } } }
            return y
        }

        /// The adjoint of the loops: dx, dw, db for an output gradient dy.
        static func naiveBackward(_ k: Case, x: [Float], w: [Float], dy: [Float]) -> (dx: [Float], dw: [Float], db: [Float]) {
            var dx = [Double](repeating: 0, count: x.count), dw = [Double](repeating: 0, count: w.count)
            var db = [Double](repeating: 0, count: k.o)
            for b in 0..<k.b { for o in 0..<k.o { for i in 0..<k.hout { for j in 0..<k.wout {
                let g = Double(dy[((b * k.o + o) * k.hout + i) * k.wout + j])
                db[o] += g
                for c in 0..<k.c { for u in 0..<k.kh { for v in 0..<k.kw {
                    let iy = i * k.stride + u - k.pad.top, ix = j * k.stride + v - k.pad.left
                    guard iy >= 0, iy < k.h, ix >= 0, ix < k.w else { continue }
                    let xi = ((b * k.c + c) * k.h + iy) * k.w + ix, wi = ((o * k.c + c) * k.kh + u) * k.kw + v
                    dx[xi] += Double(w[wi]) * g
                    dw[wi] += Double(x[xi]) * g
                } } }
            } } } }
            return (dx.map(Float.init), dw.map(Float.init), db.map(Float.init))
        }

        static func inputs(_ k: Case, seed: UInt64) -> (x: Tensor, w: Tensor, bias: Tensor?) {
            (seededNormal([k.b, k.c, k.h, k.w], seed: seed), seededNormal([k.o, k.c, k.kh, k.kw], seed: seed + 1, std: 0.5),
             k.bias ? seededNormal([k.o], seed: seed + 2) : nil)
        }

        @Test("forward matches the loops", arguments: cases)
        func forward(_ k: Case) {
            let (x, w, bias) = Self.inputs(k, seed: 10)
            let y = conv2d(x, weight: w, bias: bias, stride: k.stride, padding: k.pad)
            #expect(y.shape == [k.b, k.o, k.hout, k.wout])
            expectClose(y, Self.naiveForward(k, x: x.scalars, w: w.scalars, bias: bias?.scalars), rtol: 1e-5, atol: 1e-5)
        }

        @Test("backward matches the loops' adjoint at every element", arguments: cases)
        func backwardExact(_ k: Case) {
            let (x0, w0, b0) = Self.inputs(k, seed: 20)
            let x = x0.clone(), w = w0.clone(), bias = b0?.clone()
            x.requiresGrad = true; w.requiresGrad = true; bias?.requiresGrad = true
            let y = conv2d(x, weight: w, bias: bias, stride: k.stride, padding: k.pad)
            let dy = seededNormal(y.shape, seed: 21)
            (y * dy).sum().backward()
            let ref = Self.naiveBackward(k, x: x.scalars, w: w.scalars, dy: dy.scalars)
            expectClose(x.grad ?? Tensor.zeros([0]), Tensor(shape: x.shape, ref.dx), rtol: 1e-4, atol: 1e-5, "dx")
            expectClose(w.grad ?? Tensor.zeros([0]), Tensor(shape: w.shape, ref.dw), rtol: 1e-4, atol: 1e-5, "dw")
            if let bias { expectClose(bias.grad ?? Tensor.zeros([0]), Tensor(shape: [k.o], ref.db), rtol: 1e-4, atol: 1e-5, "db") }
        }

        @Test("strided convolutions, cut into bands or grouped: forward, dx, dw and db match the loops",
              arguments: stridedCases)
        func stridedAgainstLoops(_ k: Case) {
            forward(k)
            backwardExact(k)
        }

        @Test("gradients match finite differences", arguments: cases)
        func gradients(_ k: Case) {
            let (x, w, bias) = Self.inputs(k, seed: 30)
            if let bias {
                gradientCheck(inputs: [x, w, bias]) { conv2d($0[0], weight: $0[1], bias: $0[2], stride: k.stride, padding: k.pad) }
            } else {
                gradientCheck(inputs: [x, w]) { conv2d($0[0], weight: $0[1], stride: k.stride, padding: k.pad) }
            }
        }

        @Test("only the requested gradients are computed: x alone, the weight alone")
        func partialGradients() {
            let k = Self.cases[1]
            let (x, w, bias) = Self.inputs(k, seed: 40)
            let y = conv2d(x, weight: w, bias: bias, stride: 1, padding: 1)
            let dy = seededNormal(y.shape, seed: 41)
            let ref = Self.naiveBackward(k, x: x.scalars, w: w.scalars, dy: dy.scalars)
            let xl = x.clone(); xl.requiresGrad = true
            let gx = (conv2d(xl, weight: w, bias: bias, padding: 1) * dy).sum().gradients(with: [xl])
            expectClose(gx[0], ref.dx, rtol: 1e-4, atol: 1e-5)
            let wl = w.clone(); wl.requiresGrad = true
            let gw = (conv2d(x, weight: wl, bias: bias, padding: 1) * dy).sum().gradients(with: [wl])
            expectClose(gw[0], ref.dw, rtol: 1e-4, atol: 1e-5)
        }

        @Test("several GEMM chunks: 40×40 images, three of them, chunked two and one")
        func chunkedBatch() {
            let k = Case(b: 3, c: 2, o: 2, h: 40, w: 40, kh: 3, kw: 3, stride: 1, pad: 1)
            let (x0, w0, b0) = Self.inputs(k, seed: 50)
            let x = x0.clone(), w = w0.clone(), bias = b0!.clone()
            x.requiresGrad = true; w.requiresGrad = true; bias.requiresGrad = true
            let y = conv2d(x, weight: w, bias: bias, padding: 1)
            expectClose(y, Self.naiveForward(k, x: x.scalars, w: w.scalars, bias: bias.scalars), rtol: 1e-5, atol: 1e-5)
            let dy = seededNormal(y.shape, seed: 51)
            (y * dy).sum().backward()
            let ref = Self.naiveBackward(k, x: x.scalars, w: w.scalars, dy: dy.scalars)
            expectClose(x.grad ?? Tensor.zeros([0]), Tensor(shape: x.shape, ref.dx), rtol: 1e-4, atol: 1e-4, "dx")
            expectClose(w.grad ?? Tensor.zeros([0]), Tensor(shape: w.shape, ref.dw), rtol: 1e-4, atol: 1e-4, "dw")
            expectClose(bias.grad ?? Tensor.zeros([0]), Tensor(shape: [2], ref.db), rtol: 1e-4, atol: 1e-4, "db")
        }

        @Test("tiled paths give the same bits with 1 and 2 threads")
        func tilesAcrossThreads() {
            // Shapes that make several tiles of each kind: cut images (forward, flipped-kernel
            // input gradient, weight-gradient groups), stride 2 (phases of odd widths), whole-image
            // tiles with a short last one, pointwise convolutions read in place, and the strided
            // cases' bands of phase rows (paired at stride 2), groups of images and stride 3.
            let cases = [
                Case(b: 3, c: 8, o: 6, h: 30, w: 23, kh: 3, kw: 3, stride: 1, pad: 1),
                Case(b: 3, c: 8, o: 6, h: 48, w: 47, kh: 3, kw: 3, stride: 2, pad: Padding(left: 0, right: 1, top: 0, bottom: 1)),
                Case(b: 20, c: 8, o: 6, h: 8, w: 8, kh: 3, kw: 3, stride: 1, pad: 1),
                Case(b: 3, c: 8, o: 6, h: 30, w: 30, kh: 1, kw: 1, stride: 1, pad: .zero),
                Self.stridedCases[0], Self.stridedCases[2], Self.stridedCases[3],   // phases: bands, groups, stride 3
            ]
            for k in cases {
                let (x, w, bias) = Self.inputs(k, seed: 60)
                DeterminismTests.expectSameBitsAcrossThreads(k.testDescription) {
                    DeterminismTests.valueAndGradients([x, w] + (bias.map { [$0] } ?? [])) {
                        conv2d($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil, stride: k.stride, padding: k.pad)
                    }
                }
            }
        }

        @Test("a delta kernel is the identity; a 3×3 box sums neighbourhoods")
        func knownKernels() {
            let x = Tensor(shape: [1, 1, 3, 3], (1...9).map(Float.init))
            var delta = [Float](repeating: 0, count: 9); delta[4] = 1
            #expect(conv2d(x, weight: Tensor(shape: [1, 1, 3, 3], delta), padding: 1).scalars == x.scalars)
            let box = conv2d(x, weight: Tensor.ones([1, 1, 3, 3]), padding: 1).scalars
            // Corner (0, 0): 1 + 2 + 4 + 5; centre: 45; edge (0, 1): 1+2+3+4+5+6.
            #expect(box[0] == 12 && box[4] == 45 && box[1] == 21)
        }
    }
}
