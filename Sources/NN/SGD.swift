import Tensors

/// Stochastic gradient descent with optional momentum, as `torch.optim.SGD` (no dampening):
///
///     g ← grad + λ·p
///     b ← μ·b + g            (slot momentum_buffer, when μ > 0)
///     p ← p − lr·b           (or p − lr·(g + μ·b) with Nesterov momentum)
///
/// The buffer starts at zero, so the first step uses b = g, as PyTorch's.
public final class SGD: Optimizer {
    public let momentum: Float
    public let nesterov: Bool

    /// SGD over parameter groups, each with its own weight decay λ.
    public init(groups: [ParameterGroup], lr: Float, momentum: Float = 0, nesterov: Bool = false) {
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(groups: groups, lr: lr, slotNames: momentum > 0 ? ["momentum_buffer"] : [])
    }

    /// SGD over named parameters.
    public convenience init(namedParameters: [(String, Tensor)], lr: Float, momentum: Float = 0,
                            weightDecay: Float = 0, nesterov: Bool = false) {
        self.init(groups: [ParameterGroup(namedParameters, weightDecay: weightDecay)], lr: lr,
                  momentum: momentum, nesterov: nesterov)
    }

    /// SGD over parameters named "0", "1", … in order.
    public convenience init(parameters: [Tensor], lr: Float, momentum: Float = 0, weightDecay: Float = 0,
                            nesterov: Bool = false) {
        self.init(namedParameters: Optimizer.numbered(parameters), lr: lr, momentum: momentum,
                  weightDecay: weightDecay, nesterov: nesterov)
    }

    override func update(_ p: UnsafeMutablePointer<Float>, grad g: UnsafeMutablePointer<Float>, count: Int,
                         slots: [UnsafeMutablePointer<Float>], weightDecay: Float) {
        let lr = lr, mu = momentum, nesterov = nesterov
        if slots.isEmpty {
            Parallel.forRanges(count) { r in for i in r { p[i] -= lr * (g[i] + weightDecay * p[i]) } }
            return
        }
        let b = slots[0]
        Parallel.forRanges(count) { r in
            for i in r {
                let gi = g[i] + weightDecay * p[i]
                b[i] = mu * b[i] + gi
                p[i] -= lr * (nesterov ? gi + mu * b[i] : b[i])
            }
        }
    }
}
