import Dispatch
import Foundation

/// Turns Ctrl-C (SIGINT) and `kill` (SIGTERM) into a polite request that a training loop sees at its
/// next step boundary, so it can save a checkpoint before it stops.
///
/// While a loop is listening, the first signal sets a flag and prints a note; a second one ends
/// the program at once, in case a step takes too long. Outside training loops, signals keep their
/// usual meaning.
public final class Interruption: @unchecked Sendable {
    /// The instance that catches the process's signals (signals are process-wide).
    public static let shared = Interruption(catchingSignals: true)

    private let catchesSignals: Bool
    private let lock = NSLock()
    private var requested: Int32?
    private var listeners = 0
    private var previousHandlers: [(Int32, (@convention(c) (Int32) -> Void)?)] = []

    /// An interruption flag; only `shared` catches real signals, other instances (for tests) are
    /// set with `request(_:)`.
    public init(catchingSignals: Bool = false) { catchesSignals = catchingSignals }

    /// The signal received since listening began, if any (SIGINT = 2, SIGTERM = 15).
    public var received: Int32? {
        lock.lock(); defer { lock.unlock() }
        if let requested { return requested }
        let caught = catchesSignals ? SignalFlag.pending.pointee : 0
        return caught == 0 ? nil : caught
    }

    /// Records `signal` as if it had arrived: for tests, and for code that wants a loop to stop.
    public func request(_ signal: Int32 = SIGINT) {
        lock.lock(); defer { lock.unlock() }
        if requested == nil { requested = signal }
    }

    /// Runs `body` with SIGINT and SIGTERM caught and turned into `received`.
    public func listening<T>(_ body: () throws -> T) rethrows -> T {
        start()
        defer { stop() }
        return try body()
    }

    /// Clears a received signal (tests, or a program that goes on after an interrupted loop).
    public func reset() {
        lock.lock(); defer { lock.unlock() }
        requested = nil
        if catchesSignals { SignalFlag.pending.pointee = 0 }
    }

    private func start() {
        lock.lock(); defer { lock.unlock() }
        listeners += 1
        guard listeners == 1, catchesSignals else { return }
        SignalFlag.pending.pointee = 0
        SignalFlag.prepare()  // built here, before any signal can need them
        previousHandlers = [SIGINT, SIGTERM].map { ($0, signal($0, handleStopSignal)) }
    }

    private func stop() {
        lock.lock(); defer { lock.unlock() }
        listeners -= 1
        guard listeners == 0, catchesSignals else { return }
        for (signo, handler) in previousHandlers { signal(signo, handler) }
        previousHandlers = []
    }
}

/// State the signal handler may touch: only plain memory allocated beforehand, since a handler
/// can interrupt anything (no locks, no allocation, no Swift runtime calls).
private enum SignalFlag {
    /// The first signal received while listening, 0 for none.
    static let pending: UnsafeMutablePointer<Int32> = {
        let flag = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        flag.initialize(to: 0)
        return flag
    }()

    /// The notes the handler writes, as C strings made before listening starts.
    static let interruptNote = note("warning: interrupted: stopping after this step and saving a checkpoint "
        + "(press Ctrl-C again to quit at once)\n")
    static let terminateNote = note("warning: terminated: stopping after this step and saving a checkpoint\n")
    static let quitNote = note("error: stopped at once: the checkpoint may be a few steps behind\n")

    static func prepare() { _ = (pending, interruptNote, terminateNote, quitNote) }

    private static func note(_ text: String) -> (bytes: UnsafeMutablePointer<CChar>, count: Int) {
        (strdup(text)!, text.utf8.count)  // invariant: strdup fails only when out of memory
    }
}

/// The handler itself: async-signal-safe (a store, `write`, `_exit`).
private func handleStopSignal(_ signo: Int32) {
    if SignalFlag.pending.pointee == 0 {
        SignalFlag.pending.pointee = signo
        let note = signo == SIGINT ? SignalFlag.interruptNote : SignalFlag.terminateNote
        _ = write(STDERR_FILENO, note.bytes, note.count)
    } else {
        _ = write(STDERR_FILENO, SignalFlag.quitNote.bytes, SignalFlag.quitNote.count)
        _exit(128 + signo)
    }
}

/// A training loop stopped because the user interrupted it; its checkpoint (if any) is saved.
public struct TrainingInterrupted: Error, CustomStringConvertible {
    public var signal: Int32
    /// Steps done when it stopped.
    public var step: Int
    /// Where the checkpoint was saved, if the loop had one.
    public var checkpoint: URL?

    public var description: String {
        let what = signal == SIGTERM ? "terminated" : "interrupted"
        if let checkpoint {
            return "\(what) after step \(step); checkpoint saved to \(checkpoint.relativePath): run again to resume"
        }
        return "\(what) after step \(step)"
    }

    /// The conventional exit status of a program stopped by `signal`.
    public var exitCode: Int32 { 128 + signal }
}
