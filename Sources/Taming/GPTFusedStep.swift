import Foundation
import NN
import Tensors

// Shape letters: B batch, T positions, N = B·T rows, C width, nh heads, hd = C / nh, V vocabulary.

/// The GPT's training step written out by hand, forward and backward, in the manner of llm.c:
/// the fast path beside the autodiff model in `GPT.swift`, which stays the readable reference.
/// Both compute the same loss and the same gradients (`GPTTests` holds them to each other).
///
/// What makes it faster than the same maths through the tape:
/// - queries, keys and values come from one matrix product ([N, C] · [3C, C]ᵀ, the three
///   projections stacked) and are never transposed into heads: each head's products read its
///   columns in place (BLAS leading dimensions) and write its output straight into [N, C];
/// - causal attention in row blocks that skip most of the masked upper triangle;
/// - one buffer per activation, allocated once per step, and no graph nodes or closures;
/// - biases written into the outputs before the products add onto them (BLAS β = 1), the
///   softmax of the loss turned into its own gradient in place, GELU and exponentials in loops
///   that vectorise (`fastExp`, `fastErf`) instead of a libm call per element;
/// - bias and LayerNorm gradients summed over fixed chunks of rows, then the chunks in order, so
///   the result does not depend on how many threads did the work.
///
/// Dropout is not implemented here: use it only with dropout 0 or in evaluation mode
/// (`accumulateGradients` chooses for you).
extension GPT {
    /// Forward and backward for `inputs` → `targets` (both [B][T]): adds every parameter's
    /// gradient of the mean cross-entropy into its `grad` and returns the loss in nats.
    public func fusedLossAndGradients(inputs: [[Int]], targets: [[Int]]) -> Float {
        precondition(config.dropout == 0 || !isTraining, "the fused step has no dropout") // invariant: a programming error, not user input
        let b = inputs.count, t = inputs[0].count
        precondition(t <= config.blockSize && inputs.allSatisfy { $0.count == t }  // invariant: a programming error, not user input
                     && targets.count == b && targets.allSatisfy { $0.count == t },
                     "fused step: inputs and targets must be [B][T] with T ≤ block size")
        let step = FusedStep(model: self, batch: b, length: t)
        let loss = step.forward(tokens: inputs.flatMap { $0 }, targets: targets.flatMap { $0 })
        step.backward()
        return loss
    }
}

/// Query rows per block in the causal attention products (see `attentionForward`).
let attentionBlock = 64

/// Buffers and passes of one fused training step.
final class FusedStep {
    let model: GPT
    let b: Int, t: Int, n: Int, c: Int, nh: Int, hd: Int, v: Int, layers: Int
    var tokens: [Int] = [], targets: [Int] = []
    private var buffers: [UnsafeMutablePointer<Float>] = []

    /// What one block keeps for its backward pass.
    struct Saved {
        var input: UnsafeMutablePointer<Float>      // x_l [N, C]
        var ln1: LayerNormSaved                     // a = LN1(x_l)
        var qkv: UnsafeMutablePointer<Float>        // [N, 3C]: queries, keys, values side by side
        var qkvWeight: UnsafeMutablePointer<Float>  // [3C, C]: the three projections stacked
        var probs: UnsafeMutablePointer<Float>      // [B, nh, T, T]
        var attended: UnsafeMutablePointer<Float>   // y [N, C], heads side by side
        var mid: UnsafeMutablePointer<Float>        // h = x_l + proj(y) [N, C]
        var ln2: LayerNormSaved                     // a2 = LN2(h)
        var pre: UnsafeMutablePointer<Float>        // f = fc(a2) [N, 4C]
        var act: UnsafeMutablePointer<Float>        // gelu(f) [N, 4C]
    }

    struct LayerNormSaved {
        var out: UnsafeMutablePointer<Float>        // γ·x̂ + β [N, C]
        var xhat: UnsafeMutablePointer<Float>       // [N, C]
        var rstd: UnsafeMutablePointer<Float>       // [N]
    }

