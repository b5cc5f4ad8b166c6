import Foundation
import Testing
import Tensors
import TestSupport

/// Scaled dot-product attention against the softmax written out:
///
///     out[t] = Σ_s p[t, s] · v[s],  p[t, ·] = softmax_s(scale · q[t]·k[s]) over visible s,
///
/// where with `causal` query t (of T, the last T of S positions) sees s ≤ t + S − T.
extension TensorsSuite {
    @Suite("Attention")
    struct AttentionTests {
        struct Case: CustomTestStringConvertible, Sendable {
            var lead: [Int], t: Int, s: Int, d: Int, dv: Int
            var causal: Bool
            var scale: Float? = nil
            var testDescription: String {
                "lead \(lead) T\(t) S\(s) D\(d) Dv\(dv)\(causal ? " causal" : "")\(scale.map { " scale \($0)" } ?? "")"
            }
        }

        static let cases: [Case] = [
            Case(lead: [2], t: 4, s: 4, d: 3, dv: 3, causal: false),
            Case(lead: [2], t: 4, s: 4, d: 3, dv: 3, causal: true),
            Case(lead: [1, 3], t: 5, s: 5, d: 4, dv: 2, causal: true),     // heads, Dv ≠ D
            Case(lead: [2], t: 2, s: 5, d: 3, dv: 4, causal: true),        // queries are the last T positions
            Case(lead: [2], t: 3, s: 6, d: 4, dv: 4, causal: false),       // cross-attention shape
            Case(lead: [1], t: 4, s: 4, d: 8, dv: 8, causal: false, scale: 0.5),
            Case(lead: [2, 2], t: 1, s: 4, d: 4, dv: 4, causal: true),     // a KV-cached decoding step
        ]

        static func reference(_ c: Case, q: [Float], k: [Float], v: [Float]) -> [Float] {
            let n = c.lead.product
            let scale = Double(c.scale ?? 1 / Float(c.d).squareRoot())
            var out = [Float](repeating: 0, count: n * c.t * c.dv)
            for h in 0..<n { for t in 0..<c.t {
                let visible = c.causal ? Swift.min(c.s, t + c.s - c.t + 1) : c.s
                var scores = [Double](repeating: 0, count: visible)
                for s in 0..<visible {
                    var dot = 0.0
                    for i in 0..<c.d { dot += Double(q[(h * c.t + t) * c.d + i]) * Double(k[(h * c.s + s) * c.d + i]) }
                    scores[s] = dot * scale
                }
                let m = scores.max()!
                let e = scores.map { Foundation.exp($0 - m) }
                let z = e.reduce(0, +)
                for j in 0..<c.dv {
                    var acc = 0.0
                    for s in 0..<visible { acc += e[s] / z * Double(v[(h * c.s + s) * c.dv + j]) }
                    out[(h * c.t + t) * c.dv + j] = Float(acc)
                }
            } }
            return out
        }

        static func inputs(_ c: Case, seed: UInt64) -> [Tensor] {
            [seededNormal(c.lead + [c.t, c.d], seed: seed), seededNormal(c.lead + [c.s, c.d], seed: seed + 1),
             seededNormal(c.lead + [c.s, c.dv], seed: seed + 2)]
        }

        @Test("values match explicit softmax math", arguments: cases)
        func values(_ c: Case) {
            let x = Self.inputs(c, seed: 1)
            let y = scaledDotProductAttention(q: x[0], k: x[1], v: x[2], causal: c.causal, scale: c.scale)
            #expect(y.shape == c.lead + [c.t, c.dv])
            expectClose(y, Self.reference(c, q: x[0].scalars, k: x[1].scalars, v: x[2].scalars), rtol: 1e-5, atol: 1e-6)
        }

        @Test("gradients for q, k and v match finite differences", arguments: cases)
        func gradients(_ c: Case) {
            gradientCheck(inputs: Self.inputs(c, seed: 10)) {
                scaledDotProductAttention(q: $0[0], k: $0[1], v: $0[2], causal: c.causal, scale: c.scale)
            }
        }

