import Dispatch

/// Wall-clock timing: warm-up runs, then the median of several timed runs (the median ignores the
/// occasional run disturbed by another process on a shared machine).
enum Timing {
    /// Timed runs continue until at least this much time has been spent (within 5…1000 runs).
    static let minSeconds = 1.0
    /// Warm-up runs continue until at least this much time has been spent: long enough for the
    /// baseline's OpenBLAS threads, which spin for a while after a product, to go to sleep
    /// rather than compete with the first kernel's workers.
    static let warmupSeconds = 0.3

    /// Milliseconds of the median run of `body`, after at least `warmup` untimed runs.
    static func medianMilliseconds(runs fixedRuns: Int?, warmup: Int = 2, _ body: () -> Void) -> Double {
        let warmupStart = DispatchTime.now().uptimeNanoseconds
        var warmed = 0
        while warmed < warmup || Double(DispatchTime.now().uptimeNanoseconds - warmupStart) / 1e9 < warmupSeconds {
            body()
            warmed += 1
        }
        var samples: [Double] = []
        var spent = 0.0
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
            samples.append(ms)
            spent += ms / 1000
            if let fixedRuns {
                if samples.count >= fixedRuns { break }
            } else if samples.count >= 1000 || (samples.count >= 5 && spent >= minSeconds) {
                break
            }
        }
        return median(samples)
    }

    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
