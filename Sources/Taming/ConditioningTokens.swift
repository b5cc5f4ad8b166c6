// Shape letters in this file: P conditioning (prefix) tokens, T image tokens.

/// Conditioning tokens as the reference's providers make them, and where they sit in the one
/// vocabulary the transformer embeds.
///
/// The transformer reads a sequence [c_1 … c_P, s_1 … s_T] — P conditioning tokens, then the
/// picture's T codes in raster order — and learns p(s_i | c, s_<i) (the paper's Eq. 9). The
/// reference's providers (taming/models/cond_transformer.py, taming/modules/util.py):
/// - unconditional (`SOSProvider`): one start token, the same for every picture, so that there is
///   a position from which to predict s_1 (P = 1);
/// - a class (`Labelator`): one token, the class (P = 1);
/// - a segmentation map: the frozen cond stage's h·w code indices in raster order (P = h·w; see
///   `VQSegmentationModel`).
///
/// **One embedding table for two vocabularies.** The GPT embeds every token with one table of V
/// rows. Image codes keep their numbers 0 ..< K_img; conditioning token j becomes K_img + j:
///
///     rows 0 ..< K_img               image codes: what the GPT predicts and samples
///     rows K_img ..< K_img + K_cond  conditioning: the start token (K_cond = 1), the classes
///                                    (K_cond = classes) or the cond stage's codes
///                                    (K_cond = its codebook size)
///
/// so V = K_img + K_cond, and image code 5 and class 5 are different rows that learn different
/// vectors. The reference does not offset: both vocabularies share the numbers
/// 0 ..< max(K_img, K_cond) (its segmentation cond stage and its image model both have 1024
/// codes, and vocab_size is 1024), so class 5 and code 5 are one row and only the position tells
/// the transformer which was meant. The offset costs K_cond rows and removes that ambiguity. The
/// output head keeps V outputs; no target is ever a conditioning token, so training only pushes
/// those logits down, and sampling draws image codes only (`TokenSampler(tokenLimit:
/// samplingLimit)`).
///
/// **Loss on image tokens only.** A sequence of P + T tokens trains as inputs
/// x = seq[0 ..< P+T−1] and targets y = seq[1 ..< P+T] (the reference's cat(c, z)[:, :-1], with
/// logits sliced from position P − 1). Targets y[0 ..< P−1] are conditioning tokens — predicting
/// the map's own tokens is not the task — so `trainingPair(_:)` marks them `ignoredTarget` for
/// `crossEntropy(logits:targets:ignoreIndex:)`, and the loss averages over the T image tokens.
///
///     let cond = Conditioning(.sceneClass(classes: 5), imageVocabularySize: 512)
///     let seq = try cond.sequence(prefix: cond.prefix(sceneClass: 3), imageCodes: codes)
///     let (x, y) = cond.trainingPair(seq)   // y[0 ..< P−1] == Conditioning.ignoredTarget
public struct Conditioning: Codable, Equatable, Sendable {
    /// What the conditioning tokens encode.
    public enum Source: Codable, Equatable, Sendable {
        /// Nothing: one start token (the reference's `SOSProvider`).
        case unconditional
        /// A picture's class, one token of `classes` (the reference's `Labelator`).
        case sceneClass(classes: Int)
        /// A segmentation map: `tokens` = h·w codes of a cond stage with `codebookSize` codes.
        case segmentation(codebookSize: Int, tokens: Int)
    }

    /// The target value `trainingPair` gives to positions that are not scored.
    public static let ignoredTarget = -1

    public let source: Source
    /// K_img: the image model's codebook size.
    public let imageVocabularySize: Int

    public init(_ source: Source, imageVocabularySize: Int) {
        switch source {
        case .unconditional: break
        case .sceneClass(let classes):
            precondition(classes > 0, "no classes") // invariant: configs are made in code
        case .segmentation(let codebookSize, let tokens):
            precondition(codebookSize > 0 && tokens > 0, "an empty cond stage") // invariant: configs are made in code
        }
        precondition(imageVocabularySize > 0, "an empty image vocabulary") // invariant: configs are made in code
        self.source = source
        self.imageVocabularySize = imageVocabularySize
    }

    /// P: conditioning tokens before the image tokens.
    public var prefixLength: Int {
        switch source {
        case .unconditional, .sceneClass: 1
        case .segmentation(_, let tokens): tokens
        }
    }

    /// K_cond: the values a conditioning token can take.
    public var conditioningVocabularySize: Int {
        switch source {
        case .unconditional: 1
        case .sceneClass(let classes): classes
        case .segmentation(let codebookSize, _): codebookSize
        }
    }

    /// Where conditioning tokens start in the shared vocabulary: K_img.
    public var offset: Int { imageVocabularySize }

