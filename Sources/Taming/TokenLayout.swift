/// Where each kind of token lives in the transformer's one vocabulary, and how a sequence is laid
/// out: a prefix of P conditioning tokens, then the picture's N codes.
///
///     vocabulary:  0 ..< K          image codes (the first stage's codebook)
///                  K ..< K + C      conditioning tokens: conditioning value c is token K + c
///     sequence:    [K + c₀, …, K + c_{P−1}, s₀, …, s_{N−1}]
///
/// The transformer reads the sequence without its last token and predicts each next one; the
/// loss counts only the N predictions of image codes (R: `Net2NetTransformer.forward`, which
/// slices the logits from P − 1 on). Conditioning tokens are given, never predicted, never
/// corrupted by pkeep, never sampled.
///
/// The reference lets conditioning values and codes share ids (its start token is 0, like code
/// 0); here they are offset by K, so that they never share an embedding and a sampler can be
/// told to draw below K. The cases the paper uses:
/// - unconditional: one start token (C = 1, P = 1; R: `SOSProvider`) — `unconditional(…)`;
/// - a class label: C classes, P = 1 (R: `Labelator`);
/// - a segmentation map or depth: the codes of a second VQ model, C = its codebook size,
///   P = its h·w (R: a cond-stage VQGAN).
public struct TokenLayout: Hashable, Codable, Sendable {
    /// K: image codes are tokens 0..<K.
    public var codebookSize: Int
    /// C: conditioning values 0..<C are tokens K..<K + C.
    public var conditioningValues: Int
    /// P ≥ 1: conditioning tokens before the codes.
    public var prefixLength: Int
    /// N: codes per picture.
    public var imageLength: Int

    public init(codebookSize: Int, conditioningValues: Int, prefixLength: Int, imageLength: Int) {
        precondition(codebookSize > 0 && conditioningValues > 0 && prefixLength > 0 && imageLength > 0,  // invariant: a programming error, not user input
                     "token layout K \(codebookSize), C \(conditioningValues), P \(prefixLength), N \(imageLength)")
        self.codebookSize = codebookSize
        self.conditioningValues = conditioningValues
        self.prefixLength = prefixLength
        self.imageLength = imageLength
    }

    /// Unconditional modelling: every sequence starts with the start token K.
    public static func unconditional(codebookSize: Int, imageLength: Int) -> TokenLayout {
        TokenLayout(codebookSize: codebookSize, conditioningValues: 1, prefixLength: 1, imageLength: imageLength)
    }

    /// K + C: the size of the transformer's embedding table and of its output.
    public var vocabularySize: Int { codebookSize + conditioningValues }

    /// P + N − 1: the positions the transformer sees (the last token is never an input).
    public var blockSize: Int { prefixLength + imageLength - 1 }

    /// The start token of an unconditional layout (conditioning value 0).
    public var startToken: Int { codebookSize }

    /// The prefix of an unconditional sequence: [K].
    public var startPrefix: [Int] { Array(repeating: codebookSize, count: prefixLength) }

    /// The token of conditioning value `value` (0..<C).
    public func token(conditioning value: Int) -> Int {
        precondition(value >= 0 && value < conditioningValues, "conditioning value \(value) outside 0..<\(conditioningValues)") // invariant: a programming error, not user input
        return codebookSize + value
    }

    /// The tokens of a prefix of conditioning values (P of them, each in 0..<C).
    public func prefix(conditioning values: [Int]) -> [Int] {
        precondition(values.count == prefixLength, "\(values.count) conditioning values for a prefix of \(prefixLength)") // invariant: a programming error, not user input
        return values.map { token(conditioning: $0) }
    }

    /// A whole sequence: the prefix of `conditioning` values (nil: the start token, for an
    /// unconditional layout), then the picture's `codes` (N of them, each in 0..<K).
    public func sequence(codes: [Int], conditioning: [Int]? = nil) -> [Int] {
        precondition(codes.count == imageLength && codes.allSatisfy { $0 >= 0 && $0 < codebookSize },  // invariant: a programming error, not user input
                     "a sequence needs \(imageLength) codes in 0..<\(codebookSize)")
        precondition(conditioning != nil || conditioningValues == 1, "a conditional layout needs conditioning values") // invariant: a programming error, not user input
        return prefix(conditioning: conditioning ?? Array(repeating: 0, count: prefixLength)) + codes
    }

    /// The codes of a whole sequence (what follows the prefix).
    public func codes(of sequence: [Int]) -> [Int] { Array(sequence.dropFirst(prefixLength)) }
}
