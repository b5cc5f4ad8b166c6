import Tensors

/// Rescales gradients so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_`: with N = √(Σ over all parameters of Σ grad²), every gradient
/// is multiplied by min(1, maxNorm / (N + 1e-6)). Returns N, the norm before clipping (worth
/// logging). Parameters without a gradient are ignored. The sum runs in Double, in order, so the
/// result does not depend on the thread count.
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Float) -> Float {
    var total: Double = 0
    for p in parameters {
        guard let g = p.grad else { continue }
        g.withUnsafeBufferPointer { b in for x in b { total += Double(x) * Double(x) } }
    }
    let norm = total.squareRoot()
    let coefficient = Double(maxNorm) / (norm + 1e-6)
    if coefficient < 1 {
        let c = Float(coefficient)
        for p in parameters {
            guard let g = p.grad else { continue }
            let ptr = g.storage.pointer
            Parallel.forRanges(g.count) { r in for i in r { ptr[i] *= c } }
        }
    }
    return Float(norm)
}
