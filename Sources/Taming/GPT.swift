import Foundation
import NN
import Tensors

// Shape letters in this file: B batch, T positions (tokens), C width (n_embd), V vocabulary,
// nh heads, hd = C / nh the width of one head, S positions held in a key-value cache.

/// The transformer of the paper's second stage (§3.2): minGPT as the reference ships it, a stack of
/// pre-LayerNorm blocks with causal multi-head self-attention and a 4× GELU MLP, predicting the next
/// token p(s_i | s_<i) of Eq. (7). Chapter 01 runs it on pixels, chapter 04 on codes.
public struct GPTConfig: Codable, Equatable, Sendable {
    /// Tokens the model can read and predict (image codes, plus conditioning tokens if shared).
    public var vocabularySize: Int
    /// The longest sequence (`block_size`): the size of the learned position table.
    public var blockSize: Int
    public var layers: Int
    public var heads: Int
    /// Width of the residual stream (`n_embd`); a multiple of `heads`.
    public var embeddingDim: Int
    /// Dropout on embeddings, attention weights and residual branches (0 in most reference configs).
    public var dropout: Float
    /// nil (the reference): every position has its own row of the position table. A period p:
    /// position i reads row i mod p, so that with a prefix of p conditioning tokens the code at
    /// window place j and the conditioning token at the same place share one position vector —
    /// the alignment of a map with its picture is then given, not learned pair by pair
    /// (chapter 06's concession to a five-minute budget).
    public var positionPeriod: Int?

    public init(vocabularySize: Int, blockSize: Int, layers: Int, heads: Int, embeddingDim: Int, dropout: Float = 0,
                positionPeriod: Int? = nil) {
        precondition(positionPeriod.map { $0 > 0 } ?? true, "a position period must be positive") // invariant: configs are made in code
        self.vocabularySize = vocabularySize; self.blockSize = blockSize; self.layers = layers
        self.heads = heads; self.embeddingDim = embeddingDim; self.dropout = dropout
        self.positionPeriod = positionPeriod
    }

    /// The row of the position table that position `i` reads.
    @inline(__always) public func positionRow(_ i: Int) -> Int {
        if let positionPeriod { return i % positionPeriod }
        return i
    }

    /// Trainable scalars of a GPT with this configuration: embeddings, 12·C² + 13·C per block
    /// (four C×C projections and the 4× MLP, with biases and two LayerNorms), final LN, head.
    public var parameterCount: Int {
        let c = embeddingDim
        return vocabularySize * c + blockSize * c + layers * (12 * c * c + 13 * c) + 2 * c + c * vocabularySize
    }
}

/// Multi-head attention in which each position sees only itself and earlier positions. Separate
/// key, query and value projections and an output projection, as in minGPT.
public final class CausalSelfAttention: Module {
    public let key: Linear
    public let query: Linear
    public let value: Linear
    public let proj: Linear
    let attn_drop: Dropout
    let resid_drop: Dropout
    public let heads: Int

    public init(_ config: GPTConfig, rng: inout RandomGenerator) {
        precondition(config.embeddingDim % config.heads == 0,  // invariant: a programming error, not user input
                     "\(config.embeddingDim) channels do not split into \(config.heads) heads")
        let c = config.embeddingDim
        key = Linear(inFeatures: c, outFeatures: c, rng: &rng)
        query = Linear(inFeatures: c, outFeatures: c, rng: &rng)
        value = Linear(inFeatures: c, outFeatures: c, rng: &rng)
        proj = Linear(inFeatures: c, outFeatures: c, rng: &rng)
        attn_drop = Dropout(p: config.dropout, seed: rng.next())
        resid_drop = Dropout(p: config.dropout, seed: rng.next())
        heads = config.heads
        super.init()
    }

    /// x [B, T, C] → [B, T, C]. With a cache (inference only: no gradients flow into it), x holds
    /// only the new positions; their keys and values are appended to the cache and the queries
    /// attend to every cached position.
    public func callAsFunction(_ x: Tensor, cache: LayerCache? = nil) -> Tensor {
        let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
        if let cache {
            cache.append(keys: key(x), values: value(x), heads: heads)
            return recordShapes(x, output: resid_drop(proj(cache.attend(queries: query(x), heads: heads))))
        }
        let hd = c / heads
        // [B, T, C] → [B, nh, T, hd]
        func split(_ y: Tensor) -> Tensor { y.reshaped([b, t, heads, hd]).transposed(1, 2) }
        let k = split(key(x)), q = split(query(x)), v = split(value(x))
        let y = attn_drop.p > 0 && isTraining
            ? explicitAttention(q: q, k: k, v: v)
            : scaledDotProductAttention(q: q, k: k, v: v, causal: true)   // [B, nh, T, hd]
        return recordShapes(x, output: resid_drop(proj(y.transposed(1, 2).reshaped([b, t, c]))))
    }

