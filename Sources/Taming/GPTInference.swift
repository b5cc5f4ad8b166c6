import NN
import Tensors

// Shape letters: B batch, t new positions, C width, V vocabulary.

/// The forward pass with key-value caches, for sampling: the same maths as the autodiff model,
/// without the graph, and with matrix–vector products for the few rows a sampling step has.
///
/// A step that feeds one new token per sequence multiplies a handful of rows by every weight
/// matrix. BLAS's sgemm first copies ("packs") the whole weight matrix into its blocked layout,
/// which for one row costs far more than the product itself; here each output is instead one
/// dot product of a weight row with the input row, reading every weight once.
extension GPT {
    /// Logits [B, t, V] for new tokens [B][t] continuing the sequences held in `caches`.
    func cachedForward(_ tokens: [[Int]], caches: [LayerCache]) -> Tensor {
        let b = tokens.count, t = tokens[0].count, c = config.embeddingDim
        let start = caches.first?.length ?? 0
        let emb = tok_emb.weight.storage.pointer, pos = pos_emb.storage.pointer
        let flat = tokens.flatMap { $0 }
        for token in flat {
            precondition(token >= 0 && token < config.vocabularySize, "token \(token) outside the vocabulary") // invariant: a programming error, not user input
        }
        var x = Tensor.make([b, t, c]) { out in                                  // [B, t, C]
            for (r, token) in flat.enumerated() {
                let e = emb + token * c, p = pos + config.positionRow(start + r % t) * c
                for j in 0..<c { out[r * c + j] = e[j] + p[j] }
            }
        }
        for (block, cache) in zip(blocks, caches) {
            let attn = block.attn
            let a = inferenceLayerNorm(x, block.ln1)
            cache.append(keys: inferenceLinear(a, attn.key), values: inferenceLinear(a, attn.value), heads: attn.heads)
            let attended = cache.attend(queries: inferenceLinear(a, attn.query), heads: attn.heads)
            let h = inferenceLinear(attended, attn.proj, adding: x)
            let f = inferenceLinear(inferenceLayerNorm(h, block.ln2), block.fc)
            f.withUnsafeMutableBufferPointer { p in geluForward(p.baseAddress!, p.baseAddress!, count: p.count) }
            x = inferenceLinear(f, block.fcOut, adding: h)
        }
        return inferenceLinear(inferenceLayerNorm(x, ln_f), head)
    }
}

/// y = x·Wᵀ + b (+ `adding`) over the last dimension, without a graph. Up to 16 rows run as dot
/// products, parallel over outputs, four rows per read of a weight row; more rows go to BLAS.
func inferenceLinear(_ x: Tensor, _ layer: Linear, adding residual: Tensor? = nil) -> Tensor {
    let inF = layer.inFeatures, outF = layer.outFeatures
    let rows = x.count / inF
    let px = x.storage.pointer, pw = layer.weight.storage.pointer
    let pb = layer.bias?.storage.pointer, pr = residual?.storage.pointer
    return Tensor.make(Array(x.shape.dropLast()) + [outF]) { out in
        let y = out.baseAddress!
        if rows <= 16 {
            Parallel.forRanges(outF, grain: 32) { outputs in
                for o in outputs {
                    let w = pw + o * inF, bias = pb?[o] ?? 0
                    var r = 0
                    while r + 4 <= rows {             // four rows share each load of the weight row
                        let d = dot8x4(w, px + r * inF, inF)
                        for i in 0..<4 { y[(r + i) * outF + o] = bias + d[i] }
                        r += 4
                    }
                    while r < rows { y[r * outF + o] = bias + dot8(px + r * inF, w, inF); r += 1 }
                }
            }
        } else {
            for r in 0..<rows {
                if let pb { (y + r * outF).update(from: pb, count: outF) } else { (y + r * outF).update(repeating: 0, count: outF) }
            }
            sgemm(transB: true, m: rows, n: outF, k: inF, a: px, b: pw, beta: 1, c: y)
        }
        if let pr { for i in 0..<(rows * outF) { y[i] += pr[i] } }
    }
}

/// The dot products of `w` with four consecutive rows of `x` (row length `count`).
@inline(__always)
func dot8x4(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) -> SIMD4<Float> {
    var a0 = SIMD8<Float>(repeating: 0), a1 = a0, a2 = a0, a3 = a0, i = 0
    let x1 = x + count, x2 = x1 + count, x3 = x2 + count
    func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }
    while i + 8 <= count {
        let wv = load(w + i)
        a0 += load(x + i) * wv; a1 += load(x1 + i) * wv
        a2 += load(x2 + i) * wv; a3 += load(x3 + i) * wv
        i += 8
    }
    var d = SIMD4<Float>(a0.sum(), a1.sum(), a2.sum(), a3.sum())
    while i < count { d += SIMD4(x[i], x1[i], x2[i], x3[i]) * w[i]; i += 1 }
    return d
}

/// LayerNorm over the last dimension, without a graph.
func inferenceLayerNorm(_ x: Tensor, _ norm: LayerNorm) -> Tensor {
    let c = x.shape[x.rank - 1], rows = x.count / c
    let px = x.storage.pointer
    let gamma = norm.weight!.storage.pointer, beta = norm.bias!.storage.pointer // invariant: GPT norms are affine
    return Tensor.make(x.shape) { out in
        let o = out.baseAddress!
        for r in 0..<rows {
            let row = px + r * c, y = o + r * c
            let mean = sum8(row, c) / Float(c)
            for j in 0..<c { y[j] = row[j] - mean }
            let rs = 1 / (dot8(y, y, c) / Float(c) + norm.eps).squareRoot()
            for j in 0..<c { y[j] = y[j] * rs * gamma[j] + beta[j] }
        }
    }
}
