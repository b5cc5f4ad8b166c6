/// How long a training loop runs: a number of steps, or a wall-clock budget (`--seconds`).
public enum TrainingBudget: Equatable, Sendable, CustomStringConvertible {
    case steps(Int)
    case seconds(Double)

    /// True once `steps` steps have run for `elapsed` seconds (both counted from the very start,
    /// across resumed runs).
    public func isSpent(steps done: Int, elapsed: Double) -> Bool {
        switch self {
        case .steps(let total): return done >= total
        case .seconds(let limit): return elapsed >= limit
        }
    }

    /// Short and file-name safe: `2000-steps`, `60s`. Names cache entries trained under it.
    public var label: String {
        switch self {
        case .steps(let n): return "\(n)-steps"
        case .seconds(let s): return s == s.rounded() ? "\(Int(s))s" : "\(s)s"
        }
    }

    public var description: String {
        switch self {
        case .steps(let n): return "\(n) steps"
        case .seconds(let s): return "\(formatDuration(s)) of training"
        }
    }
}
