/// Dropout: in training, zero each element with probability p and scale the survivors by 1/(1−p)
/// so the expected value is unchanged; in evaluation, the identity.
public func dropout(_ x: Tensor, p: Float, training: Bool, rng: inout RandomGenerator) -> Tensor {
    guard training && p > 0 else { return x }
    precondition(p < 1, "dropout probability \(p) must be below 1") // invariant: a programming error, not user input
    let keep = 1 / (1 - p)
    let mask = Tensor.make(x.shape) { d in for i in d.indices { d[i] = rng.uniform() < p ? 0 : keep } }
    let out = broadcastKernel(x, mask, *)
    return Tensor.record(out, "dropout", [x]) { g, _ in [broadcastKernel(g, mask, *)] }
}
