import Foundation

/// Losses that pair a prediction with a target: cross-entropy for tokens, binary cross-entropy
/// with logits for one-hot segmentation maps (the cond-stage model's loss).

/// Mean cross-entropy of `logits` [N, K] against class indices `targets` [N]; positions whose
/// target equals `ignoreIndex` count neither in the sum nor in the mean.
public func crossEntropy(logits: Tensor, targets: [Int], ignoreIndex: Int? = nil) -> Tensor {
    let k = logits.shape.last!
    let n = logits.count / k
    precondition(targets.count == n, "crossEntropy: \(targets.count) targets for \(n) rows") // invariant: a programming error, not user input
    let logp = softmaxKernel(logits.reshaped([n, k]).detached(), axis: 1, log: true)
    let lp = logp.storage.pointer
    var total: Double = 0
    var used = 0
    for (i, t) in targets.enumerated() where t != ignoreIndex {
        precondition(t >= 0 && t < k, "crossEntropy: target \(t) outside 0..<\(k)") // invariant: a programming error, not user input
        total -= Double(lp[i * k + t]); used += 1
    }
    let out = Tensor(used > 0 ? Float(total / Double(used)) : 0)
    let shape = logits.shape
    return Tensor.record(out, "cross_entropy", [logits]) { g, _ in
        // d/dlogits = (softmax − onehot) / used
        let scale = g.item / Float(Swift.max(used, 1))
        let lp = logp.storage.pointer // keeps logp alive in this closure
        return [Tensor.make(shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(n, grain: Swift.max(1, 4096 / k)) { range in
                for i in range {
                    let row = o + i * k
                    if targets[i] == ignoreIndex { row.update(repeating: 0, count: k); continue }
                    for j in 0..<k { row[j] = Foundation.exp(lp[i * k + j]) * scale }
                    row[targets[i]] -= scale
                }
            }
        }]
    }
}

/// Mean binary cross-entropy between sigmoid(logits) and `targets` (same shape, values in [0, 1]):
/// max(x, 0) − x·t + log(1 + e^(−|x|)), the numerically stable form of PyTorch's loss.
public func binaryCrossEntropyWithLogits(_ logits: Tensor, targets: Tensor) -> Tensor {
    precondition(logits.shape == targets.shape, "BCE: \(logits.shape) vs \(targets.shape)") // invariant: a programming error, not user input
    let x = logits.storage.pointer, t = targets.storage.pointer
    let n = logits.count
    let terms = Tensor.make(logits.shape) { d in
        let o = d.baseAddress!
        Parallel.forRanges(n) { r in
            for i in r { o[i] = Swift.max(x[i], 0) - x[i] * t[i] + Foundation.log1p(Foundation.exp(-Swift.abs(x[i]))) }
        }
    }
    let out = Tensor(sumAllKernel(terms) / Float(Swift.max(n, 1)))
    return Tensor.record(out, "bce_with_logits", [logits, targets]) { g, needs in
        let scale = g.item / Float(Swift.max(n, 1))
        let dx = needs[0] ? Tensor.make(logits.shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(n) { r in for i in r { o[i] = (sigmoidScalar(x[i]) - t[i]) * scale } }
        } : nil
        let dt = needs[1] ? Tensor.make(logits.shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(n) { r in for i in r { o[i] = -x[i] * scale } }
        } : nil
        return [dx, dt]
    }
}

/// Mean squared error, mean((a − b)²).
public func mseLoss(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).squared().mean() }

/// Mean absolute error, mean(|a − b|): the reference's per-pixel reconstruction loss.
public func l1Loss(_ a: Tensor, _ b: Tensor) -> Tensor { (a - b).abs().mean() }
