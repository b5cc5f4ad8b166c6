import NN
import Tensors

/// A feature backbone that sees each picture extended by `margin` pixels repeated from its edges.
///
/// Convolutions pad with zeros, so on a 32×32 picture most positions of a deep feature map
/// touch the border, where the features depend on how the picture's edge pixels compare with
/// zero. Trained through such a network, a decoder learns to paint frames around its pictures.
/// Extending the pictures by their own edge pixels first moves that boundary away from the
/// picture, while gradients still reach every pixel (the margin copies its edge pixels).
///
/// Shape letters: B batch, C channels, H height, W width, m the margin.
public final class EdgePaddedBackbone: Module, FeatureBackbone {
    public let net: FeatureBackbone
    public let margin: Int

    public init(_ net: FeatureBackbone, margin: Int) {
        precondition(margin >= 0, "margin \(margin)") // invariant: a programming error, not user input
        self.net = net
        self.margin = margin
        super.init()
    }

    public var featureChannels: [Int] { net.featureChannels }
    public var sizeMultiple: Int { net.sizeMultiple }

    /// The backbone's feature maps of `x` [B, C, H, W] extended to [B, C, H + 2m, W + 2m].
    public func featureStacks(_ x: Tensor) -> [Tensor] { net.featureStacks(Self.edgePadded(x, margin)) }

    /// `x` [B, C, H, W] with its first and last rows, then columns, repeated `m` times outside.
    public static func edgePadded(_ x: Tensor, _ m: Int) -> Tensor {
        guard m > 0 else { return x }
        let (h, w) = (x.shape[2], x.shape[3])
        let top = x.slice(axis: 2, 0..<1), bottom = x.slice(axis: 2, (h - 1)..<h)
        let rows = concat(Array(repeating: top, count: m) + [x] + Array(repeating: bottom, count: m), axis: 2)
        let left = rows.slice(axis: 3, 0..<1), right = rows.slice(axis: 3, (w - 1)..<w)
        return concat(Array(repeating: left, count: m) + [rows] + Array(repeating: right, count: m), axis: 3)
    }
}
