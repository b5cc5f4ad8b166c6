import Tensors

/// A 2-D convolution (cross-correlation, as PyTorch): [B, Cin, H, W] → [B, Cout, H', W'] with
/// H' = (H + top + bottom − k) / stride + 1.
///
/// The weight is [Cout, Cin, k, k] (state-dict names `weight`, `bias`), initialised as PyTorch
/// does with fan_in = Cin·k·k (see `DefaultInit`). Padding is zeros, the same on every side or
/// given per side (`Padding(left:right:top:bottom:)`, as the reference's Downsample needs).
public final class Conv2d: Module, Layer {
    public let weight: Tensor   // [Cout, Cin, k, k]
    public let bias: Tensor?    // [Cout]
    public let stride: Int
    public let padding: Padding

    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                padding: Padding = .zero, bias: Bool = true, rng: inout RandomGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && kernelSize > 0 && stride > 0,  // invariant: a programming error, not user input
                     "Conv2d(\(inChannels), \(outChannels), k \(kernelSize), stride \(stride))")
        let fanIn = inChannels * kernelSize * kernelSize
        weight = DefaultInit.weight([outChannels, inChannels, kernelSize, kernelSize], fanIn: fanIn, rng: &rng)
        self.bias = bias ? DefaultInit.bias(outChannels, fanIn: fanIn, rng: &rng) : nil
        self.stride = stride
        self.padding = padding
        super.init()
    }

    /// The same, with the same zero padding `padding` on all four sides.
    public convenience init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1,
                            padding: Int, bias: Bool = true, rng: inout RandomGenerator) {
        self.init(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                  padding: .same(padding), bias: bias, rng: &rng)
    }

    public var inChannels: Int { weight.shape[1] }
    public var outChannels: Int { weight.shape[0] }
    public var kernelSize: Int { weight.shape[2] }

    public func callAsFunction(_ x: Tensor) -> Tensor {   // [B, Cin, H, W] → [B, Cout, H', W']
        recordShapes(x, output: conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding))
    }

    public override var details: String {
        var s = "\(inChannels)→\(outChannels), \(kernelSize)×\(kernelSize)"
        if stride != 1 { s += ", stride \(stride)" }
        let p = padding
        if p == .same(p.left) {
            if p.left != 0 { s += ", padding \(p.left)" }
        } else {
            s += ", padding (l \(p.left), r \(p.right), t \(p.top), b \(p.bottom))"
        }
        if bias == nil { s += ", no bias" }
        return s
    }
}
