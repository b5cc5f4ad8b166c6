import Tensors

/// A fully connected layer, y = x·Wᵀ + b over the last dimension: [..., in] → [..., out].
///
/// W is [out, in] as in PyTorch (state-dict names `weight`, `bias`); both start from PyTorch's
/// default initialisation (see `DefaultInit`).
public final class Linear: Module, Layer {
    public let weight: Tensor   // [out, in]
    public let bias: Tensor?    // [out]

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "Linear(\(inFeatures), \(outFeatures))") // invariant: a programming error, not user input
        weight = DefaultInit.weight([outFeatures, inFeatures], fanIn: inFeatures, rng: &rng)
        self.bias = bias ? DefaultInit.bias(outFeatures, fanIn: inFeatures, rng: &rng) : nil
        super.init()
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        recordShapes(x, output: linear(x, weight: weight, bias: bias))
    }

    public override var details: String { "\(inFeatures)→\(outFeatures)" + (bias == nil ? ", no bias" : "") }
}
