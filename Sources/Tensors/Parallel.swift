import Dispatch
#if canImport(CBLAS)
import CBLAS
#endif

/// How many cores the kernels may use, and the one place work is split across them.
///
/// BLAS has its own thread pool. We never call BLAS from inside our own parallel loops, so the two
/// take turns on the cores instead of oversubscribing them; `setThreadCount` sets both.
public enum Parallel {
    /// Worker threads for our kernels and for BLAS (default: every active core).
    public private(set) static var threadCount: Int = {
        let n = ProcessInfo.processInfo.activeProcessorCount
        setBLASThreads(n)
        return n
    }()

    /// Caps our kernels and BLAS at `n` threads (the chapters' `--threads`).
    public static func setThreadCount(_ n: Int) {
        threadCount = max(1, n)
        setBLASThreads(threadCount)
    }

    private static func setBLASThreads(_ n: Int) {
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(n))
        #endif
    }

    /// Runs `body(chunk)` for `chunk` in `0..<chunks`, spread over the worker threads.
    /// Chunks must write disjoint memory; results must not depend on which thread runs a chunk.
    @inline(__always)
    public static func forEach(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || threadCount == 1 {
            for i in 0..<chunks { body(i) }
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks, execute: body)
        }
    }

    /// Runs `body(i)` for `i` in `0..<count` in parallel, each calling BLAS single-threaded: for
    /// many small matrix products (attention heads), where BLAS's own threads would only add overhead.
    public static func forEachWithSerialBLAS(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || threadCount == 1 { for i in 0..<count { body(i) }; return }
        setBLASThreads(1)
        defer { setBLASThreads(threadCount) }
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

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