    var saved: [Saved] = []
    var finalNorm: LayerNormSaved!
    var logits: UnsafeMutablePointer<Float>!        // [N, V], then its gradient

    init(model: GPT, batch: Int, length: Int) {
        self.model = model
        b = batch; t = length; n = batch * length
        c = model.config.embeddingDim; nh = model.config.heads; hd = c / nh
        v = model.config.vocabularySize; layers = model.config.layers
    }

    deinit { for p in buffers { p.deallocate() } }

    /// A buffer of `count` floats that lives as long as the step.
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        let p = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        buffers.append(p)
        return p
    }

    // MARK: Forward

    func forward(tokens: [Int], targets: [Int]) -> Float {
        self.tokens = tokens
        self.targets = targets
        // x0 = tok_emb[token] + pos_emb[position]
        var x = buffer(n * c)
        let emb = model.tok_emb.weight.storage.pointer, pos = model.pos_emb.storage.pointer
        let vocab = model.config.vocabularySize, (c, t) = (self.c, self.t), config = model.config
        tokens.withUnsafeBufferPointer { tok in
            Parallel.forRanges(n, grain: 64) { rows in
                for r in rows {
                    precondition(tok[r] >= 0 && tok[r] < vocab, "token \(tok[r]) outside 0..<\(vocab)") // invariant: a programming error, not user input
                    let e = emb + tok[r] * c, p = pos + config.positionRow(r % t) * c, o = x + r * c
                    for j in 0..<c { o[j] = e[j] + p[j] }
                }
            }
        }
        for block in model.blocks { x = forward(block, input: x) }
        finalNorm = layerNorm(x, model.ln_f)
        logits = buffer(n * v)
        sgemm(transB: true, m: n, n: v, k: c, a: finalNorm.out, b: model.head.weight.storage.pointer, c: logits)
        return crossEntropyInPlace()
    }

    private func forward(_ block: GPTBlock, input x: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let attn = block.attn
        let ln1 = layerNorm(x, block.ln1)
        // The three projections as one product: [N, C] · [3C, C]ᵀ → [N, 3C].
        let projections = [attn.query, attn.key, attn.value]
        let qkvWeight = buffer(3 * c * c), qkvBias = buffer(3 * c)
        for (i, layer) in projections.enumerated() {
            (qkvWeight + i * c * c).update(from: layer.weight.storage.pointer, count: c * c)
            (qkvBias + i * c).update(from: layer.bias!.storage.pointer, count: c) // invariant: minGPT's have biases
        }
        let qkv = buffer(n * 3 * c)
        Parallel.forRanges(n, grain: 64) { r in for i in r { (qkv + i * 3 * c).update(from: qkvBias, count: 3 * c) } }
        sgemm(transB: true, m: n, n: 3 * c, k: c, a: ln1.out, b: qkvWeight, beta: 1, c: qkv)
        let probs = buffer(b * nh * t * t), y = buffer(n * c)     // [B, nh, T, T], [N, C]
        attentionForward(qkv: qkv, probs: probs, out: y)
        let mid = linear(y, attn.proj, rows: n)
        add(mid, x, count: n * c)                                    // h = x + proj(y)
        let ln2 = layerNorm(mid, block.ln2)
        let pre = linear(ln2.out, block.fc, rows: n)                 // [N, 4C]
        let act = buffer(n * 4 * c)                                  // gelu(pre)
        geluForward(pre, act, count: n * 4 * c)
        let out = linear(act, block.fcOut, rows: n)
        add(out, mid, count: n * c)                                  // x' = h + mlp(ln2(h))
        saved.append(Saved(input: x, ln1: ln1, qkv: qkv, qkvWeight: qkvWeight, probs: probs, attended: y, mid: mid,
                           ln2: ln2, pre: pre, act: act))
        return out
    }

    /// y = x·Wᵀ + b for `rows` rows: the bias is written first and the product added onto it.
    private func linear(_ x: UnsafeMutablePointer<Float>, _ layer: Linear, rows: Int) -> UnsafeMutablePointer<Float> {
        let inF = layer.inFeatures, outF = layer.outFeatures
        let y = buffer(rows * outF)
        if let bias = layer.bias?.storage.pointer {
            Parallel.forRanges(rows, grain: max(1, 16_384 / outF)) { r in
                for i in r { (y + i * outF).update(from: bias, count: outF) }
            }
        }
        sgemm(transB: true, m: rows, n: outF, k: inF, a: x, b: layer.weight.storage.pointer,
              beta: layer.bias == nil ? 0 : 1, c: y)
        return y
    }

    private func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forRanges(count) { r in for i in r { y[i] += x[i] } }
    }

    private func layerNorm(_ x: UnsafeMutablePointer<Float>, _ norm: LayerNorm) -> LayerNormSaved {
        let c = self.c, eps = norm.eps
        let s = LayerNormSaved(out: buffer(n * c), xhat: buffer(n * c), rstd: buffer(n))
        let gamma = norm.weight!.storage.pointer, beta = norm.bias!.storage.pointer // invariant: GPT norms are affine
        Parallel.forRanges(n, grain: 32) { rows in
            for r in rows {
                let row = x + r * c, xh = s.xhat + r * c, o = s.out + r * c
                let mean = sum8(row, c) / Float(c)
                for j in 0..<c { xh[j] = row[j] - mean }
                let rs = 1 / (dot8(xh, xh, c) / Float(c) + eps).squareRoot()
                for j in 0..<c {
                    let h = xh[j] * rs
                    xh[j] = h
                    o[j] = h * gamma[j] + beta[j]
                }
                s.rstd[r] = rs
            }
        }
        return s
    }

    /// Causal multi-head attention, head by head; heads read and write their columns of [N, C].
    /// Rows go in blocks of `attentionBlock`: a block of queries needs only the keys up to its
    /// last row, so the products skip most of the masked upper triangle.
    private func attentionForward(qkv: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                                  out: UnsafeMutablePointer<Float>) {
        let (t, c, nh, hd) = (self.t, self.c, self.nh, self.hd)
        let scale = 1 / Float(hd).squareRoot()
        let ld = 3 * c
        Parallel.forEachWithSerialBLAS(b * nh) { bh in
            let (i, h) = (bh / nh, bh % nh)
            let q = qkv + i * t * ld + h * hd, k = q + c, v = q + 2 * c      // this head's columns
            let offset = i * t * c + h * hd
            let p = probs + bh * t * t
            for r0 in stride(from: 0, to: t, by: attentionBlock) {
                let r1 = min(t, r0 + attentionBlock)
                // scores of queries r0..<r1 against keys 0..<r1, into rows r0..<r1 of P
                sgemm(transB: true, m: r1 - r0, n: r1, k: hd, alpha: scale, a: q + r0 * ld, lda: ld,
                      b: k, ldb: ld, c: p + r0 * t, ldc: t)
                for r in r0..<r1 {
                    let row = p + r * t
                    softmaxInPlace(row, count: r + 1)
                    (row + r + 1).update(repeating: 0, count: t - r - 1)
                }
                sgemm(m: r1 - r0, n: hd, k: r1, a: p + r0 * t, lda: t, b: v, ldb: ld,
                      c: out + offset + r0 * c, ldc: c)
            }
        }
    }

    /// Mean cross-entropy of the logits against the targets; leaves dLoss/dlogits in `logits`.
    private func crossEntropyInPlace() -> Float {
        let (v, n) = (self.v, self.n)
        var rowLoss = [Float](repeating: 0, count: n)
        let scale = 1 / Float(n)
        targets.withUnsafeBufferPointer { tg in
            rowLoss.withUnsafeMutableBufferPointer { lossBuffer in
                let losses = lossBuffer.baseAddress!
                Parallel.forRanges(n, grain: max(1, 8192 / v)) { rows in
                    for r in rows {
                        let row = logits + r * v
                        precondition(tg[r] >= 0 && tg[r] < v, "target \(tg[r]) outside 0..<\(v)") // invariant: a programming error, not user input
                        let m = max8(row, v)
                        let targetLogit = row[tg[r]]
                        for j in 0..<v { row[j] = fastExp(row[j] - m) }
                        let sum = sum8(row, v)
                        losses[r] = logf(sum) + m - targetLogit        // −log softmax at the target
                        let inv = scale / sum
                        for j in 0..<v { row[j] *= inv }
                        row[tg[r]] -= scale
                    }
                }
            }
        }
        var total: Double = 0
        for l in rowLoss { total += Double(l) }
        return Float(total / Double(n))
    }

    // MARK: Backward

    func backward() {
        let c = self.c
        // Head: logits = a_f·W_headᵀ (no bias).
        let head = model.head
        sgemm(transA: true, m: v, n: c, k: n, a: logits, b: finalNorm.out, beta: 1, c: gradient(head.weight))
        let dNorm = buffer(n * c)
        sgemm(m: n, n: c, k: v, a: logits, b: head.weight.storage.pointer, c: dNorm)
        var dx = buffer(n * c)
        layerNormBackward(dNorm, finalNorm, model.ln_f, into: dx, accumulate: false)
        for (block, s) in zip(model.blocks, saved).reversed() { dx = backward(block, s, dOut: dx) }
        embeddingBackward(dx)
    }

    /// Takes dL/dx_{l+1} and returns dL/dx_l.
    private func backward(_ block: GPTBlock, _ s: Saved, dOut: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        let (n, c) = (self.n, self.c)
        let attn = block.attn
        // x' = h + fcOut(gelu(fc(ln2(h)))): dh starts as dx'.
        let dAct = linearBackward(dOut, input: s.act, block.fcOut, rows: n)
        geluBackward(dAct, pre: s.pre, count: n * 4 * c)
        let dLn2 = linearBackward(dAct, input: s.ln2.out, block.fc, rows: n)
        let dMid = dOut                                                            // reuse: dh = dx' + LN2ᵀ(…)
        layerNormBackward(dLn2, s.ln2, block.ln2, into: dMid, accumulate: true)
        // h = x + proj(y): dx starts as dh.
        let dY = linearBackward(dMid, input: s.attended, attn.proj, rows: n)
        let dqkv = buffer(n * 3 * c)                                               // [N, 3C]
        attentionBackward(s, dY: dY, dqkv: dqkv)
        // The stacked projection's gradients, then handed to query, key and value.
        let dWeight = buffer(3 * c * c), dBias = buffer(3 * c)
        dBias.update(repeating: 0, count: 3 * c)
        sgemm(transA: true, m: 3 * c, n: c, k: n, a: dqkv, b: s.ln1.out, c: dWeight)
        columnSums(dqkv, rows: n, columns: 3 * c, into: dBias)
        for (i, layer) in [attn.query, attn.key, attn.value].enumerated() {
            let gw = gradient(layer.weight), gb = gradient(layer.bias!) // invariant: minGPT's have biases
            let sw = dWeight + i * c * c, sb = dBias + i * c
            for j in 0..<(c * c) { gw[j] += sw[j] }
            for j in 0..<c { gb[j] += sb[j] }
        }
        let dLn1 = buffer(n * c)
        sgemm(m: n, n: c, k: 3 * c, a: dqkv, b: s.qkvWeight, c: dLn1)
        layerNormBackward(dLn1, s.ln1, block.ln1, into: dMid, accumulate: true)
        return dMid
    }

    /// For y = x·Wᵀ + b: adds dW = dyᵀ·x and db = Σ dy into the gradients and returns dx = dy·W
    /// (or adds it into `addingInto`).
    @discardableResult
    private func linearBackward(_ dy: UnsafeMutablePointer<Float>, input x: UnsafeMutablePointer<Float>,
                                _ layer: Linear, rows: Int,
                                addingInto target: UnsafeMutablePointer<Float>? = nil) -> UnsafeMutablePointer<Float> {
        let inF = layer.inFeatures, outF = layer.outFeatures
        sgemm(transA: true, m: outF, n: inF, k: rows, a: dy, b: x, beta: 1, c: gradient(layer.weight))
        if let bias = layer.bias { columnSums(dy, rows: rows, columns: outF, into: gradient(bias)) }
        let dx = target ?? buffer(rows * inF)
        sgemm(m: rows, n: inF, k: outF, a: dy, b: layer.weight.storage.pointer, beta: target == nil ? 0 : 1, c: dx)
        return dx
    }

    /// Adds the column sums of x [rows, columns] into `out`, summing fixed chunks of rows in
    /// parallel and then the chunks in order.
    private func columnSums(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                            into out: UnsafeMutablePointer<Float>) {
        let chunk = 64, chunks = (rows + chunk - 1) / chunk
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * columns)
        defer { partial.deallocate() }
        Parallel.forEach(chunks) { ch in
            let p = partial + ch * columns
            p.update(repeating: 0, count: columns)
            for r in (ch * chunk)..<min(rows, (ch + 1) * chunk) {
                let row = x + r * columns
                for j in 0..<columns { p[j] += row[j] }
            }
        }
        for ch in 0..<chunks {
            let p = partial + ch * columns
            for j in 0..<columns { out[j] += p[j] }
        }
    }

    /// dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = γ·dy, written into (or added to) `dx`;
    /// dγ += Σ dy·x̂ and dβ += Σ dy over rows.
    private func layerNormBackward(_ dy: UnsafeMutablePointer<Float>, _ s: LayerNormSaved, _ norm: LayerNorm,
                                   into dx: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let c = self.c, n = self.n
        let gamma = norm.weight!.storage.pointer // invariant: GPT norms are affine
        let chunk = 64, chunks = (n + chunk - 1) / chunk
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks * 2 * c)
        defer { partial.deallocate() }
        Parallel.forEach(chunks) { ch in
            let pg = partial + ch * 2 * c, pb = pg + c
            pg.update(repeating: 0, count: 2 * c)
            let dxhat = UnsafeMutablePointer<Float>.allocate(capacity: c)
            defer { dxhat.deallocate() }
            for r in (ch * chunk)..<min(n, (ch + 1) * chunk) {
                let g = dy + r * c, xh = s.xhat + r * c, o = dx + r * c
                for j in 0..<c {
                    dxhat[j] = g[j] * gamma[j]
                    pg[j] += g[j] * xh[j]; pb[j] += g[j]
                }
                let m1 = sum8(dxhat, c) / Float(c), m2 = dot8(dxhat, xh, c) / Float(c)
                let rs = s.rstd[r]
                if accumulate {
                    for j in 0..<c { o[j] += rs * (dxhat[j] - m1 - xh[j] * m2) }
                } else {
                    for j in 0..<c { o[j] = rs * (dxhat[j] - m1 - xh[j] * m2) }
                }
            }
        }
        let dGamma = gradient(norm.weight!), dBeta = gradient(norm.bias!) // invariant: affine
        for ch in 0..<chunks {
            let pg = partial + ch * 2 * c
            for j in 0..<c { dGamma[j] += pg[j]; dBeta[j] += pg[c + j] }
        }
    }

    /// The backward pass of `attentionForward`, in the same row blocks: only the lower triangle
    /// of P and dS is ever read, so dV and dK, which sum over rows at or below each key, start
    /// at the key block's first row.
    private func attentionBackward(_ s: Saved, dY: UnsafeMutablePointer<Float>, dqkv: UnsafeMutablePointer<Float>) {
        let (t, c, nh, hd) = (self.t, self.c, self.nh, self.hd)
        let scale = 1 / Float(hd).squareRoot()
        let ld = 3 * c
        let scratch = buffer(b * nh * t * t)
        Parallel.forEachWithSerialBLAS(b * nh) { bh in
            let (i, h) = (bh / nh, bh % nh)
            let offset = i * t * c + h * hd
            let q = s.qkv + i * t * ld + h * hd, k = q + c, v = q + 2 * c
            let dq = dqkv + i * t * ld + h * hd, dk = dq + c, dv = dq + 2 * c
            let p = s.probs + bh * t * t, dp = scratch + bh * t * t
            for j0 in stride(from: 0, to: t, by: attentionBlock) {
                // dV[j0..<j1] = P[j0..<T, j0..<j1]ᵀ · dY[j0..<T]
                let j1 = min(t, j0 + attentionBlock)
                sgemm(transA: true, m: j1 - j0, n: hd, k: t - j0, a: p + j0 * t + j0, lda: t,
                      b: dY + offset + j0 * c, ldb: c, c: dv + j0 * ld, ldc: ld)
            }
            for r0 in stride(from: 0, to: t, by: attentionBlock) {
                let r1 = min(t, r0 + attentionBlock)
                // dP = dY·Vᵀ for rows r0..<r1, keys 0..<r1
                sgemm(transB: true, m: r1 - r0, n: r1, k: hd, a: dY + offset + r0 * c, lda: c,
                      b: v, ldb: ld, c: dp + r0 * t, ldc: t)
                // dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale, zero above the diagonal
                for r in r0..<r1 {
                    let pr = p + r * t, dr = dp + r * t
                    let dot = dot8(pr, dr, r + 1)
                    for j in 0...r { dr[j] = pr[j] * (dr[j] - dot) * scale }
                    (dr + r + 1).update(repeating: 0, count: t - r - 1)
                }
                // dQ[r0..<r1] = dS[r0..<r1, 0..<r1] · K[0..<r1]
                sgemm(m: r1 - r0, n: hd, k: r1, a: dp + r0 * t, lda: t, b: k, ldb: ld,
                      c: dq + r0 * ld, ldc: ld)
            }
            for j0 in stride(from: 0, to: t, by: attentionBlock) {
                // dK[j0..<j1] = dS[j0..<T, j0..<j1]ᵀ · Q[j0..<T]
                let j1 = min(t, j0 + attentionBlock)
                sgemm(transA: true, m: j1 - j0, n: hd, k: t - j0, a: dp + j0 * t + j0, lda: t,
                      b: q + j0 * ld, ldb: ld, c: dk + j0 * ld, ldc: ld)
            }
        }
    }

    /// Token rows gather their gradients (parallel over columns, so repeated tokens never race);
    /// positions sum theirs over the batch.
    private func embeddingBackward(_ dx: UnsafeMutablePointer<Float>) {
        let (c, t, b) = (self.c, self.t, self.b)
        let dEmb = gradient(model.tok_emb.weight), dPos = gradient(model.pos_emb)
        tokens.withUnsafeBufferPointer { tok in
            Parallel.forRanges(c, grain: 16) { cols in
                for r in 0..<tok.count {
                    let row = dEmb + tok[r] * c, g = dx + r * c
                    for j in cols { row[j] += g[j] }
                }
            }
        }
        // Parallel over columns: with a position period, several positions share a row.
        let config = model.config
        Parallel.forRanges(c, grain: 16) { cols in
            for p in 0..<t {
                let row = dPos + config.positionRow(p) * c
                for i in 0..<b { let g = dx + (i * t + p) * c; for j in cols { row[j] += g[j] } }
            }
        }
    }

    /// The parameter's gradient buffer, created (zero) if it has none yet.
    private func gradient(_ p: Tensor) -> UnsafeMutablePointer<Float> {
        if p.grad == nil { p.grad = Tensor.zeros(p.shape) }
        return p.grad!.storage.pointer // invariant: set just above
    }
}

