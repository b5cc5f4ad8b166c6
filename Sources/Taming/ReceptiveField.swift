import NN

/// Which input pixels one output position of a convolution stack depends on, along one side.
///
/// Through a convolution with kernel k, stride s and padding p, output position i reads input
/// positions i·s − p … i·s − p + k − 1. Composing the layers from the top gives a window of
/// `size` pixels that moves by `stride` pixels from one output position to the next:
///
///     size = 1 + Σ_l (k_l − 1)·J_l,   stride = Π_l s_l,   offset = −Σ_l p_l·J_l,
///
/// where J_l is the product of the strides of the layers before layer l. Pointwise layers (norms,
/// activations) change nothing.
public struct ReceptiveField: Equatable, Sendable {
    /// Input pixels each output position sees along a side.
    public var size: Int
    /// Input pixels between neighbouring output positions.
    public var stride: Int
    /// The first input pixel of output position 0 (negative: the window starts in the padding).
    public var offset: Int

    /// The field of convolutions (kernel, stride, padding before the first pixel), input first.
    public init(layers: [(kernel: Int, stride: Int, padding: Int)]) {
        var size = 1, jump = 1, offset = 0
        for layer in layers {
            size += (layer.kernel - 1) * jump
            offset -= layer.padding * jump
            jump *= layer.stride
        }
        self.size = size
        self.stride = jump
        self.offset = offset
    }

    /// The input pixels output position `i` reads, which may reach into the zero padding.
    public func window(_ i: Int) -> ClosedRange<Int> {
        let start = offset + i * stride
        return start...(start + size - 1)
    }
}

extension NLayerDiscriminator {
    /// The patch each logit judges: 70×70 pixels for the reference's three layers, 34×34 for two,
    /// 16×16 for one (kernel 4 everywhere, strides 2 then 1).
    public var receptiveField: ReceptiveField {
        ReceptiveField(layers: main.layers.compactMap { layer in
            (layer as? Conv2d).map { (kernel: $0.kernelSize, stride: $0.stride, padding: $0.padding.top) }
        })
    }
}