    /// softmax(Q·Kᵀ/√hd + M)·V written out step by step, with dropout on the attention weights as
    /// the reference applies it; M is −∞ above the diagonal. The fused kernel computes the same
    /// thing without materialising a graph node per step, so it serves whenever dropout is off.
    func explicitAttention(q: Tensor, k: Tensor, v: Tensor) -> Tensor {
        let t = q.shape[2], hd = q.shape[3]
        let mask = Tensor.make([t, t]) { m in                                // [T, T]
            for i in 0..<t { for j in 0..<t { m[i * t + j] = j <= i ? 0 : -.infinity } }
        }
        let scores = q.matmul(k.transposed(2, 3)) * (1 / Float(hd).squareRoot()) + mask // [B, nh, T, T]
        return attn_drop(softmax(scores, axis: -1)).matmul(v)
    }
}

/// The keys and values of one layer for the positions generated so far, so that generating token
/// T + 1 costs one position's work instead of T + 1 (the reference's `forward_with_past`).
///
/// Storage is allocated once for `capacity` positions, [B, nh, capacity, hd], and filled in
/// place: appending never copies what is already there. Inference only: nothing is recorded for
/// gradients.
public final class LayerCache {
    /// The most positions the cache can hold (the model's block size).
    public let capacity: Int
    /// Positions held so far.
    public private(set) var length = 0
    private var keys: Tensor?     // [B, nh, capacity, hd]
    private var values: Tensor?   // [B, nh, capacity, hd]

    public init(capacity: Int) { self.capacity = capacity }

    /// Forgets every position (keeping the storage), so that a new sequence can be read.
    public func reset() { length = 0 }

    /// Appends the keys and values of t new positions, given as [B, t, C] with head h in columns
    /// h·hd ..< (h + 1)·hd (as the projections produce them).
    func append(keys k: Tensor, values v: Tensor, heads nh: Int) {
        let (b, t, c) = (k.shape[0], k.shape[1], k.shape[2])
        let hd = c / nh
        if keys == nil {
            keys = Tensor.zeros([b, nh, capacity, hd])
            values = Tensor.zeros([b, nh, capacity, hd])
        }
        let store = keys!, storeV = values! // invariant: allocated just above
        precondition(store.shape[0] == b && store.shape[1] == nh && store.shape[3] == hd,  // invariant: a programming error, not user input
                     "cache of \(store.shape) cannot take keys \(k.shape)")
        precondition(length + t <= capacity, "cache of \(capacity) positions overflows at \(length + t)") // invariant: a programming error, not user input
        let start = length
        for (source, target) in [(k, store), (v, storeV)] {
            source.withUnsafeBufferPointer { src in
                target.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<b {
                        for h in 0..<nh {
                            for r in 0..<t {
                                let from = src.baseAddress! + (i * t + r) * c + h * hd
                                let to = dst.baseAddress! + ((i * nh + h) * capacity + start + r) * hd
                                to.update(from: from, count: hd)
                            }
                        }
                    }
                }
            }
        }
        length += t
    }

    /// Causal attention of t new queries [B, t, C] (the last t cached positions) over all cached
    /// positions, head by head: [B, t, C] with head h in columns h·hd ..< (h + 1)·hd.
    func attend(queries q: Tensor, heads nh: Int) -> Tensor {
        let (b, t, c) = (q.shape[0], q.shape[1], q.shape[2])
        let hd = c / nh, s = length, cap = capacity
        let scale = 1 / Float(hd).squareRoot()
        let pk = keys!.storage.pointer, pv = values!.storage.pointer // invariant: append came first
        let pq = q.storage.pointer
        let out = Tensor.make([b, t, c]) { _ in }
        let po = out.storage.pointer
        let scratch = Tensor.make([b * nh, t, s]) { _ in }
        let ps = scratch.storage.pointer
        Parallel.forEachWithSerialBLAS(b * nh) { bh in
            let (i, h) = (bh / nh, bh % nh)
            let kv = (i * nh + h) * cap * hd
            let p = ps + bh * t * s
            let query = pq + i * t * c + h * hd, output = po + i * t * c + h * hd
            if t == 1 {
                // One new position (a sampling step): a dot product per key, then a weighted sum
                // of the value rows, each cached row read once. (BLAS would first copy the whole
                // cache into its blocked layout, for a product of one row.)
                for j in 0..<s { p[j] = scale * dot8(query, pk + kv + j * hd, hd) }
                softmaxInPlace(p, count: s)
                output.update(repeating: 0, count: hd)
                for j in 0..<s {
                    let w = p[j], row = pv + kv + j * hd
                    for d in 0..<hd { output[d] += w * row[d] }
                }
                return
            }
            // scores [t, S] = Q·Kᵀ·scale, Q rows strided by C
            sgemm(transB: true, m: t, n: s, k: hd, alpha: scale, a: query, lda: c, b: pk + kv, ldb: hd, c: p)
            for r in 0..<t {
                let row = p + r * s, visible = s - t + r + 1
                softmaxInPlace(row, count: visible)
                (row + visible).update(repeating: 0, count: s - visible)
            }
            // out [t, hd] = P·V, written into columns h·hd… of [B, t, C]
            sgemm(m: t, n: hd, k: s, a: p, b: pv + kv, c: output, ldc: c)
        }
        return out
    }
}

