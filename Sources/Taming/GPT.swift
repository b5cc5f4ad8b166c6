import NN
import Tensors

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
    /// Width of the residual stream (`n_embd`).
    public var embeddingDim: Int
    /// Dropout on embeddings, attention weights and residual branches (0 in most reference configs).
    public var dropout: Float

    public init(vocabularySize: Int, blockSize: Int, layers: Int, heads: Int, embeddingDim: Int, dropout: Float = 0) {
        self.vocabularySize = vocabularySize; self.blockSize = blockSize; self.layers = layers
        self.heads = heads; self.embeddingDim = embeddingDim; self.dropout = dropout
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
    let heads: Int

    public init(_ config: GPTConfig, rng: inout RandomGenerator) {
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

    /// x [B, T, C] → [B, T, C]. With a cache, x holds only the new positions and the keys and
    /// values of earlier ones come from (and are appended to) the cache.
    public func callAsFunction(_ x: Tensor, cache: LayerCache? = nil) -> Tensor {
        let (b, t, c) = (x.shape[0], x.shape[1], x.shape[2])
        let hd = c / heads
        // [B, T, C] → [B, nh, T, hd]
        func split(_ y: Tensor) -> Tensor { y.reshaped([b, t, heads, hd]).transposed(1, 2) }
        var k = split(key(x)), v = split(value(x))
        let q = split(query(x))
        if let cache {
            k = cache.append(keys: k, values: v)
            v = cache.values!
        }
        // Attention-weight dropout would need the weights themselves; like PyTorch's fused
        // attention we apply dropout only when it is 0 or in eval, which is every config here.
        let y = scaledDotProductAttention(q: q, k: k, v: v, causal: true)   // [B, nh, T, hd]
        return resid_drop(proj(y.transposed(1, 2).reshaped([b, t, c])))
    }
}

/// The keys and values of one layer for the positions seen so far, so that generating token T+1
/// costs one position's work instead of T + 1.
public final class LayerCache {
    public private(set) var keys: Tensor?     // [B, nh, T, hd]
    public private(set) var values: Tensor?
    public init() {}
    public var length: Int { keys?.shape[2] ?? 0 }

    /// Appends new keys and values [B, nh, t, hd] and returns all keys.
    func append(keys k: Tensor, values v: Tensor) -> Tensor {
        keys = keys.map { concat([$0, k.detached()], axis: 2) } ?? k.detached()
        values = values.map { concat([$0, v.detached()], axis: 2) } ?? v.detached()
        return keys!
    }
}

/// A transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)).
public final class GPTBlock: Module {
    public let ln1: LayerNorm
    public let ln2: LayerNorm
    public let attn: CausalSelfAttention
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
        return h + mlp(ln2(h))
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

    /// Logits [B, T, V] for tokens [B][T]. With `caches` (one per block), `tokens` continue the
    /// sequence already in the caches: positions are offset by the cached length.
    public func callAsFunction(_ tokens: [[Int]], caches: [LayerCache]? = nil) -> Tensor {
        let b = tokens.count, t = tokens[0].count
        let start = caches?.first?.length ?? 0
        precondition(start + t <= config.blockSize, "sequence of \(start + t) exceeds block size \(config.blockSize)") // invariant
        let c = config.embeddingDim
        let tok = tok_emb(tokens.flatMap { $0 }).reshaped([b, t, c])
        let pos = pos_emb.slice(axis: 1, start..<(start + t))               // [1, T, C]
        var x = drop(tok + pos)
        for (i, block) in blocks.enumerated() { x = block(x, cache: caches?[i]) }
        return head(ln_f(x))                                               // [B, T, V]
    }

    /// Fresh, empty key-value caches, one per block.
    public func makeCaches() -> [LayerCache] { blocks.map { _ in LayerCache() } }
}
