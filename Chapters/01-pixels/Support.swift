import Foundation
import Tensors
import Workbook

#if os(Linux)
/// glibc's malloc_trim(3), which Swift's Glibc module does not export: returns free heap pages to
/// the system.
@_silgen_name("malloc_trim") private func mallocTrim(_ pad: Int) -> Int32
#endif

// Plumbing for chapter 01 that the book need not show: measuring the memory a piece of work
// needs, fitting power laws, and keeping the training curve beside the cached model.

/// The wall-clock time and the memory a piece of work needed.
struct Cost {
    var seconds: Double
    /// Growth of the resident set during the work, at its peak, in bytes; nil where the system
    /// offers no way to measure it.
    var peakBytes: Int?
}

/// Peak memory by the kernel's own accounting: on Linux, writing 5 to /proc/self/clear_refs
/// resets the process's high-water mark of resident memory (VmHWM) to the current resident size;
/// after the work, VmHWM minus the resident size before it is the most memory the work held at
/// once. Freed heap pages are handed back to the system first (malloc_trim), so that memory freed
/// by earlier work and still held by the allocator cannot hide new allocations.
enum PeakMemory {
    /// Whether this system lets the high-water mark be reset.
    static let isAvailable: Bool = {
        #if os(Linux)
        return FileManager.default.isWritableFile(atPath: "/proc/self/clear_refs") && status("VmHWM") != nil
        #else
        return false
        #endif
    }()

    /// Runs `body` and returns how long it took and how much memory it needed.
    static func measure(_ body: () -> Void) -> Cost {
        guard isAvailable else {
            let start = now()
            body()
            return Cost(seconds: now() - start, peakBytes: nil)
        }
        #if os(Linux)
        _ = mallocTrim(0)
        #endif
        let before = status("VmRSS") ?? 0
        resetHighWaterMark()
        let start = now()
        body()
        let seconds = now() - start
        let peak = status("VmHWM") ?? before
        return Cost(seconds: seconds, peakBytes: max(0, peak - before))
    }

    private static func resetHighWaterMark() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        handle.write(Data("5".utf8))
        try? handle.close()
    }

    /// A field of /proc/self/status in bytes ("VmRSS", "VmHWM"), or nil.
    private static func status(_ field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            let digits = line.dropFirst(field.count + 1).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }

    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}

/// y ≈ a·x^k, fitted by least squares on log y against log x.
struct PowerLaw {
    var coefficient: Double
    var exponent: Double

    init(coefficient: Double, exponent: Double) {
        self.coefficient = coefficient
        self.exponent = exponent
    }

    /// The fit through points with positive coordinates (at least two).
    init?(_ points: [(x: Double, y: Double)]) {
        let logs = points.filter { $0.x > 0 && $0.y > 0 }.map { (log($0.x), log($0.y)) }
        guard logs.count >= 2 else { return nil }
        let n = Double(logs.count)
        let mx = logs.map(\.0).reduce(0, +) / n, my = logs.map(\.1).reduce(0, +) / n
        let sxx = logs.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
        guard sxx > 0 else { return nil }
        let sxy = logs.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +)
        exponent = sxy / sxx
        coefficient = exp(my - exponent * mx)
    }

    func callAsFunction(_ x: Double) -> Double { coefficient * pow(x, exponent) }

    /// The x at which the law reaches y; nil when the law does not grow (a fit to noisy timings
    /// of tiny sizes, as in `--quick` runs, can be flat or falling) or the x is out of any range.
    func solve(for y: Double) -> Double? {
        guard exponent > 0 else { return nil }
        let x = pow(y / coefficient, 1 / exponent)
        return x.isFinite && x < 1e15 ? x : nil
    }
}

/// The time of sampling T tokens by recomputing the whole prefix at every step, as the reference
/// does: step t runs a forward pass over t positions costing a′·t + b′·t², so the whole picture
/// costs about a·T² + b·T³. The two coefficients are fitted to the measured sizes (least squares
/// on relative errors, both kept ≥ 0); with one measurement only the T² term is kept, so the
/// prediction is a lower bound.
struct ReferenceSamplingCost {
    var a: Double, b: Double

