import NN
import Tensors

/// Training the GPT as the reference does: next-token cross-entropy (the paper's Eq. 8,
/// L = E[−log p(s)] with p(s) = Π p(s_i | s_<i)), AdamW with betas (0.9, 0.95) and weight decay on
/// the Linear weights only, and optional pkeep token corruption of the inputs.
extension GPT {
    /// AdamW configured as minGPT's `configure_optimizers` and the reference's
    /// `Net2NetTransformer`: betas (0.9, 0.95), `weightDecay` (0.01) on the weights of Linear
    /// layers, none on biases, LayerNorms, the token embedding or the position table.
    public func makeOptimizer(lr: Float, betas: (Float, Float) = (0.9, 0.95), weightDecay: Float = 0.01) -> AdamW {
        let groups = parameterGroups(weightDecay: weightDecay) { name, owner in
            owner is Linear && name.hasSuffix(".weight")
        }
        return AdamW(groups: groups, lr: lr, betas: betas)
    }

    /// Mean cross-entropy in nats of predicting `targets` [B][T] from `inputs` [B][T] (target t
    /// is the token that follows input t).
    public func loss(inputs: [[Int]], targets: [[Int]]) -> Tensor {
        let logits = self(inputs)                                  // [B, T, V]
        let v = config.vocabularySize
        return crossEntropy(logits: logits.reshaped([-1, v]), targets: targets.flatMap { $0 })
    }

    /// The loss of whole sequences [B][T + 1]: inputs are each sequence without its last token,
    /// targets without its first. With `pkeep` < 1 the inputs (never the targets) are corrupted
    /// by `corruptTokens`, from position `cleanPrefix` on (conditioning tokens stay clean).
    public func loss(sequences: [[Int]], pkeep: Float = 1, cleanPrefix: Int = 0,
                     rng: inout RandomGenerator) -> Tensor {
        var inputs = sequences.map { Array($0.dropLast()) }
        if pkeep < 1 {
            inputs = corruptTokens(inputs, pkeep: pkeep, vocabularySize: config.vocabularySize,
                                   from: cleanPrefix, rng: &rng)
        }
        return loss(inputs: inputs, targets: sequences.map { Array($0.dropFirst()) })
    }

    /// The loss of whole sequences [B][T + 1] without corruption.
    public func loss(sequences: [[Int]]) -> Tensor {
        loss(inputs: sequences.map { Array($0.dropLast()) }, targets: sequences.map { Array($0.dropFirst()) })
    }

    /// One training step's forward and backward pass on sequences [B][T + 1] (see
    /// `loss(sequences:pkeep:cleanPrefix:rng:)`): adds the gradients into each parameter's `grad`
    /// and returns the mean loss in nats. Without dropout it runs the hand-written fused step
    /// (`fusedLossAndGradients`), otherwise the autodiff model; `fused: false` forces the latter.
    public func accumulateGradients(sequences: [[Int]], pkeep: Float = 1, cleanPrefix: Int = 0,
                                    fused: Bool = true, rng: inout RandomGenerator) -> Float {
        var inputs = sequences.map { Array($0.dropLast()) }
        if pkeep < 1 {
            inputs = corruptTokens(inputs, pkeep: pkeep, vocabularySize: config.vocabularySize,
                                   from: cleanPrefix, rng: &rng)
        }
        let targets = sequences.map { Array($0.dropFirst()) }
        if fused && (config.dropout == 0 || !isTraining) {
            return fusedLossAndGradients(inputs: inputs, targets: targets)
        }
        let loss = loss(inputs: inputs, targets: targets)
        loss.backward()
        return loss.item
    }

    /// The mean cross-entropy in nats per predicted token over sequences [N][T + 1] (all of one
    /// length), in batches of `batchSize`, in evaluation mode (the fused forward pass, no
    /// gradients). Divide by ln 2 for bits per token.
    public func evaluate(sequences: [[Int]], batchSize: Int = 32) -> Double {
        precondition(batchSize > 0 && !sequences.isEmpty, "evaluate needs sequences") // invariant: a programming error, not user input
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        var total = 0.0, tokens = 0
        withNoGrad {
            for start in stride(from: 0, to: sequences.count, by: batchSize) {
                let batch = Array(sequences[start..<min(start + batchSize, sequences.count)])
                let n = batch.reduce(0) { $0 + $1.count - 1 }
                let step = FusedStep(model: self, batch: batch.count, length: batch[0].count - 1)
                let loss = step.forward(tokens: batch.flatMap { $0.dropLast() }, targets: batch.flatMap { $0.dropFirst() })
                total += Double(loss) * Double(n)
                tokens += n
            }
        }
        return total / Double(tokens)
    }
}

/// The reference's pkeep corruption (`Net2NetTransformer.forward`): each token from position
/// `start` on is replaced, with probability 1 − pkeep, by a token drawn uniformly from
/// 0..<vocabularySize. A regulariser: the model must cope with a context that contains mistakes,
/// as its own samples will. pkeep = 1 (the reference's default) changes nothing.
public func corruptTokens(_ tokens: [[Int]], pkeep: Float, vocabularySize: Int, from start: Int = 0,
                          rng: inout RandomGenerator) -> [[Int]] {
    guard pkeep < 1 else { return tokens }
    return tokens.map { row in
        var row = row
        for i in row.indices where i >= start && rng.uniform() >= pkeep { row[i] = rng.int(below: vocabularySize) }
        return row
    }
}
