import Foundation
import Tensors

/// PyTorch's default initialisation of Linear and Conv2d, so that our freshly built models start
/// from the same distributions as the reference's.
///
/// Weights use `kaiming_uniform_(a = √5)`: gain = √(2 / (1 + a²)) = √(1/3), and values are drawn
/// from U(−bound, bound) with bound = gain · √(3 / fan_in) = 1/√fan_in. Biases use
/// U(−1/√fan_in, 1/√fan_in). fan_in is the number of inputs to one output: `in` for Linear,
/// `Cin·kh·kw` for Conv2d. Computed in Double, as PyTorch's Python code does.
enum DefaultInit {
    /// The weight bound gain·√(3/fan_in) with a = √5.
    static func weightBound(fanIn: Int) -> Float {
        guard fanIn > 0 else { return 0 }
        let a = 5.0.squareRoot()
        let gain = (2.0 / (1 + a * a)).squareRoot()
        let std = gain / Double(fanIn).squareRoot()
        return Float(3.0.squareRoot() * std)
    }

    /// The bias bound 1/√fan_in.
    static func biasBound(fanIn: Int) -> Float {
        fanIn > 0 ? Float(1 / Double(fanIn).squareRoot()) : 0
    }

    /// A trainable weight tensor of `shape`, U(±weightBound).
    static func weight(_ shape: [Int], fanIn: Int, rng: inout RandomGenerator) -> Tensor {
        let b = weightBound(fanIn: fanIn)
        return Tensor.uniform(shape, low: -b, high: b, rng: &rng, requiresGrad: true)
    }

    /// A trainable bias tensor [n], U(±biasBound).
    static func bias(_ n: Int, fanIn: Int, rng: inout RandomGenerator) -> Tensor {
        let b = biasBound(fanIn: fanIn)
        return Tensor.uniform([n], low: -b, high: b, rng: &rng, requiresGrad: true)
    }
}
