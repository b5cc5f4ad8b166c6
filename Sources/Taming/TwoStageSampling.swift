import NN
import Tensors

// Shape letters: B pictures, P prefix tokens, g given codes, N codes per picture, h × w the code
// grid, C colour channels, H × W pixels.

/// Drawing pictures from the two-stage model: the GPT draws codes one at a time after the
/// prefix (and after any codes already given), and the first stage decodes them (R:
/// `Net2NetTransformer.sample` with a KV cache, as `scripts/sample_fast.py`).
extension TwoStageModel {
    /// Draws the codes of `count` pictures, N per picture in sequence order.
    ///
    /// - conditioning: each picture's P conditioning values (nil: the start token).
    /// - given: the first g codes of each picture (the same g for all), which the model
    ///   continues — a completion; nil or empty draws all N.
    /// - sampler: temperature, top-k, top-p; it never draws a conditioning token (its token
    ///   limit is lowered to K).
    /// - useCache: the KV cache (one position per step) or the reference's full recomputation;
    ///   both give the same codes up to rounding.
    public func sampleCodes(count: Int, conditioning: [[Int]]? = nil, given: [[Int]]? = nil, sampler: TokenSampler,
                            useCache: Bool = true, rng: inout RandomGenerator,
                            onToken: ((Int) -> Void)? = nil) -> [[Int]] {
        precondition(count > 0 && (conditioning?.count ?? count) == count && (given?.count ?? count) == count,  // invariant: a programming error, not user input
                     "one conditioning and one given prefix per picture")
        let known = given ?? Array(repeating: [], count: count)
        let g = known[0].count
        precondition(known.allSatisfy { $0.count == g } && g <= layout.imageLength  // invariant: a programming error, not user input
                     && known.allSatisfy { $0.allSatisfy { $0 >= 0 && $0 < layout.codebookSize } },
                     "given codes: the same number for every picture, at most N, each below K")
        guard g < layout.imageLength else { return known }
        let prefixes = (0..<count).map { i in
            (conditioning.map { layout.prefix(conditioning: $0[i]) } ?? layout.startPrefix) + known[i]
        }
        var imageSampler = sampler
        imageSampler.tokenLimit = min(sampler.tokenLimit ?? layout.codebookSize, layout.codebookSize)
        let drawn = transformer.generate(prefix: prefixes, count: layout.imageLength - g, sampler: imageSampler,
                                         useCache: useCache, rng: &rng, onToken: onToken)
        return zip(known, drawn).map { $0 + $1 }
    }

    /// Pictures [B, C, H, W] from codes in sequence order (B arrays of N codes).
    public func decode(_ codes: [[Int]], batchSize: Int = 32) -> Tensor {
        firstStage.decode(codes, height: grid.height, width: grid.width, batchSize: batchSize)
    }

    /// Draws `count` pictures [B, C, H, W]: `sampleCodes`, then `decode`.
    public func sample(count: Int, conditioning: [[Int]]? = nil, sampler: TokenSampler, rng: inout RandomGenerator,
                       onToken: ((Int) -> Void)? = nil) -> Tensor {
        decode(sampleCodes(count: count, conditioning: conditioning, sampler: sampler, rng: &rng, onToken: onToken))
    }
}
