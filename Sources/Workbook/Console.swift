import Foundation

/// Where a chapter's text goes: standard output and error, or a recorder in tests.
///
/// Everything the runtime prints passes through one `Console`, so tests can capture it and say
/// whether it is a terminal (progress bars redraw in place) or a log (plain lines).
public final class Console {
    /// The two streams a chapter writes to.
    public enum Stream: Sendable { case output, error }

    /// True when output goes to a terminal: progress bars redraw in place with `\r`.
    public let isTerminal: Bool
    /// Width of the terminal in columns (a fixed 100 for logs and tests).
    public let columns: Int
    private let sink: (Stream, String) -> Void

    /// A console that hands every piece of text to `sink`.
    public init(isTerminal: Bool, columns: Int = 100, sink: @escaping (Stream, String) -> Void) {
        self.isTerminal = isTerminal
        self.columns = columns
        self.sink = sink
    }

    /// The process's stdout and stderr, flushed after every write so CI logs stay current.
    ///
    /// Text goes through C stdio, the same buffer `print` uses, so chapter `print`s and runtime
    /// output stay in order.
    public static let standard: Console = {
        setvbuf(stdout, nil, _IOLBF, 0)  // line-buffered even when piped, like a terminal
        let terminal = isatty(STDOUT_FILENO) == 1
        return Console(isTerminal: terminal, columns: terminal ? terminalColumns() : 100) { stream, text in
            let file = stream == .output ? stdout : stderr
            fputs(text, file)
            fflush(file)
        }
    }()

    /// Writes `text` as it is (no newline added).
    public func write(_ text: String, to stream: Stream = .output) { sink(stream, text) }

    /// Writes one line to standard output.
    public func line(_ text: String = "") { sink(.output, text + "\n") }

    /// Writes one `error: …` line to standard error.
    public func error(_ message: String) { sink(.error, "error: \(message)\n") }

    /// Writes one `warning: …` line to standard error.
    public func warning(_ message: String) { sink(.error, "warning: \(message)\n") }

    private static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 20 else { return 100 }
        return Int(size.ws_col)
    }
}

/// A monotonic clock in seconds, injectable so tests can drive time by hand.
public struct Clock: Sendable {
    /// Seconds since an arbitrary fixed origin; never goes backwards.
    public let now: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double) { self.now = now }

    /// The system's monotonic clock.
    public static let system = Clock { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}

/// Durations for people: `0.42 s`, `12.3 s`, `3m07s`, `1h02m`.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "?" }
    let s = max(0, seconds)
    if s < 10 { return String(format: "%.2f s", s) }
    if s < 60 { return String(format: "%.1f s", s) }
    let whole = Int(s.rounded())
    if whole < 3600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
    return String(format: "%dh%02dm", whole / 3600, (whole % 3600) / 60)
}

/// A countdown or ETA in clock style: `0:42`, `12:05`, `1:02:03`.
func formatClock(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "--:--" }
    let whole = Int(max(0, seconds).rounded(.up))
    if whole < 3600 { return String(format: "%d:%02d", whole / 60, whole % 60) }
    return String(format: "%d:%02d:%02d", whole / 3600, (whole % 3600) / 60, whole % 60)
}