    /// The fit to the rows that have a measured reference time, or nil if none has.
    init?(_ rows: [CostRow]) {
        let points = rows.compactMap { r in r.referenceSampleSeconds.map { (Double(r.tokens), $0) } }
        guard let first = points.first else { return nil }
        a = first.1 / (first.0 * first.0); b = 0
        guard points.count >= 2 else { return }
        // Normal equations of Σ ((a·T² + b·T³)/y − 1)².
        var s11 = 0.0, s12 = 0.0, s22 = 0.0, r1 = 0.0, r2 = 0.0
        for (t, y) in points {
            let u = t * t / y, v = t * t * t / y
            s11 += u * u; s12 += u * v; s22 += v * v; r1 += u; r2 += v
        }
        let det = s11 * s22 - s12 * s12
        guard det > 0 else { return }
        let fa = (r1 * s22 - r2 * s12) / det, fb = (s11 * r2 - s12 * r1) / det
        if fa >= 0 && fb >= 0 { a = fa; b = fb } else if fb > 0 {
            a = 0; b = r2 / s22
        } else {
            a = r1 / s11; b = 0
        }
    }

    func predict(_ tokens: Int) -> Double {
        let t = Double(tokens)
        return a * t * t + b * t * t * t
    }

    /// The sequence length whose picture takes `seconds` (by bisection on the increasing cost).
    func tokens(taking seconds: Double) -> Double {
        var low = 1.0, high = 1e9
        for _ in 0..<200 {
            let mid = (low * high).squareRoot()
            if predict(Int(mid)) < seconds { low = mid } else { high = mid }
        }
        return low
    }
}

/// The training curve, kept beside the cached model so that a run that loads the model can still
/// draw it: bits per pixel on training batches (every step) and on held-out pictures (now and then).
struct TrainingHistory: Codable {
    var trainSteps: [Int] = []
    var trainBitsPerPixel: [Double] = []
    var validationSteps: [Int] = []
    var validationBitsPerPixel: [Double] = []

    static func load(from url: URL) -> TrainingHistory? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(TrainingHistory.self, from: data)
    }

    /// Writes atomically (a temporary file, then a rename), creating the folder.
    func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                    withIntermediateDirectories: true)
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw WorkbookError("cannot write the training curve to \(url.relativePath): \(error.localizedDescription)")
        }
    }

    /// Drops everything recorded from `step` on (a resumed run records those steps again).
    mutating func truncate(at step: Int) {
        let keep = trainSteps.firstIndex { $0 >= step } ?? trainSteps.count
        trainSteps.removeSubrange(keep...); trainBitsPerPixel.removeSubrange(keep...)
        let keepValidation = validationSteps.firstIndex { $0 >= step } ?? validationSteps.count
        validationSteps.removeSubrange(keepValidation...); validationBitsPerPixel.removeSubrange(keepValidation...)
    }
}

/// Bytes as people read them: 512 kB, 3.4 MB, 1.2 GB.
func formatBytes(_ bytes: Double) -> String {
    if bytes < 1e6 { return String(format: "%.0f kB", bytes / 1e3) }
    if bytes < 1e9 { return String(format: "%.1f MB", bytes / 1e6) }
    if bytes < 1e12 { return String(format: "%.1f GB", bytes / 1e9) }
    return String(format: "%.1f TB", bytes / 1e12)
}

/// Seconds as people read them: 12 ms, 3.4 s, 5.2 min, 3.1 h, 4.0 days, 2.3 years.
func formatSeconds(_ s: Double) -> String {
    if s < 1 { return String(format: "%.0f ms", s * 1e3) }
    if s < 120 { return String(format: "%.1f s", s) }
    if s < 7200 { return String(format: "%.1f min", s / 60) }
    if s < 3 * 86400 { return String(format: "%.1f h", s / 3600) }
    if s < 2 * 365 * 86400 { return String(format: "%.0f days", s / 86400) }
    return String(format: "%.0f years", s / (365 * 86400))
}