// MARK: - Vectorisable maths
//
// Written as straight-line scalar code without branches or calls, which the compiler turns into
// vector instructions across loop iterations; libm's expf and erff are calls per element and
// cost several times more.

// e^x and erf are `Tensors.fastExp` and `Tensors.fastErf`, written the same way.

/// softmax over `count` values in place (the visible part of an attention row). The exponentials
/// go in a loop of their own, so that it vectorises; the sums run on eight lanes.
@inline(__always)
func softmaxInPlace(_ row: UnsafeMutablePointer<Float>, count: Int) {
    let m = max8(row, count)
    for j in 0..<count { row[j] = fastExp(row[j] - m) }
    let inv = 1 / sum8(row, count)
    for j in 0..<count { row[j] *= inv }
}

/// Σ x over `count` floats, eight partial sums at a time (a Float loop with one running sum can
/// neither vectorise nor hide the latency of its additions).
@inline(__always)
func sum8(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0), i = 0
    while i + 8 <= count { acc += UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self); i += 8 }
    var total = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
    while i < count { total += x[i]; i += 1 }
    return total
}

/// Σ a·b over `count` floats, eight lanes at a time, with two running sums in flight.
@inline(__always)
func dot8(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0), acc2 = acc, i = 0
    while i + 16 <= count {
        acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        acc2 += UnsafeRawPointer(a + i + 8).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(b + i + 8).loadUnaligned(as: SIMD8<Float>.self)
        i += 16
    }
    acc += acc2
    while i + 8 <= count {
        acc += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        i += 8
    }
    var total = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
    while i < count { total += a[i] * b[i]; i += 1 }
    return total
}

