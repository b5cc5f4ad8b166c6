import Foundation
import NN
import Tensors

// Shape letters: B sequences, T = P + N − 1 positions read, V vocabulary, P prefix tokens,
// N predicted tokens per sequence.

/// How many bits a model needs for held-out sequences: the negative log-likelihood −log₂ p(s)
/// of Eq. (8), per predicted token, per picture and per pixel, and where in the sequence the
/// bits go.
///
/// Bits per picture are the length of the shortest code the model could give a picture's tokens
/// (arithmetic coding reaches it); a model that knows nothing spends N·log₂ K. Bits per pixel
/// divide by the pixels a sequence stands for, so that models over pixels and over codes can be
/// set side by side (for bits per dimension, as PixelCNN papers report, divide again by 3).
public struct SequenceLikelihood: Equatable, Sendable {
    /// Sequences measured.
    public var sequences: Int
    /// Mean nats at each predicted position (N of them, in sequence order).
    public var natsPerPosition: [Double]
    /// Pixels one sequence stands for (N for a model over pixels, N·f² over codes).
    public var pixelsPerImage: Int

    public init(sequences: Int, natsPerPosition: [Double], pixelsPerImage: Int) {
        self.sequences = sequences; self.natsPerPosition = natsPerPosition; self.pixelsPerImage = pixelsPerImage
    }

    /// Mean nats per predicted token (the cross-entropy training minimises).
    public var natsPerToken: Double { natsPerPosition.reduce(0, +) / Double(max(natsPerPosition.count, 1)) }
    /// Mean bits per predicted token.
    public var bitsPerToken: Double { natsPerToken / M_LN2 }
    /// Mean bits per picture: Σ over positions.
    public var bitsPerImage: Double { natsPerPosition.reduce(0, +) / M_LN2 }
    /// Bits per picture over the pixels it covers.
    public var bitsPerPixel: Double { bitsPerImage / Double(max(pixelsPerImage, 1)) }
    /// Bits at each predicted position.
    public var bitsPerPosition: [Double] { natsPerPosition.map { $0 / M_LN2 } }
}

extension GPT {
    /// The likelihood of whole sequences [B][P + N] whose first `prefixLength` tokens are given
    /// (a start token, conditioning): only the N following tokens are scored. Runs the
    /// graph-free forward pass (`GPTInference.swift`) in evaluation mode, in batches.
    public func likelihood(sequences: [[Int]], prefixLength: Int, pixelsPerImage: Int,
                           batchSize: Int = 32) -> SequenceLikelihood {
        let length = sequences.first?.count ?? 0
        precondition(!sequences.isEmpty && prefixLength >= 1 && length > prefixLength  // invariant: a programming error, not user input
                     && sequences.allSatisfy { $0.count == length } && length - 1 <= config.blockSize,
                     "likelihood needs sequences of one length, longer than the prefix, within the block size")
        let n = length - prefixLength, v = config.vocabularySize
        var sums = [Double](repeating: 0, count: n)
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        withNoGrad {
            for start in stride(from: 0, to: sequences.count, by: batchSize) {
                let batch = Array(sequences[start..<min(start + batchSize, sequences.count)])
                let logits = self(batch.map { Array($0.dropLast()) }, caches: makeCaches())    // [B, T, V]
                let t = length - 1
                logits.withUnsafeBufferPointer { p in
                    for (i, sequence) in batch.enumerated() {
                        for k in 0..<n {
                            // Position P − 1 + k reads token P − 1 + k and predicts token P + k.
                            let row = p.baseAddress! + (i * t + prefixLength - 1 + k) * v
                            sums[k] += negativeLogSoftmax(row, count: v, at: sequence[prefixLength + k])
                        }
                    }
                }
            }
        }
        return SequenceLikelihood(sequences: sequences.count, natsPerPosition: sums.map { $0 / Double(sequences.count) },
                                  pixelsPerImage: pixelsPerImage)
    }
}

/// −log softmax(x)[target] = log Σ exp(x_j − m) + m − x_target, in Double.
func negativeLogSoftmax(_ x: UnsafePointer<Float>, count: Int, at target: Int) -> Double {
    precondition(target >= 0 && target < count, "target \(target) outside 0..<\(count)") // invariant: a programming error, not user input
    var m = x[0]
    for j in 1..<count where x[j] > m { m = x[j] }
    var sum = 0.0
    for j in 0..<count { sum += Foundation.exp(Double(x[j] - m)) }
    return Foundation.log(sum) + Double(m) - Double(x[target])
}
