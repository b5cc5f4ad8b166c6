import Foundation
import NN
import Tensors

// Shape letters: B sequences, P prefix (conditioning) tokens, N codes per picture, T = P + N − 1
// positions the transformer reads, V = K + C vocabulary, K codebook size.

/// The paper's two stages joined (§3.2; R: `Net2NetTransformer`): a frozen first stage turns
/// pictures into N codes, and a GPT models p(s) = Π_i p(s_i | s_<i, c) over them (Eq. 7–8),
/// after a prefix of conditioning tokens c — one start token when unconditional.
///
/// Training minimises the cross-entropy of the N code predictions only; the prefix is read, never
/// predicted. With `pkeep` < 1, each code of the *input* is replaced, with probability 1 − pkeep,
/// by a random code (the reference's pkeep; the targets stay clean, the prefix untouched).
///
///     let layout = TokenLayout.unconditional(codebookSize: 512, imageLength: 256)
///     let gpt = GPT(TwoStageModel.transformerConfig(layout: layout, layers: 4, heads: 4,
///                                                   embeddingDim: 128), rng: &rng)
///     let model = TwoStageModel(firstStage: CodeTokenizer(autoencoder: vq), transformer: gpt,
///                               layout: layout, grid: (16, 16))
///     let sequences = model.sequences(codes: model.firstStage.encode(images))
///     let nats = model.accumulateGradients(sequences: batch, rng: &rng)     // then AdamW
///
/// The GPT's weights are the only trainable part; cache and restore `transformer` on its own.
public final class TwoStageModel {
    /// The frozen first stage: pictures ↔ codes.
    public let firstStage: CodeTokenizer
    /// The second stage (trainable).
    public let transformer: GPT
    public let layout: TokenLayout
    /// The code grid h × w of one picture (h·w = N).
    public let grid: (height: Int, width: Int)
    /// Probability of keeping each input code during training (1: no corruption, the reference's
    /// default).
    public var pkeep: Float

    public init(firstStage: CodeTokenizer, transformer: GPT, layout: TokenLayout, grid: (height: Int, width: Int),
                pkeep: Float = 1) {
        precondition(grid.height * grid.width == layout.imageLength, "a \(grid.height) × \(grid.width) grid for \(layout.imageLength) codes") // invariant: a programming error, not user input
        precondition(layout.codebookSize == firstStage.codebookSize, "layout for \(layout.codebookSize) codes, codebook of \(firstStage.codebookSize)") // invariant: a programming error, not user input
        precondition(transformer.config.vocabularySize == layout.vocabularySize  // invariant: a programming error, not user input
                     && transformer.config.blockSize >= layout.blockSize,
                     "a GPT of vocabulary \(transformer.config.vocabularySize) and block \(transformer.config.blockSize) for layout \(layout)")
        precondition(pkeep > 0 && pkeep <= 1, "pkeep \(pkeep) outside (0, 1]") // invariant: a programming error, not user input
        self.firstStage = firstStage
        self.transformer = transformer
        self.layout = layout
        self.grid = grid
        self.pkeep = pkeep
    }

    /// A GPT configuration that fits `layout`: its vocabulary and its block size.
    public static func transformerConfig(layout: TokenLayout, layers: Int, heads: Int, embeddingDim: Int,
                                         dropout: Float = 0) -> GPTConfig {
        GPTConfig(vocabularySize: layout.vocabularySize, blockSize: layout.blockSize, layers: layers, heads: heads,
                  embeddingDim: embeddingDim, dropout: dropout)
    }

    /// Pixels one sequence stands for: N·f².
    public var pixelsPerImage: Int { layout.imageLength * firstStage.downsamplingFactor * firstStage.downsamplingFactor }

    /// Whole training sequences from each picture's codes and, for a conditional layout, its
    /// conditioning values.
    public func sequences(codes: [[Int]], conditioning: [[Int]]? = nil) -> [[Int]] {
        precondition(conditioning == nil || conditioning!.count == codes.count, "one conditioning per picture") // invariant: a programming error, not user input
        return codes.indices.map { layout.sequence(codes: codes[$0], conditioning: conditioning?[$0]) }
    }

