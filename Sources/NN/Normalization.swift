import Tensors

/// Normalisation layers: standardise x̂ = (x − μ)/√(σ² + eps) over some set of elements, then
/// apply a learned per-channel affine y = γ·x̂ + β (`weight` γ starts at 1, `bias` β at 0).

/// Group normalisation over x [B, C, *]: statistics per sample and per group of C/groups channels.
/// The VQGAN's `Normalize` is GroupNorm(32 groups, eps 1e-6).
public final class GroupNorm: Module, Layer {
    public let groups: Int
    public let eps: Float
    public let weight: Tensor?   // [C]
    public let bias: Tensor?     // [C]

    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        precondition(groups > 0 && channels % groups == 0, "GroupNorm: \(channels) channels in \(groups) groups") // invariant: a programming error, not user input
        self.groups = groups
        self.eps = eps
        weight = affine ? Tensor.ones([channels], requiresGrad: true) : nil
        bias = affine ? Tensor.zeros([channels], requiresGrad: true) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {   // [B, C, H, W] → same
        recordShapes(x, output: groupNorm(x, groups: groups, weight: weight, bias: bias, eps: eps))
    }

    public override var details: String { "\(groups) groups, eps \(eps)" }
}

/// Layer normalisation over the last dimension of x [..., D] (the GPT's).
public final class LayerNorm: Module, Layer {
    public let eps: Float
    public let weight: Tensor?   // [D]
    public let bias: Tensor?     // [D]

    public init(_ dimension: Int, eps: Float = 1e-5, affine: Bool = true) {
        precondition(dimension > 0, "LayerNorm(\(dimension))") // invariant: a programming error, not user input
        self.eps = eps
        weight = affine ? Tensor.ones([dimension], requiresGrad: true) : nil
        bias = affine ? Tensor.zeros([dimension], requiresGrad: true) : nil
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {   // [..., D] → same
        recordShapes(x, output: layerNorm(x, weight: weight, bias: bias, eps: eps))
    }

    public override var details: String { "eps \(eps)" }
}

/// Batch normalisation of x [B, C, H, W] per channel (the PatchGAN discriminator's).
///
/// In training mode it normalises with the batch's mean and (biased) variance and updates the
/// running statistics in place: r ← (1 − momentum)·r + momentum·batch value, with the unbiased
/// variance, as PyTorch. In evaluation mode it uses the running statistics. These are buffers,
/// saved in the state dict as `running_mean` and `running_var`. (PyTorch's integer
/// `num_batches_tracked` is not kept: it only matters when momentum is None.)
public final class BatchNorm2d: Module, Layer {
    public let momentum: Float
    public let eps: Float
    public let weight: Tensor?        // [C]
    public let bias: Tensor?          // [C]
    public let running_mean: Tensor   // [C], a buffer
    public let running_var: Tensor    // [C], a buffer

    public init(_ channels: Int, momentum: Float = 0.1, eps: Float = 1e-5, affine: Bool = true) {
        precondition(channels > 0, "BatchNorm2d(\(channels))") // invariant: a programming error, not user input
        self.momentum = momentum
        self.eps = eps
        weight = affine ? Tensor.ones([channels], requiresGrad: true) : nil
        bias = affine ? Tensor.zeros([channels], requiresGrad: true) : nil
        running_mean = Tensor.zeros([channels])
        running_var = Tensor.ones([channels])
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {   // [B, C, H, W] → same
        recordShapes(x, output: batchNorm(x, runningMean: running_mean, runningVar: running_var,
                                          weight: weight, bias: bias, training: isTraining,
                                          momentum: momentum, eps: eps))
    }

    public override var details: String { "\(running_mean.count) channels, momentum \(momentum), eps \(eps)" }
}
