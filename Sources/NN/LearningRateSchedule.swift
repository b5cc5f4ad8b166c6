import Foundation

/// A linear warm-up followed by a cosine decay, as nanoGPT trains with:
///
///     lr(s) = peak · (s + 1) / warmup                          for s < warmup
///     lr(s) = min + ½·(1 + cos(π·(s − warmup)/(total − warmup)))·(peak − min)   up to total
///     lr(s) = min                                              after total
///
/// where s counts the steps already taken (0 for the first). Set `optimizer.lr = schedule(s)`
/// before each step.
public struct WarmupCosineSchedule: Equatable, Sendable {
    public var peak: Float
    public var minimum: Float
    public var warmupSteps: Int
    public var totalSteps: Int

    public init(peak: Float, minimum: Float = 0, warmupSteps: Int, totalSteps: Int) {
        precondition(warmupSteps >= 0 && totalSteps >= warmupSteps,  // invariant: a programming error, not user input
                     "schedule with \(warmupSteps) warm-up steps of \(totalSteps)")
        self.peak = peak
        self.minimum = minimum
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
    }

    /// The learning rate for the step after `step` steps have been taken.
    public func callAsFunction(_ step: Int) -> Float {
        if step < warmupSteps { return Float(Double(peak) * Double(step + 1) / Double(warmupSteps)) }
        if step >= totalSteps { return minimum }
        let progress = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        let coefficient = 0.5 * (1 + cos(Double.pi * progress))
        return Float(Double(minimum) + coefficient * Double(peak - minimum))
    }
}
