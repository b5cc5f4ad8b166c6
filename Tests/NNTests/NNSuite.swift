import Testing

/// The root of every NN test suite. Tests run one at a time: `withNoGrad`, shape recording and the
/// thread count are process-wide state.
@Suite("NN", .serialized)
enum NNSuite {}
