/// A fixed-size, 64-byte-aligned buffer of `Float`s that frees itself when the last reference goes.
///
/// Tensors share a `Storage` only when a view would be free (`reshaped`, `detached`); every op
/// otherwise writes a fresh one, so a tensor's values never change behind its back. The exceptions
/// are explicit and named: optimizers update parameters in place, and `copy(from:)` overwrites.
public final class Storage {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// Uninitialised storage of `count` floats; callers must write every element.
    public init(uninitializedCount count: Int) {
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Storage with every element set to `value`.
    public convenience init(count: Int, repeating value: Float) {
        self.init(uninitializedCount: count)
        pointer.update(repeating: value, count: count)
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }
}
