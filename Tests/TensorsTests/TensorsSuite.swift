import Testing

/// The root of every Tensors test suite. It runs its tests one at a time: `withNoGrad`, `backward()`
/// and `Parallel.setThreadCount` change process-wide state, and a test running beside one of them
/// could see its graph go unrecorded or its thread count change underneath it.
@Suite("Tensors", .serialized)
enum TensorsSuite {}
