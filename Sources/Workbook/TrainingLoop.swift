import Foundation

/// Where a training run stands: steps done and seconds spent, counted across resumed runs.
public struct TrainingState: Equatable, Sendable {
    /// Steps done; the next step to run has this index.
    public var step: Int
    /// Wall-clock seconds of training so far.
    public var seconds: Double
    /// True once the budget was spent (false for a periodic or interrupted checkpoint).
    public var finished: Bool

    public init(step: Int = 0, seconds: Double = 0, finished: Bool = false) {
        self.step = step
        self.seconds = seconds
        self.finished = finished
    }
}

/// What a finished training loop reports (and the chapter records in summary.json).
public struct TrainingReport: Equatable, Sendable {
    public var label: String
    public var budget: TrainingBudget
    /// Steps done in total, including those of resumed runs.
    public var steps: Int
    /// Step this run started from (0 unless it resumed a checkpoint).
    public var resumedFrom: Int
    /// Seconds spent in this run.
    public var seconds: Double
    /// True when the model was loaded, finished, from the checkpoint cache (no steps ran).
    public var fromCache = false

    public init(label: String, budget: TrainingBudget, steps: Int, resumedFrom: Int, seconds: Double,
                fromCache: Bool = false) {
        self.label = label
        self.budget = budget
        self.steps = steps
        self.resumedFrom = resumedFrom
        self.seconds = seconds
        self.fromCache = fromCache
    }

    public var json: JSONValue {
        ["steps": .int(steps), "resumed_from": .int(resumedFrom), "budget": .string(budget.description),
         "seconds": .number(seconds, decimals: 3), "from_cache": .bool(fromCache)]
    }
}

/// Runs training steps until the budget is spent, showing a progress bar, saving checkpoints and
/// stopping cleanly at a step boundary on Ctrl-C.
///
/// The body gets the step index (0-based, counted from the very first run) and returns the losses
/// to show. A body that throws (for instance `guardFinite`) stops the loop without saving, so the
/// last checkpoint on disk stays the last good one. For a resumed run to match an uninterrupted
/// one, derive each step's randomness from the step, e.g. `RandomGenerator(seed: seed &+ UInt64(step))`.
public struct TrainingLoop {
    public var label: String
    public var budget: TrainingBudget
    /// Where a resumed run starts; `TrainingState()` for a fresh one.
    public var start: TrainingState
    /// Seconds between periodic checkpoints (when `save` is set).
    public var checkpointInterval: Double = 30
    /// Writes a checkpoint for a state; called periodically, on interrupt, and once at the end
    /// with `finished` set. Returns where it wrote, for messages.
    public var save: ((TrainingState) throws -> URL?)?
    public var console: Console = .standard
    public var clock: Clock = .system
    public var interruption: Interruption = .shared
    /// Seconds between plain progress lines when output is not a terminal.
    public var logInterval: Double = 5

    public init(_ label: String, budget: TrainingBudget, start: TrainingState = TrainingState(),
                save: ((TrainingState) throws -> URL?)? = nil) {
        self.label = label
        self.budget = budget
        self.start = start
        self.save = save
    }

    /// Runs the loop; throws `TrainingInterrupted` after saving when the user pressed Ctrl-C.
    public func run(_ body: (_ step: Int) throws -> KeyValuePairs<String, Float>) throws -> TrainingReport {
        let progress = Progress(label, budget: budget, startStep: start.step, previousSeconds: start.seconds,
                                console: console, clock: clock, interval: logInterval)
        let began = clock.now()
        var step = start.step
        var lastSave = began
        func state(finished: Bool) -> TrainingState {
            TrainingState(step: step, seconds: start.seconds + clock.now() - began, finished: finished)
        }
        try interruption.listening {
            defer { progress.finish() }
            while !budget.isSpent(steps: step, elapsed: start.seconds + clock.now() - began) {
                let losses = try body(step)
                step += 1
                progress.update(step: step, losses: losses)
                if let signal = interruption.received {
                    progress.finish()
                    let url = try save?(state(finished: false))
                    throw TrainingInterrupted(signal: signal, step: step, checkpoint: url)
                }
                if let save, clock.now() - lastSave >= checkpointInterval {
                    _ = try save(state(finished: false))
                    lastSave = clock.now()
                }
            }
        }
        _ = try save?(state(finished: true))
        return TrainingReport(label: label, budget: budget, steps: step, resumedFrom: start.step,
                              seconds: clock.now() - began)
    }
}
