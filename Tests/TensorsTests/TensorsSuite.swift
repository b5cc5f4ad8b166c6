import Testing

/// The root of every Tensors test suite. Tests run in parallel: grad mode and the thread-count
/// override (`withThreadCount`) are per thread, so one test's `withNoGrad`, `backward()` or thread
/// count never leaks into another's (the "Autodiff" and "Determinism" suites check this).
@Suite("Tensors")
enum TensorsSuite {}
