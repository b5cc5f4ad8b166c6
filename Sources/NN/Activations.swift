import Tensors

/// Parameter-free activation layers, for `Sequential` stacks and diagrams. Each just applies the
/// tensor op of the same name.

/// SiLU / swish, x·σ(x): the VQGAN's nonlinearity.
public final class SiLU: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: x.silu()) }
}

/// GELU (exact erf form), x·Φ(x): the GPT's MLP nonlinearity.
public final class GELU: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: x.gelu()) }
}

/// ReLU, max(x, 0).
public final class ReLU: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: x.relu()) }
}

/// Leaky ReLU, x for x > 0 and slope·x otherwise (PatchGAN uses slope 0.2).
public final class LeakyReLU: Module, Layer {
    public let negativeSlope: Float
    public init(_ negativeSlope: Float = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: x.leakyRelu(negativeSlope)) }
    public override var details: String { "slope \(negativeSlope)" }
}

/// tanh, for outputs in (−1, 1).
public final class Tanh: Module, Layer {
    public override init() { super.init() }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: x.tanh()) }
}
