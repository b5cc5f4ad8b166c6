import Foundation

/// A progress bar for a loop: done/total (or time left), rate, ETA and running losses.
///
/// On a terminal it redraws one line in place (`\r`) at most ten times a second; in a log it
/// prints a plain line every `interval` seconds, so CI output stays readable. Either way the
/// last line, written by `finish()`, stays. Cheap to call every step: between redraws an update
/// reads the clock and folds the losses into their running averages.
///
/// ```swift
/// let progress = Progress("training", total: 2000)
/// for step in 0..<2000 {
///     ...
///     progress.update(step: step + 1, losses: ["rec": rec.item, "vq": vq.item])
/// }
/// progress.finish()
/// ```
public final class Progress {
    public let label: String
    public let budget: TrainingBudget
    /// Steps done so far (including those of a run this one resumes).
    public private(set) var done: Int
    /// Running averages of the losses, in the order they were first given.
    public var smoothedLosses: [(name: String, value: Float)] { losses.map { ($0.name, $0.value) } }

    private let console: Console
    private let clock: Clock
    private let interval: Double
    private let startStep: Int
    private let previousSeconds: Double
    private let startTime: Double
    private var lastDraw: Double
    private var losses: [RunningMean] = []
    private var finished = false

    /// A bar for a loop of `total` steps.
    public convenience init(_ label: String, total: Int, console: Console = .standard, clock: Clock = .system,
                            interval: Double = 5) {
        self.init(label, budget: .steps(total), console: console, clock: clock, interval: interval)
    }

    /// A bar for a training budget, resuming after `startStep` steps that took `previousSeconds`.
    public init(_ label: String, budget: TrainingBudget, startStep: Int = 0, previousSeconds: Double = 0,
                console: Console = .standard, clock: Clock = .system, interval: Double = 5) {
        self.label = label
        self.budget = budget
        self.done = startStep
        self.startStep = startStep
        self.previousSeconds = previousSeconds
        self.console = console
        self.clock = clock
        self.interval = interval
        self.startTime = clock.now()
        self.lastDraw = startTime
    }

    /// Seconds since this bar started (this run only).
    public var elapsed: Double { clock.now() - startTime }

    /// Records that `step` steps are done and the latest values of the losses.
    public func update(step: Int, losses newLosses: KeyValuePairs<String, Float> = [:]) {
        done = step
        for (index, (name, value)) in newLosses.enumerated() {
            if index < losses.count && losses[index].name == name {
                losses[index].add(value)
            } else if let i = losses.firstIndex(where: { $0.name == name }) {
                losses[i].add(value)
            } else {
                var mean = RunningMean(name: name)
                mean.add(value)
                losses.append(mean)
            }
        }
        let now = clock.now()
        if console.isTerminal {
            if now - lastDraw >= 0.1 || step == startStep + 1 { draw(at: now) }
        } else if now - lastDraw >= interval {
            draw(at: now)
        }
    }

    /// Adds `count` steps.
    public func advance(by count: Int = 1, losses newLosses: KeyValuePairs<String, Float> = [:]) {
        update(step: done + count, losses: newLosses)
    }

    /// Writes the final line (steps, total time, rate, losses). Further calls do nothing.
    public func finish() {
        guard !finished else { return }
        finished = true
        let seconds = clock.now() - startTime
        var parts = [label]
        switch budget {
        case .steps(let total): parts.append("\(done)/\(total) steps")
        case .seconds: parts.append("\(done) steps")
        }
        parts.append("in \(formatDuration(seconds))")
        parts.append(rate(seconds))
        parts += lossTexts()
        let text = parts.joined(separator: "  ")
        console.write(console.isTerminal ? "\r" + text + "\u{1B}[K\n" : text + "\n")
    }

    /// The line a redraw shows now (without the bar in logs).
    func statusLine(at now: Double, bar: Bool) -> String {
        let seconds = now - startTime
        let stepsThisRun = done - startStep
        let perSecond = seconds > 0 ? Double(stepsThisRun) / seconds : 0
        var parts = [label]
        switch budget {
        case .steps(let total):
            let fraction = total > 0 ? Double(done) / Double(total) : 1
            if bar { parts.append(Self.bar(fraction)) }
            parts.append("\(done)/\(total)")
            if !bar { parts.append(String(format: "(%.0f%%)", 100 * fraction)) }
            parts.append(rate(seconds))
            let eta = perSecond > 0 ? Double(total - done) / perSecond : .infinity
            parts.append("ETA \(formatClock(eta))")
        case .seconds(let limit):
            let spent = previousSeconds + seconds
            if bar { parts.append(Self.bar(min(1, spent / limit))) }
            parts.append("\(formatClock(limit - spent)) left")
            parts.append("\(done) steps")
            parts.append(rate(seconds))
        }
        parts += lossTexts()
        return parts.joined(separator: "  ")
    }

    private func draw(at now: Double) {
        lastDraw = now
        if console.isTerminal {
            var line = statusLine(at: now, bar: true)
            if line.count >= console.columns { line = String(line.prefix(console.columns - 1)) }
            console.write("\r" + line + "\u{1B}[K")
        } else {
            console.write(statusLine(at: now, bar: false) + "\n")
        }
    }

    private func rate(_ seconds: Double) -> String {
        let steps = Double(done - startStep)
        guard seconds > 0, steps > 0 else { return "-- it/s" }
        let perSecond = steps / seconds
        return perSecond >= 1 ? String(format: "%.1f it/s", perSecond) : String(format: "%.2f s/it", 1 / perSecond)
    }

    private func lossTexts() -> [String] {
        losses.map { "\($0.name) \(Self.format($0.value))" }
    }

    private static func format(_ value: Float) -> String { String(format: "%.4g", Double(value)) }

    private static func bar(_ fraction: Double, width: Int = 20) -> String {
        let filled = Int((fraction.isFinite ? max(0, min(1, fraction)) : 0) * Double(width))
        return "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled) + "]"
    }

    /// An exponential moving average (β = 0.9) with Adam-style bias correction, so the first
    /// steps show their true values rather than values pulled towards zero.
    private struct RunningMean {
        let name: String
        var average: Double = 0
        var weight: Double = 0

        mutating func add(_ x: Float) {
            average = 0.9 * average + 0.1 * Double(x)
            weight = 0.9 * weight + 0.1
        }

        var value: Float { weight > 0 ? Float(average / weight) : .nan }
    }
}