/// A transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)). (Members are declared in the
/// order data flows through them, so that diagrams draw them so; the names are the reference's.)
public final class GPTBlock: Module {
    public let ln1: LayerNorm
    public let attn: CausalSelfAttention
    public let ln2: LayerNorm
    /// Linear(C, 4C) → GELU → Linear(4C, C) → dropout: `mlp.0.*` and `mlp.2.*` as in the reference.
    public let mlp: Sequential

    public init(_ config: GPTConfig, rng: inout RandomGenerator) {
        ln1 = LayerNorm(config.embeddingDim)
        ln2 = LayerNorm(config.embeddingDim)
        attn = CausalSelfAttention(config, rng: &rng)
        let c = config.embeddingDim
        mlp = Sequential(Linear(inFeatures: c, outFeatures: 4 * c, rng: &rng), GELU(),
                         Linear(inFeatures: 4 * c, outFeatures: c, rng: &rng),
                         Dropout(p: config.dropout, seed: rng.next()))
        super.init()
    }

    public func callAsFunction(_ x: Tensor, cache: LayerCache? = nil) -> Tensor {
        let h = x + attn(ln1(x), cache: cache)
        return recordShapes(x, output: h + mlp(ln2(h)))
    }
}

/// minGPT: token and learned position embeddings (positions start at zero), the blocks, a final
/// LayerNorm, and a bias-free head to logits over the vocabulary.
public final class GPT: Module {
    public let config: GPTConfig
    public let tok_emb: Embedding
    /// [1, blockSize, C], initialised to zeros as in the reference.
    public let pos_emb: Tensor
    let drop: Dropout
    public let blocks: [GPTBlock]
    public let ln_f: LayerNorm
    public let head: Linear

    public init(_ config: GPTConfig, rng: inout RandomGenerator) {
        self.config = config
        let c = config.embeddingDim
        tok_emb = Embedding(count: config.vocabularySize, dimension: c, rng: &rng)
        pos_emb = Tensor.zeros([1, config.blockSize, c], requiresGrad: true)
        drop = Dropout(p: config.dropout, seed: rng.next())
        blocks = (0..<config.layers).map { _ in GPTBlock(config, rng: &rng) }
        ln_f = LayerNorm(c)
        head = Linear(inFeatures: c, outFeatures: config.vocabularySize, bias: false, rng: &rng)
        super.init()
        // minGPT's _init_weights: Linear and Embedding weights N(0, 0.02), biases 0.
        for (name, p) in namedParameters() where name.hasSuffix("weight") && p.rank == 2 {
            p.copy(from: Tensor.normal(p.shape, std: 0.02, rng: &rng))
        }
        for (name, p) in namedParameters() where name.hasSuffix("bias") && !name.contains("ln") {
            p.copy(from: Tensor.zeros(p.shape))
        }
    }

    /// Logits [B, T, V] for tokens [B][T]. With `caches` (one per block, see `makeCaches`), the
    /// tokens continue the sequence already in the caches: positions are offset by the cached
    /// length, and only the new positions are computed (inference only: no graph, no dropout;
    /// see `GPTInference.swift`).
    public func callAsFunction(_ tokens: [[Int]], caches: [LayerCache]? = nil) -> Tensor {
        let b = tokens.count, t = tokens[0].count
        let start = caches?.first?.length ?? 0
        precondition(start + t <= config.blockSize, "sequence of \(start + t) exceeds block size \(config.blockSize)") // invariant: a programming error, not user input
        precondition(tokens.allSatisfy { $0.count == t }, "sequences of different lengths in one batch") // invariant: a programming error, not user input
        if let caches { return cachedForward(tokens, caches: caches) }    // GPTInference.swift
        let c = config.embeddingDim
        let tok = tok_emb(tokens.flatMap { $0 }).reshaped([b, t, c])           // [B, T, C]
        let pos = config.positionPeriod == nil ? pos_emb.slice(axis: 1, start..<(start + t))    // [1, T, C]
            : embedding((start..<(start + t)).map(config.positionRow), weight: pos_emb.reshaped([config.blockSize, c]))
                .reshaped([1, t, c])
        var x = drop(tok + pos)
        for (i, block) in blocks.enumerated() { x = block(x, cache: caches?[i]) }
        return recordShapes(inputShapes: [[b, t]], output: head(ln_f(x)))    // [B, T, V]
    }

    /// Fresh, empty key-value caches, one per block, each holding up to `blockSize` positions.
    public func makeCaches() -> [LayerCache] { blocks.map { _ in LayerCache(capacity: config.blockSize) } }
}
