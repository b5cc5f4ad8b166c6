// Shape letters in this file: P conditioning (prefix) values, N image codes, K image codebook
// size, C conditioning vocabulary size.

/// Conditioning as the reference's providers make it: the values a transformer reads before a
/// picture's codes, and the vocabulary they need (taming/models/cond_transformer.py,
/// taming/modules/util.py). The transformer reads [c_1 … c_P, s_1 … s_N] and learns
/// p(s_i | c, s_<i) (the paper's Eq. 9).
///
/// - unconditional (`SOSProvider`): one start value, the same for every picture, so that there is
///   a position from which to predict s_1 (P = 1, C = 1);
/// - a class (`Labelator`): one value, the class (P = 1, C = classes);
/// - a segmentation map: the frozen cond stage's h·w code indices in raster order (P = h·w,
///   C = the cond stage's codebook size; see `VQSegmentationModel`).
///
/// **One embedding table for two vocabularies.** The GPT embeds every token with one table, so
/// image codes and conditioning values must get distinct rows. `layout(codebookSize:imageLength:)`
/// gives the `TokenLayout` that keeps image codes at 0 ..< K and puts conditioning value c at
/// token K + c: the table has V = K + C rows, class 5 and image code 5 are different rows, and a
/// segmentation code never shares a vector with an image code. (The reference does not offset:
/// its cond stage and image model both have 1024 codes and vocab_size is 1024, so cond code 5 and
/// image code 5 share a row and only the position tells them apart.) The head's C extra outputs
/// are never targets, and sampling draws below K only.
///
/// **Loss on image tokens only.** Of the P + N − 1 predictions a sequence trains, the first
/// P − 1 are of conditioning values — given, not the task — and are left out of the loss
/// (`TwoStageModel.loss`); the mean is over the N image codes.
///
/// The provider checks what the user hands in (a class, a map's codes) and throws; the layout
/// then assumes valid values.
///
///     let provider = ConditioningProvider(.sceneClass(classes: 5))
///     let layout = provider.layout(codebookSize: 512, imageLength: 64)   // V = 517, P = 1
///     let conditioning = try provider.values(sceneClass: 3)               // [3] → token 515
public struct ConditioningProvider: Codable, Equatable, Sendable {
    /// What the conditioning values encode.
    public enum Source: Codable, Equatable, Sendable {
        /// Nothing: one start value (the reference's `SOSProvider`).
        case unconditional
        /// A picture's class, one value of `classes` (the reference's `Labelator`).
        case sceneClass(classes: Int)
        /// A segmentation map: `tokens` = h·w codes of a cond stage with `codebookSize` codes.
        case segmentation(codebookSize: Int, tokens: Int)
    }

    public let source: Source

    public init(_ source: Source) {
        switch source {
        case .unconditional: break
        case .sceneClass(let classes):
            precondition(classes > 0, "no classes") // invariant: providers are made in code
        case .segmentation(let codebookSize, let tokens):
            precondition(codebookSize > 0 && tokens > 0, "an empty cond stage") // invariant: providers are made in code
        }
        self.source = source
    }

    /// The provider of a cond stage's codes for maps of `height`×`width`.
    public init(segmentation stage: VQSegmentationModel, height: Int, width: Int) {
        let f = stage.downsamplingFactor
        self.init(.segmentation(codebookSize: stage.codebookSize, tokens: (height / f) * (width / f)))
    }

    /// P: conditioning values before the image codes.
    public var prefixLength: Int {
        switch source {
        case .unconditional, .sceneClass: 1
        case .segmentation(_, let tokens): tokens
        }
    }

    /// C: the values a conditioning token can take.
    public var conditioningValues: Int {
        switch source {
        case .unconditional: 1
        case .sceneClass(let classes): classes
        case .segmentation(let codebookSize, _): codebookSize
        }
    }

    /// The token layout for an image model of K codes and N codes per picture: image codes at
    /// 0 ..< K, conditioning value c at K + c, vocabulary K + C, block size P + N − 1.
    public func layout(codebookSize: Int, imageLength: Int) -> TokenLayout {
        TokenLayout(codebookSize: codebookSize, conditioningValues: conditioningValues, prefixLength: prefixLength,
                    imageLength: imageLength)
    }

    /// The start value of an unconditional model: [0].
    /// - Throws: `ConditioningError.shapeMismatch` if this provider is not unconditional.
    public func startValues() throws -> [Int] {
        guard case .unconditional = source else { throw wrongSource("no conditioning") }
        return [0]
    }

    /// A class's one conditioning value.
    /// - Throws: `ConditioningError` if this provider is not of classes or `sceneClass` is not
    ///   one of them.
    public func values(sceneClass: Int) throws -> [Int] {
        guard case .sceneClass(let classes) = source else { throw wrongSource("a class") }
        guard sceneClass >= 0, sceneClass < classes else {
            throw ConditioningError.classOutOfRange(value: sceneClass, classes: classes)
        }
        return [sceneClass]
    }

    /// A segmentation map's conditioning values: its cond-stage codes [h·w], raster order.
    /// - Throws: `ConditioningError` if this provider is not of maps, or the codes are the wrong
    ///   number or not in the cond stage's codebook.
    public func values(segmentationCodes codes: [Int]) throws -> [Int] {
        guard case .segmentation(let codebookSize, let tokens) = source else { throw wrongSource("a segmentation map") }
        guard codes.count == tokens else {
            throw ConditioningError.shapeMismatch("\(codes.count) segmentation codes for a prefix of \(tokens) tokens")
        }
        if let bad = codes.firstIndex(where: { $0 < 0 || $0 >= codebookSize }) {
            throw ConditioningError.codeOutOfRange(code: codes[bad], index: bad, codebookSize: codebookSize)
        }
        return codes
    }

    /// The conditioning values of maps (labels [B·H·W]): each map's cond-stage codes, one array
    /// of h·w per map.
    /// - Throws: `ConditioningError` when this provider is not of maps, the maps do not fit the
    ///   cond stage, or a label is not a class.
    public func values(maps labels: [UInt8], count b: Int, height h: Int, width w: Int,
                       stage: VQSegmentationModel) throws -> [[Int]] {
        guard case .segmentation(_, let tokens) = source else { throw wrongSource("a segmentation map") }
        let codes = try stage.codes(for: labels, batch: b, height: h, width: w)
        guard codes.count == b * tokens else {
            throw ConditioningError.shapeMismatch("maps of \(h)×\(w) give \(codes.count / max(b, 1)) cond-stage codes, "
                                                  + "this provider expects \(tokens)")
        }
        return try (0..<b).map { try values(segmentationCodes: Array(codes[($0 * tokens)..<(($0 + 1) * tokens)])) }
    }

    private func wrongSource(_ asked: String) -> ConditioningError {
        let has: String
        switch source {
        case .unconditional: has = "no conditioning"
        case .sceneClass(let classes): has = "a class of \(classes)"
        case .segmentation(_, let tokens): has = "a segmentation map of \(tokens) tokens"
        }
        return .shapeMismatch("asked for conditioning on \(asked), but this model is conditioned on \(has)")
    }
}
