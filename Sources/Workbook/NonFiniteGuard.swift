/// Training stopped because a loss became NaN or infinite.
public struct NonFiniteLossError: Error, CustomStringConvertible, Equatable {
    /// The step whose loss was not finite (0-based, counted from the start of training).
    public var step: Int
    /// Which loss, when a step has several.
    public var name: String
    public var value: Float

    public var description: String {
        "\(name) is \(value) at step \(step): training stopped (the last checkpoint, if any, is kept); "
            + "try a smaller learning rate or another --seed"
    }
}

/// Throws `NonFiniteLossError` naming the step when `loss` is NaN or ±∞, before the bad value can
/// reach the weights or a checkpoint.
@inline(__always)
public func guardFinite(_ loss: Float, step: Int, name: String = "loss") throws {
    if !loss.isFinite { throw NonFiniteLossError(step: step, name: name, value: loss) }
}

import Tensors

/// Throws `NonFiniteLossError` when a scalar loss tensor holds NaN or ±∞.
public func guardFinite(_ loss: Tensor, step: Int, name: String = "loss") throws {
    try guardFinite(loss.item, step: step, name: name)
}