/// The largest of `count` floats (count ≥ 1), with four independent running maxima.
@inline(__always)
func max8(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
    var m0 = x[0], m1 = x[0], m2 = x[0], m3 = x[0], i = 0
    while i + 4 <= count {
        m0 = x[i] > m0 ? x[i] : m0; m1 = x[i + 1] > m1 ? x[i + 1] : m1
        m2 = x[i + 2] > m2 ? x[i + 2] : m2; m3 = x[i + 3] > m3 ? x[i + 3] : m3
        i += 4
    }
    while i < count { m0 = x[i] > m0 ? x[i] : m0; i += 1 }
    return max(max(m0, m1), max(m2, m3))
}

// MARK: - GELU

/// GELU(x) = x·Φ(x) = ½·x·(1 + erf(x/√2)), the exact form of torch.nn.GELU().
func geluForward(_ x: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forRanges(count, grain: 16_384) { r in fastGELU(x + r.lowerBound, y + r.lowerBound, count: r.count) }
}

/// g ← g · GELU′(x) with GELU′(x) = Φ(x) + x·φ(x), in place; e^(−x²/2) serves both terms.
func geluBackward(_ g: UnsafeMutablePointer<Float>, pre x: UnsafeMutablePointer<Float>, count: Int) {
    Parallel.forRanges(count, grain: 16_384) { r in
        for i in r {
            let v = x[i], z = v * 0.707_106_78
            let e = fastExp(-z * z)
            g[i] *= 0.5 * (1 + fastErf(z, expMinusSquare: e)) + v * e * 0.398_942_28
        }
    }
}

extension GPTBlock {
    /// The MLP's first layer, C → 4C (`mlp.0`).
    var fc: Linear { mlp[0] as! Linear } // invariant: built as Linear in init
    /// The MLP's second layer, 4C → C (`mlp.2`).
    var fcOut: Linear { mlp[2] as! Linear } // invariant: built as Linear in init
}
