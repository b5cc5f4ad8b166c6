#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small integer per thread, for the few settings that must not leak between threads (grad
/// mode, a thread-count override, whether a GEMM may split). Reading it is one pthread lookup.
final class ThreadLocalInt: @unchecked Sendable {
    private var key = pthread_key_t()
    /// The value a thread sees before it sets one.
    let initial: Int

    init(initial: Int) {
        self.initial = initial
        pthread_key_create(&key, nil)
    }

    /// Values are stored offset by one so that "never set" (a nil pointer) means `initial`.
    var value: Int {
        get {
            guard let raw = pthread_getspecific(key) else { return initial }
            return Int(bitPattern: raw) - 1
        }
        set { pthread_setspecific(key, UnsafeRawPointer(bitPattern: newValue + 1)) }
    }
}
