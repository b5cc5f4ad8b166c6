import Dispatch

/// Wall-clock timing: warm-up runs, then the median of several timed runs (the median ignores the
/// occasional run disturbed by another process on a shared machine).
enum Timing {
    /// Timed runs continue until at least this much time has been spent (within 5…50 runs).
    static let minSeconds = 1.0

    /// Milliseconds of the median run of `body`, after `warmup` untimed runs.
    static func medianMilliseconds(runs fixedRuns: Int?, warmup: Int = 2, _ body: () -> Void) -> Double {
        for _ in 0..<warmup { body() }
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
            } else if samples.count >= 50 || (samples.count >= 5 && spent >= minSeconds) {
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
