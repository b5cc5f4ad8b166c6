import NN
import Tensors

/// A network seen as a stack of feature maps: what a perceptual loss compares (LPIPS's `net`).
///
/// Shape letters: B batch, C channels, H height, W width.
public protocol FeatureBackbone: Module {
    /// The channel count of each feature map `featureStacks` returns, shallowest first.
    var featureChannels: [Int] { get }

    /// The feature maps of images `x` [B, 3, H, W] in [-1, 1], shallowest first: element l is
    /// [B, featureChannels[l], H_l, W_l]. Differentiable with respect to `x`.
    func featureStacks(_ x: Tensor) -> [Tensor]

    /// Image sides must be positive multiples of this (1 for any size).
    var sizeMultiple: Int { get }
}

extension FeatureBackbone {
    public var sizeMultiple: Int { 1 }
}

extension Module {
    /// Stops every parameter of this module from asking for gradients, so that a loss built on it
    /// passes gradients through to its input without computing (or storing) any for its weights.
    /// Names do not change: the state dict, saving and loading are the same as before.
    public func freeze() {
        for (_, tensor) in namedParameters() { tensor.requiresGrad = false }
    }
}
