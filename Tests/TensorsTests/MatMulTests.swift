import Testing
import Tensors
import TestSupport

/// Matrix products and the fully connected layer against triple loops.
extension TensorsSuite {
    @Suite("Matrix products")
    struct MatMulTests {
        /// C[b] = A[b]·B[b] (or B shared) by triple loops in Double; a [batch, m, k], b [batch or 1, k, n].
        static func naiveMatmul(_ a: [Float], _ b: [Float], batch: Int, m: Int, k: Int, n: Int, sharedB: Bool) -> [Float] {
            var c = [Float](repeating: 0, count: batch * m * n)
            for t in 0..<batch {
                let bo = sharedB ? 0 : t * k * n
                for i in 0..<m { for j in 0..<n {
                    var acc = 0.0
                    for p in 0..<k { acc += Double(a[t * m * k + i * k + p]) * Double(b[bo + p * n + j]) }
                    c[t * m * n + i * n + j] = Float(acc)
                } }
            }
            return c
        }

        @Test("2-D matmul: a hand-computed 2×3 · 3×2")
        func handComputed() {
            let a = Tensor(shape: [2, 3], [1, 2, 3, 4, 5, 6])
            let b = Tensor(shape: [3, 2], [7, 8, 9, 10, 11, 12])
            let c = a.matmul(b)
            #expect(c.shape == [2, 2])
            #expect(c.scalars == [58, 64, 139, 154])
        }

        @Test("2-D matmul against loops, and its gradients")
        func matrix() {
            let a = seededNormal([5, 7], seed: 1), b = seededNormal([7, 3], seed: 2)
            expectClose(a.matmul(b), Self.naiveMatmul(a.scalars, b.scalars, batch: 1, m: 5, k: 7, n: 3, sharedB: false),
                        rtol: 1e-5, atol: 1e-5)
            gradientCheck(inputs: [a, b]) { $0[0].matmul($0[1]) }
        }

        @Test("batched matmul [B, H, M, K]·[B, H, K, N]")
        func batched() {
            let a = seededNormal([2, 3, 4, 5], seed: 3), b = seededNormal([2, 3, 5, 2], seed: 4)
            let c = a.matmul(b)
            #expect(c.shape == [2, 3, 4, 2])
            expectClose(c, Self.naiveMatmul(a.scalars, b.scalars, batch: 6, m: 4, k: 5, n: 2, sharedB: false),
                        rtol: 1e-5, atol: 1e-5)
            gradientCheck(inputs: [a, b]) { $0[0].matmul($0[1]) }
        }

        @Test("batched gradients dA = dC·Bᵀ and dB = Aᵀ·dC against loops: both at once, and each alone")
        func batchedGradients() {
            let (batch, m, k, n) = (5, 6, 4, 7)
            let a = seededNormal([batch, m, k], seed: 30), b = seededNormal([batch, k, n], seed: 31)
            let dc = seededNormal([batch, m, n], seed: 32)
            a.requiresGrad = true; b.requiresGrad = true
            // dA[t] = dC[t]·B[t]ᵀ and dB[t] = A[t]ᵀ·dC[t] by loops, in Double.
            var da = [Double](repeating: 0, count: a.count), db = [Double](repeating: 0, count: b.count)
            let av = a.scalars, bv = b.scalars, gv = dc.scalars
            for t in 0..<batch { for i in 0..<m { for j in 0..<n {
                let g = Double(gv[(t * m + i) * n + j])
                for p in 0..<k {
                    da[(t * m + i) * k + p] += g * Double(bv[(t * k + p) * n + j])
                    db[(t * k + p) * n + j] += g * Double(av[(t * m + i) * k + p])
                }
            } } }
            let both = (a.matmul(b) * dc).sum().gradients(with: [a, b])
            expectClose(both[0], da.map(Float.init), rtol: 1e-5, atol: 1e-5, "dA with dB")
            expectClose(both[1], db.map(Float.init), rtol: 1e-5, atol: 1e-5, "dB with dA")
            expectClose((a.matmul(b) * dc).sum().gradients(with: [a])[0], da.map(Float.init), rtol: 1e-5, atol: 1e-5, "dA alone")
            expectClose((a.matmul(b) * dc).sum().gradients(with: [b])[0], db.map(Float.init), rtol: 1e-5, atol: 1e-5, "dB alone")
        }

        @Test("matmul with one right matrix shared by every batch entry")
        func sharedRight() {
            let a = seededNormal([3, 4, 5], seed: 5), b = seededNormal([5, 2], seed: 6)
            let c = a.matmul(b)
            #expect(c.shape == [3, 4, 2])
            expectClose(c, Self.naiveMatmul(a.scalars, b.scalars, batch: 3, m: 4, k: 5, n: 2, sharedB: true),
                        rtol: 1e-5, atol: 1e-5)
            gradientCheck(inputs: [a, b]) { $0[0].matmul($0[1]) }
            // The shared matrix's gradient sums over the batch: with a of ones and a loss of Σc,
            // dB[p, j] = Σ over batch and rows of 1 = 3·4.
            let ones = Tensor.ones([3, 4, 5]), w = Tensor(shape: [5, 2], repeating: 0.5, requiresGrad: true)
            ones.matmul(w).sum().backward()
            #expect(w.grad?.scalars == [Float](repeating: 12, count: 10))
        }

        @Test("matmul of transposed views (the attention pattern q·kᵀ)")
        func transposedOperand() {
            let q = seededNormal([2, 4, 3], seed: 7), k = seededNormal([2, 5, 3], seed: 8)
            let kt = k.transposed()
            let s = q.matmul(kt)
            #expect(s.shape == [2, 4, 5])
            expectClose(s, Self.naiveMatmul(q.scalars, kt.scalars, batch: 2, m: 4, k: 3, n: 5, sharedB: false),
                        rtol: 1e-5, atol: 1e-5)
            gradientCheck(inputs: [q, k]) { $0[0].matmul($0[1].transposed()) }
        }

        @Test("linear is x·Wᵀ + b with W [out, in], over any leading dimensions")
        func linearLayer() {
            let x = seededNormal([2, 3, 4], seed: 9)
            let w = seededNormal([5, 4], seed: 10), b = seededNormal([5], seed: 11)
            let y = linear(x, weight: w, bias: b)
            #expect(y.shape == [2, 3, 5])
            var expected: [Float] = []
            for r in 0..<6 { for o in 0..<5 {
                var acc = Double(b.scalars[o])
                for i in 0..<4 { acc += Double(x.scalars[r * 4 + i]) * Double(w[o, i]) }
                expected.append(Float(acc))
            } }
            expectClose(y, expected, rtol: 1e-5, atol: 1e-5)
            expectClose(linear(x, weight: w), zip(expected, (0..<30).map { b.scalars[$0 % 5] }).map { $0 - $1 },
                        rtol: 1e-5, atol: 1e-5)
            gradientCheck(inputs: [x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }
            gradientCheck(inputs: [x, w]) { linear($0[0], weight: $0[1]) }
        }
    }
}
