import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The threads that `Parallel` spreads chunks of work over: the calling thread plus helpers that,
/// after a job, spin for a moment waiting for the next one before they go to sleep.
///
/// A training step is a chain of kernels, many of which take a fraction of a millisecond. Under
/// GCD's `concurrentPerform`, a helper that went idle between two kernels must be woken, and on
/// a virtual machine waking an idle vCPU can take longer than such a kernel: the caller then does
/// all the chunks itself and two threads run no faster than one (measured: a 1×1 convolution's
/// backward pass took 1.03 ms on two threads and 1.00 ms on one). Helpers that spin are already
/// running when the next kernel starts. This is what OpenMP runtimes do (OMP_WAIT_POLICY) and
/// why OpenBLAS's threads spin.
///
/// One job runs at a time. A call made while a job is running — a nested call from inside a chunk,
/// or a call from another thread — runs its chunks in order on its own thread; since chunks write
/// disjoint memory and never depend on which thread runs them, the results are the same bits.
final class WorkerPool: @unchecked Sendable {
    /// How long a helper spins after its last chunk before it sleeps.
    static let spinNanoseconds: UInt64 = 2_000_000
    /// Spins (some tens of microseconds) after which a waiting thread yields its core on each
    /// turn, so that when more threads want the cores than there are (tests run in parallel,
    /// another process) the one it waits for, or any other, can run.
    static let spinsBeforeYielding = 20_000

    /// One per process, with one helper per core beyond the caller's.
    static let shared = WorkerPool(helpers: max(0, ProcessInfo.processInfo.activeProcessorCount - 1))

    let helperCount: Int

    /// Bumped once per job; helpers watch it.
    private let generation = Atomic<Int>(0)
    /// True while a caller owns the pool.
    private let busy = Atomic<Bool>(false)
    /// Helpers holding a reference to the current job.
    private let attached = Atomic<Int>(0)
    /// Helpers asleep on `wake`.
    private let sleepers = Atomic<Int>(0)

    /// Guards `current` and the sleep/wake handshake.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var current: Job?

    /// A job's chunks and who has claimed or finished them.
    private final class Job {
        let body: (Int) -> Void
        let count: Int
        let helpersAllowed: Int
        var helpersJoined = 0                 // under the pool's mutex
        let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)

        init(body: @escaping (Int) -> Void, count: Int, helpersAllowed: Int) {
            self.body = body; self.count = count; self.helpersAllowed = helpersAllowed
        }

        /// Claims and runs chunks until none is left.
        @inline(__always)
        func work() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body(i)
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }
    }

    init(helpers: Int) {
        helperCount = helpers
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        for index in 0..<helpers {
            let thread = Thread { [unowned self] in self.helperLoop(index: index) }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body(i)` for `i` in `0..<count` on the caller and up to `threads − 1` helpers, and
    /// returns when every chunk has finished. Runs in order on the caller when the pool is busy.
    func run(_ count: Int, threads: Int, _ body: (Int) -> Void) {
        let helpers = min(helperCount, threads - 1, count - 1)
        guard helpers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let job = Job(body: body, count: count, helpersAllowed: helpers)
            pthread_mutex_lock(mutex)
            current = job
            pthread_mutex_unlock(mutex)
            generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(wake)
                pthread_mutex_unlock(mutex)
            }
            job.work()
            spinWait { job.finished.load(ordering: .acquiring) == count }
            pthread_mutex_lock(mutex)
            current = nil
            pthread_mutex_unlock(mutex)
            // No helper may still hold the job (and so `body`) when this scope ends.
            spinWait { attached.load(ordering: .acquiring) == 0 }
        }
        busy.store(false, ordering: .releasing)
    }

    /// Helper `index` serves the jobs that allow more than `index` helpers. Its spin budget runs
    /// from the last job meant for it, so a helper that jobs do not need (more cores than a job's
    /// threads) goes to sleep rather than spin on.
    private func helperLoop(index: Int) {
        var seen = generation.load(ordering: .acquiring)
        var lastJob = monotonicNanoseconds()
        while true {
            seen = waitForJob(after: seen, spinUntil: lastJob + WorkerPool.spinNanoseconds)
            if joinCurrentJob(index: index) { lastJob = monotonicNanoseconds() }
            attached.wrappingSubtract(1, ordering: .releasing)
        }
    }

    /// Spins until the generation moves past `seen` or the clock passes `deadline`, then sleeps
    /// until the generation moves; returns the new one.
    private func waitForJob(after seen: Int, spinUntil deadline: UInt64) -> Int {
        if spinWait(until: deadline, { generation.load(ordering: .acquiring) != seen }) {
            return generation.load(ordering: .acquiring)
        }
        pthread_mutex_lock(mutex)
        sleepers.wrappingAdd(1, ordering: .sequentiallyConsistent)
        while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, mutex) }
        sleepers.wrappingSubtract(1, ordering: .sequentiallyConsistent)
        pthread_mutex_unlock(mutex)
        return generation.load(ordering: .acquiring)
    }

    /// Takes part in the current job if it is meant for helper `index` and has room. Returns
    /// false when the job did not want this helper; true when it did, or when it had already
    /// ended (work is flowing: keep spinning). The job reference ends with this function,
    /// before `helperLoop` reports it detached. Always counts as attached (`helperLoop`
    /// subtracts one).
    @inline(never)
    private func joinCurrentJob(index: Int) -> Bool {
        pthread_mutex_lock(mutex)
        attached.wrappingAdd(1, ordering: .relaxed)
        var job: Job? = nil
        var wanted = true
        if let candidate = current {
            if index >= candidate.helpersAllowed {
                wanted = false
            } else if candidate.helpersJoined < candidate.helpersAllowed {
                candidate.helpersJoined += 1
                job = candidate
            }
        }
        pthread_mutex_unlock(mutex)
        job?.work()
        return wanted
    }
}

/// Spins until `done()` and returns true, or returns false once the clock passes `deadline`.
/// After `spinsBeforeYielding` turns it yields the core on each turn, and then reads the clock on
/// every turn, since a yield can give away a whole time slice; before that, every 256 turns.
@inline(__always) @discardableResult
private func spinWait(until deadline: UInt64 = .max, _ done: () -> Bool) -> Bool {
    var spins = 0
    while !done() {
        spins += 1
        let yielding = spins > WorkerPool.spinsBeforeYielding
        if deadline != .max && (yielding || spins & 255 == 0) && monotonicNanoseconds() > deadline { return false }
        if yielding { sched_yield() }
    }
    return true
}

@inline(__always)
private func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
}
