import Tensors

/// A lookup table of `count` vectors of `dimension` values (token embeddings, the VQ codebook):
/// indices [N] → rows [N, D]. The table `weight` [count, D] starts N(0, 1), as PyTorch's.
public final class Embedding: Module {
    public let weight: Tensor   // [count, D]

    public init(count: Int, dimension: Int, rng: inout RandomGenerator) {
        precondition(count > 0 && dimension > 0, "Embedding(\(count), \(dimension))") // invariant: a programming error, not user input
        weight = Tensor.normal([count, dimension], mean: 0, std: 1, rng: &rng, requiresGrad: true)
        super.init()
    }

    public var count: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    /// The rows for `indices` (each in 0..<count): [indices.count, D].
    public func callAsFunction(_ indices: [Int]) -> Tensor {
        recordShapes(inputShapes: [[indices.count]], output: embedding(indices, weight: weight))
    }

    public override var details: String { "\(count) × \(dimension)" }
}