        @Test("both execution paths agree: heads in parallel (2 threads) and one at a time (1 thread)")
        func executionPaths() {
            let c = Case(lead: [4], t: 6, s: 6, d: 4, dv: 4, causal: true)
            let x = Self.inputs(c, seed: 20)
            for threads in [1, 2] {
                withThreadCount(threads) {
                    let y = scaledDotProductAttention(q: x[0], k: x[1], v: x[2], causal: true)
                    expectClose(y, Self.reference(c, q: x[0].scalars, k: x[1].scalars, v: x[2].scalars),
                                rtol: 1e-5, atol: 1e-6, "threads \(threads)")
                    gradientCheck(inputs: x, "threads \(threads)") {
                        scaledDotProductAttention(q: $0[0], k: $0[1], v: $0[2], causal: true)
                    }
                }
            }
        }

        @Test("several blocks of query rows: values (with and without a graph) and every gradient match the composed ops",
              arguments: [Case(lead: [1], t: 140, s: 520, d: 4, dv: 3, causal: false),
                          Case(lead: [2], t: 140, s: 520, d: 4, dv: 4, causal: true)])
        func blocks(_ c: Case) {
            // 520 keys make blocks of 126 query rows (attentionBlockRows); the composed ops
            // softmax(q·kᵀ·scale + mask)·v, through matmul, softmax and autodiff, are the reference.
            let x = Self.inputs(c, seed: 40)
            let reference = Self.reference(c, q: x[0].scalars, k: x[1].scalars, v: x[2].scalars)
            expectClose(scaledDotProductAttention(q: x[0], k: x[1], v: x[2], causal: c.causal), reference,
                        rtol: 1e-4, atol: 1e-5, "no graph")
            let leaves = x.map { t -> Tensor in let l = t.clone(); l.requiresGrad = true; return l }
            let y = scaledDotProductAttention(q: leaves[0], k: leaves[1], v: leaves[2], causal: c.causal)
            expectClose(y, reference, rtol: 1e-4, atol: 1e-5, "with a graph")
            var mask = [Float](repeating: 0, count: c.t * c.s)
            for t in 0..<c.t { for s in 0..<c.s where c.causal && s > t + c.s - c.t { mask[t * c.s + s] = -.infinity } }
            let scores = leaves[0].matmul(leaves[1].transposed(1, 2)) * (1 / Float(c.d).squareRoot())
                + Tensor(shape: [c.t, c.s], mask)
            let composed = softmax(scores, axis: -1).matmul(leaves[2])
            let r = seededNormal(y.shape, seed: 41)
            let got = (y * r).sum().gradients(with: leaves), want = (composed * r).sum().gradients(with: leaves)
            for (name, (a, b)) in zip(["dq", "dk", "dv"], zip(got, want)) {
                expectClose(a, b, rtol: 1e-3, atol: 1e-5, Comment(rawValue: name))
            }
        }

        @Test("causal: the first query sees only the first key, so its output is v[0]")
        func causalFirstRow() {
            let q = seededNormal([1, 3, 2], seed: 30), k = seededNormal([1, 3, 2], seed: 31), v = seededNormal([1, 3, 2], seed: 32)
            let y = scaledDotProductAttention(q: q, k: k, v: v, causal: true)
            #expect(y[0, 0, 0] == v[0, 0, 0] && y[0, 0, 1] == v[0, 0, 1])
            // Changing a later key or value leaves earlier outputs untouched.
            let v2 = v.clone(); v2[0, 2, 0] = 100
            let y2 = scaledDotProductAttention(q: q, k: k, v: v2, causal: true)
            #expect(y2[0, 0, 0] == y[0, 0, 0] && y2[0, 1, 1] == y[0, 1, 1])
            #expect(y2[0, 2, 0] != y[0, 2, 0])
        }
    }
}
