import Foundation
import Tensors

/// Adam (Kingma & Ba, 2015), as `torch.optim.Adam`, with L2 weight decay added to the gradient.
///
/// With g the gradient (plus λ·p when weight decay λ is set) and t the step number:
///
///     m ← β₁·m + (1 − β₁)·g                 (slot exp_avg)
///     v ← β₂·v + (1 − β₂)·g²                (slot exp_avg_sq)
///     p ← p − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + eps)
///
/// The VQGAN trains with betas (0.5, 0.9).
public class Adam: Optimizer {
    public let betas: (Float, Float)
    public let eps: Float
    /// True for AdamW: decay the weights directly instead of adding λ·p to the gradient.
    let decoupledWeightDecay: Bool

    init(groups: [ParameterGroup], lr: Float, betas: (Float, Float), eps: Float, decoupled: Bool) {
        self.betas = betas
        self.eps = eps
        decoupledWeightDecay = decoupled
        super.init(groups: groups, lr: lr, slotNames: ["exp_avg", "exp_avg_sq"])
    }

    /// Adam over parameter groups, each with its own weight decay.
    public convenience init(groups: [ParameterGroup], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                            eps: Float = 1e-8) {
        self.init(groups: groups, lr: lr, betas: betas, eps: eps, decoupled: false)
    }

    /// Adam over named parameters (the names key the saved state).
    public convenience init(namedParameters: [(String, Tensor)], lr: Float = 1e-3,
                            betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8, weightDecay: Float = 0) {
        self.init(groups: [ParameterGroup(namedParameters, weightDecay: weightDecay)], lr: lr, betas: betas,
                  eps: eps, decoupled: false)
    }

    /// Adam over parameters named "0", "1", … in order.
    public convenience init(parameters: [Tensor], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                            eps: Float = 1e-8, weightDecay: Float = 0) {
        self.init(namedParameters: Optimizer.numbered(parameters), lr: lr, betas: betas, eps: eps,
                  weightDecay: weightDecay)
    }

    override func update(_ p: UnsafeMutablePointer<Float>, grad g: UnsafeMutablePointer<Float>, count: Int,
                         slots: [UnsafeMutablePointer<Float>], weightDecay: Float) {
        let m = slots[0], v = slots[1]
        let (b1, b2) = betas, eps = eps, t = Double(stepCount)
        let stepSize = Float(Double(lr) / (1 - Foundation.pow(Double(b1), t)))
        let bc2Root = Float((1 - Foundation.pow(Double(b2), t)).squareRoot())
        let l2 = decoupledWeightDecay ? 0 : weightDecay
        let shrink = decoupledWeightDecay ? 1 - lr * weightDecay : 1
        Parallel.forRanges(count) { r in
            for i in r {
                let gi = g[i] + l2 * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                p[i] = p[i] * shrink - stepSize * m[i] / (v[i].squareRoot() / bc2Root + eps)
            }
        }
    }
}

/// AdamW (Loshchilov & Hutter, 2019), as `torch.optim.AdamW`: Adam with decoupled weight decay,
/// p ← p·(1 − lr·λ) before the Adam step. The GPT trains with betas (0.9, 0.95) and λ = 0.01 on
/// Linear weights only (pass two `ParameterGroup`s).
public final class AdamW: Adam {
    /// AdamW over parameter groups, each with its own weight decay λ.
    public init(groups: [ParameterGroup], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                eps: Float = 1e-8) {
        super.init(groups: groups, lr: lr, betas: betas, eps: eps, decoupled: true)
    }

    /// AdamW over named parameters, all with weight decay λ (PyTorch's default 0.01).
    public convenience init(namedParameters: [(String, Tensor)], lr: Float = 1e-3,
                            betas: (Float, Float) = (0.9, 0.999), eps: Float = 1e-8, weightDecay: Float = 0.01) {
        self.init(groups: [ParameterGroup(namedParameters, weightDecay: weightDecay)], lr: lr, betas: betas, eps: eps)
    }

    /// AdamW over parameters named "0", "1", … in order.
    public convenience init(parameters: [Tensor], lr: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
                            eps: Float = 1e-8, weightDecay: Float = 0.01) {
        self.init(namedParameters: Optimizer.numbered(parameters), lr: lr, betas: betas, eps: eps,
                  weightDecay: weightDecay)
    }
}
