import Tensors

/// Small conveniences shared by the test targets: seeded tensors and scoped thread counts.

/// A tensor of N(0, 1) values from a fixed seed (so each test's data is reproducible on its own).
public func seededNormal(_ shape: [Int], seed: UInt64, mean: Float = 0, std: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.normal(shape, mean: mean, std: std, rng: &rng)
}

/// A tensor of values uniform in [low, high) from a fixed seed.
public func seededUniform(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.uniform(shape, low: low, high: high, rng: &rng)
}

/// Values whose magnitude is at least `margin` and at most 1 + margin, with random signs: inputs
/// for ops with a kink at zero (relu, abs, leaky relu), so that x ± h never crosses it.
public func seededAwayFromZero(_ shape: [Int], seed: UInt64, margin: Float = 0.1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.make(shape) { b in
        for i in b.indices {
            let m = margin + rng.uniform()
            b[i] = rng.uniform() < 0.5 ? -m : m
        }
    }
}

/// Runs `body` with the kernels called from this thread using `n` workers (`Parallel`'s
/// thread-local override, so tests running beside this one keep their own thread count).
public func withThreadCount<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    try Parallel.withThreadCount(n, body)
}
