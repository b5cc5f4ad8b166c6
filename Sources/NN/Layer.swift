import Tensors

/// A module with one tensor in and one tensor out, so that it can sit in a `Sequential`.
public protocol Layer: AnyObject {
    func callAsFunction(_ x: Tensor) -> Tensor
}