    /// V = K_img + K_cond: the GPT's `vocabularySize`.
    public var vocabularySize: Int { imageVocabularySize + conditioningVocabularySize }

    /// The rows of the shared table that conditioning tokens use.
    public var conditioningTokens: Range<Int> { offset..<vocabularySize }

    /// Tokens sampling may draw (those below this: image codes); `TokenSampler.tokenLimit`.
    public var samplingLimit: Int { imageVocabularySize }

    /// The GPT's `blockSize` for T image tokens: P + T − 1 (the last token is never an input).
    public func blockSize(imageTokens t: Int) -> Int { prefixLength + t - 1 }

    /// The start token's prefix, for an unconditional model.
    /// - Throws: `ConditioningError.shapeMismatch` if this conditioning is not unconditional.
    public func startPrefix() throws -> [Int] {
        guard case .unconditional = source else { throw wrongSource("no conditioning") }
        return [offset]
    }

    /// A class's one-token prefix.
    /// - Throws: `ConditioningError` if this conditioning is not on classes or `sceneClass` is
    ///   not one of them.
    public func prefix(sceneClass: Int) throws -> [Int] {
        guard case .sceneClass(let classes) = source else { throw wrongSource("a class") }
        guard sceneClass >= 0, sceneClass < classes else {
            throw ConditioningError.classOutOfRange(value: sceneClass, classes: classes)
        }
        return [offset + sceneClass]
    }

    /// A segmentation map's prefix: its cond-stage codes [h·w], raster order, offset by K_img.
    /// - Throws: `ConditioningError` if this conditioning is not on maps, or the codes are the
    ///   wrong number or not in the cond stage's codebook.
    public func prefix(segmentationCodes codes: [Int]) throws -> [Int] {
        guard case .segmentation(let codebookSize, let tokens) = source else { throw wrongSource("a segmentation map") }
        guard codes.count == tokens else {
            throw ConditioningError.shapeMismatch("\(codes.count) segmentation codes for a prefix of \(tokens) tokens")
        }
        if let bad = codes.firstIndex(where: { $0 < 0 || $0 >= codebookSize }) {
            throw ConditioningError.codeOutOfRange(code: codes[bad], index: bad, codebookSize: codebookSize)
        }
        return codes.map { offset + $0 }
    }

    /// The value a conditioning token stands for (start token 0, a class, a cond-stage code), or
    /// nil for an image code.
    public func conditioningValue(ofToken token: Int) -> Int? {
        conditioningTokens.contains(token) ? token - offset : nil
    }

    /// [prefix; image codes]: a whole training sequence of P + T tokens.
    /// - Throws: `ConditioningError` when the prefix is not P conditioning tokens or an image
    ///   code is not in 0 ..< K_img.
    public func sequence(prefix: [Int], imageCodes: [Int]) throws -> [Int] {
        guard prefix.count == prefixLength else {
            throw ConditioningError.shapeMismatch("a prefix of \(prefix.count) tokens where \(prefixLength) are expected")
        }
        if let bad = prefix.firstIndex(where: { !conditioningTokens.contains($0) }) {
            throw ConditioningError.codeOutOfRange(code: prefix[bad], index: bad, codebookSize: vocabularySize)
        }
        if let bad = imageCodes.firstIndex(where: { $0 < 0 || $0 >= imageVocabularySize }) {
            throw ConditioningError.codeOutOfRange(code: imageCodes[bad], index: bad, codebookSize: imageVocabularySize)
        }
        return prefix + imageCodes
    }

    /// Inputs and targets for next-token training on a sequence [P + T]: inputs seq[0 ..< P+T−1],
    /// targets seq[1 ..< P+T] with the first P − 1 (conditioning tokens) set to `ignoredTarget`.
    public func trainingPair(_ sequence: [Int]) -> (inputs: [Int], targets: [Int]) {
        precondition(sequence.count > prefixLength, "a sequence must hold image tokens after its prefix") // invariant: a programming error
        var targets = Array(sequence.dropFirst())
        for i in 0..<(prefixLength - 1) { targets[i] = Self.ignoredTarget }
        return (Array(sequence.dropLast()), targets)
    }

    /// The image codes of a sequence [P + T]: everything after the prefix.
    public func imageCodes(of sequence: [Int]) -> [Int] { Array(sequence.dropFirst(prefixLength)) }

    private func wrongSource(_ asked: String) -> ConditioningError {
        let has: String
        switch source {
        case .unconditional: has = "no conditioning"
        case .sceneClass(let classes): has = "a class of \(classes)"
        case .segmentation(_, let tokens): has = "a segmentation map of \(tokens) tokens"
        }
        return .shapeMismatch("asked for a prefix from \(asked), but this model is conditioned on \(has)")
    }
}
