import Foundation
import Tensors

/// How the next token is drawn from the GPT's logits: divide by the temperature, keep the k most
/// likely tokens (the reference's `top_k_logits`), then the smallest set whose probability reaches
/// p (nucleus sampling, as the reference's fast sampler's `top_k_top_p_filtering`), and draw from
/// the softmax of what is left; or take the most likely token (greedy, the reference's
/// `sample=False`).
public struct TokenSampler: Equatable, Sendable {
    /// Logits are divided by this: below 1 sharpens the distribution, above 1 flattens it.
    public var temperature: Float
    /// Keep only the k largest logits (nil: all). The reference's log_images uses 100.
    public var topK: Int?
    /// Keep the smallest set of tokens whose probability reaches p (nil or 1: all).
    public var topP: Float?
    /// Take the most likely token instead of drawing.
    public var greedy: Bool
    /// Only tokens below this are ever drawn (nil: all): when one vocabulary holds image tokens
    /// and tokens that only ever start or condition a sequence, samples stay image tokens.
    public var tokenLimit: Int?

    public init(temperature: Float = 1, topK: Int? = nil, topP: Float? = nil, greedy: Bool = false,
                tokenLimit: Int? = nil) {
        precondition(temperature > 0, "temperature \(temperature) must be positive") // invariant: a programming error, not user input
        precondition(tokenLimit.map { $0 > 0 } ?? true, "token limit \(tokenLimit!) leaves nothing to draw") // invariant: a programming error, not user input
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.greedy = greedy
        self.tokenLimit = tokenLimit
    }

    /// The most likely token every time.
    public static let greedy = TokenSampler(greedy: true)

    /// The logits [B, V] after the token limit, temperature, top-k and top-p: filtered entries
    /// are −∞.
    public func filtered(_ logits: Tensor) -> Tensor {
        var x = withNoGrad { temperature == 1 ? logits.detached().clone() : logits.detached() * (1 / temperature) }
        if let tokenLimit, tokenLimit < x.shape[x.rank - 1] {
            let v = x.shape[x.rank - 1]
            x.withUnsafeMutableBufferPointer { p in
                for row in 0..<(p.count / v) { for j in tokenLimit..<v { p[row * v + j] = -.infinity } }
            }
        }
        if let topK { x = topKFilter(x, k: topK) }
        if let topP, topP < 1 { x = topPFilter(x, p: topP) }
        return x
    }

    /// One token per row of `logits` [B, V].
    public func callAsFunction(_ logits: Tensor, rng: inout RandomGenerator) -> [Int] {
        let x = filtered(logits)
        return greedy ? x.argmaxLast() : sampleCategorical(x, rng: &rng)
    }
}

extension GPT {
    /// Continues each sequence of `prefix` [B][P] (P ≥ 1, e.g. a start token) by `count` tokens
    /// drawn by `sampler`, and returns the new tokens [B][count].
    ///
    /// With `useCache`, the prefix runs once and every further step feeds only the newest token,
    /// reading earlier keys and values from `LayerCache`s: T single-position steps for T tokens.
    /// Without, every step runs the whole sequence so far, as the reference's `sample` does: the
    /// same logits (up to rounding), at T full forward passes. Either way P + count − 1 must fit
    /// the block size (the last token drawn is never fed back).
    ///
    /// Runs in evaluation mode (no dropout) without recording gradients; `onToken` is called after
    /// each step with the number of tokens drawn so far.
    public func generate(prefix: [[Int]], count: Int, sampler: TokenSampler, useCache: Bool = true,
                         rng: inout RandomGenerator, onToken: ((Int) -> Void)? = nil) -> [[Int]] {
        precondition(!prefix.isEmpty && !prefix[0].isEmpty, "generate needs a non-empty prefix") // invariant: a programming error, not user input
        precondition(prefix[0].count + count - 1 <= config.blockSize,  // invariant: a programming error, not user input
                     "\(prefix[0].count) + \(count) tokens exceed the block size \(config.blockSize)")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        var sequences = prefix
        var drawn = [[Int]](repeating: [], count: prefix.count)
        withNoGrad {
            let caches = useCache ? makeCaches() : nil
            var feed = prefix
            for step in 0..<count {
                let logits = self(useCache ? feed : sequences, caches: caches)  // [B, t, V]
                let t = logits.shape[1], v = logits.shape[2]
                let last = logits.slice(axis: 1, (t - 1)..<t).reshaped([prefix.count, v])   // [B, V]
                let next = sampler(last, rng: &rng)
                for i in next.indices {
                    sequences[i].append(next[i])
                    drawn[i].append(next[i])
                }
                feed = next.map { [$0] }
                onToken?(step + 1)
            }
        }
        return drawn
    }
}
