import Tensors

/// Dropout: in training, zero each element with probability p and scale survivors by 1/(1 − p);
/// in evaluation, the identity.
///
/// The layer owns its random generator, seeded when it is built (from the model's generator, so a
/// model's seed fixes its dropout masks too): a forward pass then needs no generator argument and
/// stays a plain `Layer`. The generator's position is not saved in checkpoints, so a resumed run
/// draws different masks than an uninterrupted one would; with p = 0 (every reference config)
/// nothing is drawn at all.
public final class Dropout: Module, Layer {
    public let p: Float
    var rng: RandomGenerator

    /// Dropout with probability `p` (in [0, 1)) and its own generator seeded with `seed`.
    public init(p: Float, seed: UInt64) {
        precondition(p >= 0 && p < 1, "Dropout probability \(p) must be in [0, 1)") // invariant: a programming error, not user input
        self.p = p
        rng = RandomGenerator(seed: seed)
        super.init()
    }

    /// Dropout whose generator is split off `rng`.
    public convenience init(p: Float, rng: inout RandomGenerator) {
        self.init(p: p, seed: rng.next())
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        recordShapes(x, output: dropout(x, p: p, training: isTraining, rng: &rng))
    }

    public override var details: String { "p \(p)" }
}
