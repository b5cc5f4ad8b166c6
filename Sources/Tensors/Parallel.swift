#if canImport(CBLAS)
import CBLAS
#endif

/// How many cores the kernels may use, and the one place work is split across them.
///
/// OpenBLAS runs single-threaded: its own worker threads spin for a long while after each call,
/// which steals the cores from the element-wise kernels that run between GEMMs. Instead `sgemm`
/// splits large products into column or row blocks and runs them on our workers, so one pool of
/// `threadCount` threads (`WorkerPool`) does all the work.
public enum Parallel {
    /// Worker threads for the kernels called from this thread (default: every active core).
    public static var threadCount: Int {
        let local = threadOverride.value
        return local > 0 ? local : processThreadCount
    }

    private static var processThreadCount: Int = {
        _ = blasSingleThreaded
        return ProcessInfo.processInfo.activeProcessorCount
    }()

    /// Sets BLAS to one thread, once, before the first product: every GEMM touches it, since a
    /// product can run (in a test, under `withThreadCount`) before anything reads `threadCount`,
    /// and BLAS's own threads would then split it, and round it, their own way.
    static let blasSingleThreaded: Bool = {
        setBLASThreads(1)
        return true
    }()

    /// Kernels called from the current thread inside `withThreadCount` use this many workers.
    private static let threadOverride = ThreadLocalInt(initial: 0)

    /// Caps the kernels at `n` threads for the whole process (the chapters' `--threads`).
    public static func setThreadCount(_ n: Int) {
        setBLASThreads(1)
        processThreadCount = max(1, n)
    }

    /// Runs `body` with kernels called from this thread using `n` workers; other threads keep
    /// theirs. Tests use it to compare thread counts side by side.
    public static func withThreadCount<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
        let saved = threadOverride.value
        threadOverride.value = max(1, n)
        defer { threadOverride.value = saved }
        return try body()
    }

    private static func setBLASThreads(_ n: Int) {
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(n))
        #endif
    }

    /// Runs `body(chunk)` for `chunk` in `0..<chunks`, spread over the worker threads.
    /// Chunks must write disjoint memory; results must not depend on which thread runs a chunk.
    /// Chunks run on threads that do not see this thread's settings (`withThreadCount`,
    /// `withNoGrad`), so they work on buffers and never build autodiff graphs.
    @inline(__always)
    public static func forEach(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || threadCount == 1 {
            for i in 0..<chunks { body(i) }
        } else {
            WorkerPool.shared.run(chunks, threads: threadCount, body)
        }
    }

    /// Runs `body(i)` for `i` in `0..<count` in parallel, where each `body` may call `sgemm`:
    /// the products run whole on their worker rather than splitting again.
    public static func forEachWithSerialBLAS(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threadCount == 1 { for i in 0..<count { body(i) }; return }
        forEach(count) { i in
            let saved = insideWorker.value
            insideWorker.value = 1
            body(i)
            insideWorker.value = saved
        }
    }

    /// 1 on a worker thread running a chunk of `forEachWithSerialBLAS`.
    static let insideWorker = ThreadLocalInt(initial: 0)

    /// Splits `0..<count` into contiguous ranges of at least `grain` elements, one or more per
    /// thread, and runs `body` on each range. Element-wise kernels use this.
    @inline(__always)
    public static func forRanges(_ count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let pieces = min(threadCount, max(1, count / max(grain, 1)))
        if pieces <= 1 { body(0..<count); return }
        let size = (count + pieces - 1) / pieces
        forEach(pieces) { p in
            let lo = p * size, hi = min(count, lo + size)
            if lo < hi { body(lo..<hi) }
        }
    }
}

import Foundation
