import Foundation
import NN
import Tensors

/// The codebook of the paper's Eq. (2)–(4): each encoder vector ẑ is replaced by its nearest
/// codebook entry z_q = argmin_k ‖ẑ − e_k‖², and gradients skip the non-differentiable lookup
/// through the straight-through estimator z_q ← ẑ + sg[z_q − ẑ].
///
/// The loss is the codebook term ‖sg[ẑ] − z_q‖² (moves codes towards encoder outputs) plus β times
/// the commitment term ‖ẑ − sg[z_q]‖² (keeps the encoder near its codes), β = 0.25, as in the VQ-VAE
/// paper. The reference implementation (`legacy=True`, its default) puts β on the codebook term
/// instead; `legacy` reproduces that.
public final class VectorQuantizer: Module {
    /// The codebook [K, D], named `quantize.embedding.weight` in the reference's state dict.
    public let embedding: Embedding
    public let beta: Float
    public let legacy: Bool

    /// The outcome of quantising one batch.
    public struct Output {
        /// Straight-through quantised latents [B, D, h, w]: values of z_q, gradients of ẑ.
        public var quantized: Tensor
        /// The codebook-plus-commitment loss, weighted as configured (a scalar).
        public var loss: Tensor
        /// ‖sg[ẑ] − z_q‖² and ‖ẑ − sg[z_q]‖², unweighted, for logging.
        public var codebookLoss: Float
        public var commitmentLoss: Float
        /// The chosen code per latent position, raster order per image [B·h·w].
        public var indices: [Int]
        /// The latent grid's shape [B, h, w].
        public var gridShape: [Int]
    }

    /// A codebook of `size` vectors of dimension `dimension`, initialised uniform(−1/K, 1/K) as
    /// the reference does.
    public init(size: Int, dimension: Int, beta: Float = 0.25, legacy: Bool = false, rng: inout RandomGenerator) {
        embedding = Embedding(count: size, dimension: dimension, rng: &rng)
        embedding.weight.copy(from: Tensor.uniform([size, dimension], low: -1 / Float(size),
                                                   high: 1 / Float(size), rng: &rng))
        self.beta = beta
        self.legacy = legacy
        super.init()
    }

    public var codebookSize: Int { embedding.weight.shape[0] }
    public var dimension: Int { embedding.weight.shape[1] }

    /// Quantises z [B, D, h, w].
    public func callAsFunction(_ z: Tensor) -> Output {
        let (b, d, h, w) = (z.shape[0], z.shape[1], z.shape[2], z.shape[3])
        let flat = z.permuted([0, 2, 3, 1]).reshaped([b * h * w, d])        // [N, D]
        let indices = nearestCodes(flat)
        let zq = embedding(indices)                                        // [N, D], grads to the codebook
        let codebookTerm = mseLoss(zq, flat.detached())
        let commitmentTerm = mseLoss(flat, zq.detached())
        let commitmentWeight: Float = legacy ? 1 : beta
        // A codebook updated by EMA (no gradient) keeps only the commitment term.
        let loss = embedding.weight.requiresGrad
            ? commitmentTerm * commitmentWeight + codebookTerm * (legacy ? beta : 1)
            : commitmentTerm * commitmentWeight
        let straightThrough = flat + (zq - flat).detached()
        let quantized = recordShapes(z, output: straightThrough.reshaped([b, h, w, d]).permuted([0, 3, 1, 2]))
        return Output(quantized: quantized, loss: loss, codebookLoss: codebookTerm.item,
                      commitmentLoss: commitmentTerm.item, indices: indices, gridShape: [b, h, w])
    }

    /// The index of the nearest code for each row of `vectors` [N, D], by ‖z‖² + ‖e‖² − 2z·eᵀ.
    public func nearestCodes(_ vectors: Tensor) -> [Int] {
        withNoGrad { pairwiseSquaredDistances(vectors.detached(), embedding.weight.detached()).argminLast() }
    }

    /// Looks codes up: indices (raster order per image) for a grid [B, h, w] → z_q [B, D, h, w].
    /// (The reference's `get_codebook_entry`.)
    public func codebookEntries(_ indices: [Int], gridShape: [Int]) -> Tensor {
        let (b, h, w) = (gridShape[0], gridShape[1], gridShape[2])
        return embedding(indices).reshaped([b, h, w, dimension]).permuted([0, 3, 1, 2])
    }
}

/// How a batch uses the codebook: the fraction of codes chosen at least once, and the perplexity
/// exp(−Σ p_k log p_k) of the code distribution (K when every code is used equally, 1 when one
/// code takes everything).
public struct CodebookUsage: Equatable, Sendable {
    public var counts: [Int]
    public init(codebookSize: Int) { counts = [Int](repeating: 0, count: codebookSize) }
    public init(indices: [Int], codebookSize: Int) {
        self.init(codebookSize: codebookSize)
        add(indices)
    }
    public mutating func add(_ indices: [Int]) { for i in indices { counts[i] += 1 } }

    public var usedCodes: Int { counts.filter { $0 > 0 }.count }
    public var usage: Double { Double(usedCodes) / Double(max(counts.count, 1)) }
    public var perplexity: Double {
        let total = Double(counts.reduce(0, +))
        guard total > 0 else { return 0 }
        var entropy = 0.0
        for c in counts where c > 0 { let p = Double(c) / total; entropy -= p * Foundation.log(p) }
        return Foundation.exp(entropy)
    }
}