    /// Inputs and targets of whole sequences [B][P + N]: the inputs are the sequences without
    /// their last token, corrupted by pkeep from position P on; targets are the sequences
    /// without their first token, with the P − 1 predictions of prefix tokens marked −1 (ignored).
    func inputsAndTargets(_ sequences: [[Int]], rng: inout RandomGenerator) -> (inputs: [[Int]], targets: [[Int]]) {
        let p = layout.prefixLength
        precondition(sequences.allSatisfy { $0.count == p + layout.imageLength }, "sequences must be P + N tokens") // invariant: a programming error, not user input
        var inputs = sequences.map { Array($0.dropLast()) }
        if pkeep < 1 {
            inputs = corruptTokens(inputs, pkeep: pkeep, vocabularySize: layout.codebookSize, from: p, rng: &rng)
        }
        let targets = sequences.map { s in (0..<(s.count - 1)).map { i in i < p - 1 ? -1 : s[i + 1] } }
        return (inputs, targets)
    }

    /// The training loss through the autodiff model (the readable reference): the mean
    /// cross-entropy in nats of the N code predictions per sequence.
    public func loss(sequences: [[Int]], rng: inout RandomGenerator) -> Tensor {
        let (inputs, targets) = inputsAndTargets(sequences, rng: &rng)
        let logits = transformer(inputs)                                          // [B, T, V]
        return crossEntropy(logits: logits.reshaped([-1, layout.vocabularySize]), targets: targets.flatMap { $0 },
                            ignoreIndex: -1)
    }

    /// One training step's forward and backward pass on whole sequences [B][P + N]: adds the
    /// gradients of `loss(sequences:rng:)` into the GPT's parameters and returns the loss in nats.
    ///
    /// Runs the hand-written fused step (`GPTFusedStep.swift`) unless the GPT has dropout (or
    /// `fused` is false). The fused step averages over every position; the predictions of prefix
    /// tokens are taken out of its gradient afterwards (their rows of dL/dlogits set to zero, the
    /// rest rescaled to a mean over the N code predictions), so the gradients are exactly those
    /// of the reference's loss. With a prefix longer than one token the returned loss is then
    /// recovered from those gradients, p = 1 + n·∂L/∂logit_target, which is exact to float
    /// precision for any target probability above about 10⁻⁶.
    public func accumulateGradients(sequences: [[Int]], fused: Bool = true, rng: inout RandomGenerator) -> Float {
        guard fused, transformer.config.dropout == 0 || !transformer.isTraining else {
            let loss = loss(sequences: sequences, rng: &rng)
            loss.backward()
            return loss.item
        }
        let (inputs, targets) = inputsAndTargets(sequences, rng: &rng)
        let b = inputs.count, t = inputs[0].count, v = layout.vocabularySize
        let step = FusedStep(model: transformer, batch: b, length: t)
        // Prefix predictions get a valid dummy target; their gradient rows are cleared below.
        let loss = step.forward(tokens: inputs.flatMap { $0 }, targets: targets.flatMap { $0.map { max($0, 0) } })
        let excluded = layout.prefixLength - 1
        guard excluded > 0 else {
            step.backward()
            return loss
        }
        // dL/dlogits of the mean over all B·T rows is (softmax − onehot)/(B·T) per row.
        let rows = b * t, kept = b * layout.imageLength
        let rescale = Float(rows) / Float(kept)
        var nats = 0.0
        let gradient: UnsafeMutablePointer<Float> = step.logits                // [B·T, V]
        for i in 0..<b {
            for position in 0..<t {
                let row = gradient + (i * t + position) * v
                if position < excluded {
                    row.update(repeating: 0, count: v)
                    continue
                }
                let target = targets[i][position]
                let probability = 1 + Double(rows) * Double(row[target])
                nats -= Foundation.log(Swift.max(probability, 1e-30))
                for j in 0..<v { row[j] *= rescale }
            }
        }
        step.backward()
        return Float(nats / Double(kept))
    }

    /// The held-out likelihood of whole sequences [B][P + N]: bits per code, per picture, per
    /// pixel, and per position.
    public func likelihood(sequences: [[Int]], batchSize: Int = 32) -> SequenceLikelihood {
        transformer.likelihood(sequences: sequences, prefixLength: layout.prefixLength, pixelsPerImage: pixelsPerImage,
                               batchSize: batchSize)
    }
}
