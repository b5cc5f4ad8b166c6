/// An n-dimensional array of `Float`s, contiguous and row-major (NCHW for images), that remembers
/// how it was computed so that gradients can flow back through it.
///
/// `Tensor` is a reference type, like a PyTorch tensor: a module's parameter is one object that the
/// forward pass reads and the optimizer updates in place. Ops never mutate their inputs; they return
/// new tensors. Shape letters used in comments across the library: B batch, C channels, H height,
/// W width, T sequence length, K codebook size, D embedding dimension.
public final class Tensor {
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    /// The values; shared only with views made by `reshaped` and `detached`.
    public private(set) var storage: Storage
    /// Whether gradients are wanted for this tensor (leaves) or flow through it (op results).
    public var requiresGrad: Bool
    /// The accumulated gradient after `backward()`, for leaves with `requiresGrad`.
    public var grad: Tensor?
    /// How this tensor was computed, when it is the tracked result of an op.
    var node: GradNode?

    /// A tensor of the given shape over existing storage (which must hold `shape.product` floats).
    public init(shape: [Int], storage: Storage, requiresGrad: Bool = false) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)") // invariant: a programming error, not user input
        precondition(storage.count == shape.reduce(1, *),  // invariant: a programming error, not user input
                     "storage of \(storage.count) floats for shape \(shape)")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// A tensor filled with `value`.
    public convenience init(shape: [Int], repeating value: Float, requiresGrad: Bool = false) {
        self.init(shape: shape, storage: Storage(count: shape.reduce(1, *), repeating: value),
                  requiresGrad: requiresGrad)
    }

    /// A tensor whose values come from `data`, in row-major order.
    public convenience init(shape: [Int], _ data: [Float], requiresGrad: Bool = false) {
        let s = Storage(uninitializedCount: shape.reduce(1, *))
        precondition(data.count == s.count, "\(data.count) values for shape \(shape)") // invariant: a programming error, not user input
        data.withUnsafeBufferPointer { s.pointer.update(from: $0.baseAddress!, count: s.count) }
        self.init(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, repeating: 0, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, repeating: 1, requiresGrad: requiresGrad)
    }

    /// A tensor whose values the caller writes through `fill` (which must write all of them).
    public static func make(_ shape: [Int], _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> Tensor {
        let s = Storage(uninitializedCount: shape.reduce(1, *))
        fill(s.buffer)
        return Tensor(shape: shape, storage: s)
    }

    /// A zero-dimensional tensor holding `value`.
    public convenience init(_ value: Float) { self.init(shape: [], [value]) }

    /// Values drawn uniformly from [low, high).
    public static func uniform(_ shape: [Int], low: Float, high: Float,
                               rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = make(shape) { b in for i in b.indices { b[i] = rng.uniform(low, high) } }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Values drawn from N(mean, std²).
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1,
                              rng: inout RandomGenerator, requiresGrad: Bool = false) -> Tensor {
        let t = make(shape) { b in for i in b.indices { b[i] = mean + std * rng.normal() } }
        t.requiresGrad = requiresGrad
        return t
    }

    // MARK: Reading and writing values

    /// Number of elements.
    public var count: Int { storage.count }
    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs one element, shape is \(shape)") // invariant: a programming error, not user input
        return storage.pointer[0]
    }

    /// The values as an array, row-major.
    public var scalars: [Float] { Array(storage.buffer) }

    /// Reads the values through a buffer pointer.
    @inline(__always)
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(storage.buffer))
    }

    /// Writes the values in place. Only for tensors not yet read by a tracked op: optimizers,
    /// initialisers and loaders.
    @inline(__always)
    public func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(storage.buffer)
    }

    /// Overwrites this tensor's values with `other`'s (same element count).
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy of \(other.shape) into \(shape)") // invariant: a programming error, not user input
        storage.pointer.update(from: other.storage.pointer, count: count)
    }

    /// The value at a multi-index (slow; for tests and small tables).
    public subscript(_ index: Int...) -> Float {
        get { storage.pointer[flatIndex(index)] }
        set { storage.pointer[flatIndex(index)] = newValue }
    }

    private func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == rank, "index \(index) for shape \(shape)") // invariant: a programming error, not user input
        var flat = 0
        for (i, n) in zip(index, shape) {
            precondition(i >= 0 && i < n, "index \(index) out of range for \(shape)") // invariant: a programming error, not user input
            flat = flat * n + i
        }
        return flat
    }

    /// A copy with its own storage and no graph.
    public func clone() -> Tensor {
        let s = Storage(uninitializedCount: count)
        s.pointer.update(from: storage.pointer, count: count)
        return Tensor(shape: shape, storage: s)
    }

    /// The same values, cut out of the graph: gradients stop here (the paper's sg[·]).
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let head = scalars.prefix(8).map { String(format: "%.4g", $0) }.joined(separator: ", ")
        return "Tensor\(shape)[\(head)\(count > 8 ? ", …" : "")]"
    }
}

extension Sequence where Element == Int {
    /// The product of the elements: a shape's element count.
    @inlinable public var product: Int { reduce(1, *) }
}

import Foundation
