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

        @Test("a forEach inside a chunk runs its chunks on that thread, each once", .timeLimit(.minutes(1)))
        func nestedForEach() {
            let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: 8 * 9)
            hits.initialize(repeating: 0)
            defer { hits.deallocate() }
            withThreadCount(2) {
                Parallel.forEach(8) { outer in
                    Parallel.forEach(9) { inner in hits[outer * 9 + inner] += 1 }
                }
            }
            #expect(hits.allSatisfy { $0 == 1 })
        }

        @Test("forEach called from several threads at once runs every chunk of each call once", .timeLimit(.minutes(1)))
        func concurrentCallers() {
            let callers = 4, chunks = 200, rounds = 50
            nonisolated(unsafe) let hits = UnsafeMutableBufferPointer<Int32>.allocate(capacity: callers * chunks)
            hits.initialize(repeating: 0)
            defer { hits.deallocate() }
            let group = DispatchGroup()
            for caller in 0..<callers {
                group.enter()
                let thread = Thread {
                    withThreadCount(2) {
                        for _ in 0..<rounds {
                            Parallel.forEach(chunks) { hits[caller * chunks + $0] += 1 }
                        }
                    }
                    group.leave()
                }
                thread.start()
            }
            group.wait()
            #expect(hits.allSatisfy { $0 == Int32(rounds) })
        }

        @Test("with two threads, a pool job's chunks are shared with a helper thread, awake or woken",
              .timeLimit(.minutes(1)), arguments: [false, true])
        func helperTakesPart(afterSleeping: Bool) {
            let caller = pthread_self()
            nonisolated(unsafe) var helped = false
            // The helper may be asleep, or the pool busy with another test: try for a few seconds.
            let deadline = Date().addingTimeInterval(5)
            withThreadCount(2) {
                while !helped && Date() < deadline {
                    // Longer than the helpers spin: each job must wake one.
                    if afterSleeping { usleep(5_000) }
                    Parallel.forEach(2) { chunk in
                        if pthread_equal(pthread_self(), caller) == 0 { helped = true }
                        var x: Float = 1
                        for i in 0..<20_000 { x = x * 0.999 + Float(i & 3) }
                        blackHole(x)
                    }
                }
            }
            #expect(helped || ProcessInfo.processInfo.activeProcessorCount == 1)
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

@inline(never)
private func blackHole(_ x: Float) { _ = x }
