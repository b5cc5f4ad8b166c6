import Foundation
import Testing
import Tensors
import TestSupport

/// The work splitter and the per-thread thread-count override.
extension TensorsSuite {
    @Suite("Parallel")
    struct ParallelTests {
        @Test("forRanges covers 0..<count exactly once, in contiguous ranges",
              arguments: [(0, 1), (1, 1), (7, 1), (100, 3), (65_537, 32_768), (10_000, 100_000)])
        func forRangesCovers(count: Int, grain: Int) {
            for threads in [1, 2, 3] {
                let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: max(count, 1))
                hits.initialize(repeating: 0)
                defer { hits.deallocate() }
                withThreadCount(threads) {
                    Parallel.forRanges(count, grain: grain) { r in for i in r { hits[i] += 1 } }
                }
                #expect((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count), grain \(grain), \(threads) threads")
            }
        }

        @Test("forEach and forEachWithSerialBLAS run every chunk once")
        func forEachRunsAll() {
            let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 37)
            defer { hits.deallocate() }
            for threads in [1, 2] {
                hits.initialize(repeating: 0)
                withThreadCount(threads) { Parallel.forEach(37) { hits[$0] += 1 } }
                #expect(hits.allSatisfy { $0 == 1 })
                hits.initialize(repeating: 0)
                withThreadCount(threads) { Parallel.forEachWithSerialBLAS(37) { hits[$0] += 1 } }
                #expect(hits.allSatisfy { $0 == 1 })
            }
        }

        @Test("withThreadCount applies to this thread only, nests, and restores")
        func overrideIsPerThread() {
            let processCount = Parallel.threadCount
            withThreadCount(1) {
                #expect(Parallel.threadCount == 1)
                withThreadCount(3) { #expect(Parallel.threadCount == 3) }
                #expect(Parallel.threadCount == 1)
                let done = DispatchSemaphore(value: 0)
                nonisolated(unsafe) var seen = 0
                let other = Thread { seen = Parallel.threadCount; done.signal() }
                other.start()
                done.wait()
                #expect(seen == processCount, "another thread saw this thread's override")
            }
            #expect(Parallel.threadCount == processCount)
        }
    }
}
