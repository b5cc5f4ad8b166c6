import Foundation
import Tensors

// bench: kernel speeds of the Tensors library, one line per kernel, relative to cblas_sgemm.
//
//     swift run -c release bench [--filter SUBSTRING] [--threads N] [--json] [--runs N] [--list]
//
// The first line is the yardstick, cblas_sgemm at n = 1024 with the same thread count; each other
// line gives the median milliseconds over several runs after warm-up, the GFLOP/s from the nominal
// flop count in Benchmarks.swift, and the ratio of that to the yardstick's GFLOP/s. The yardstick
// is measured once more at the end (sgemm.cblas.end) to show how steady the machine was.

func run() throws {
    let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    if options.help { print(Options.usage); return }
    let benchmarks = Benchmarks.all
    if options.list {
        for b in benchmarks { print("\(b.name)  \(b.shape)") }
        return
    }
    let selected = benchmarks.filter { b in
        guard let f = options.filter?.lowercased() else { return true }
        return b.name.lowercased().contains(f) || b.shape.lowercased().contains(f)
    }
    if let filter = options.filter, selected.isEmpty {
        var names: [String] = []
        for b in benchmarks where !names.contains(b.name) { names.append(b.name) }
        throw BenchError.noMatch(filter, available: names)
    }
    let threads = options.threads ?? Parallel.threadCount
    Parallel.setThreadCount(threads)
    #if DEBUG
    FileHandle.standardError.write("warning: a debug build; run with -c release for meaningful numbers\n".data(using: .utf8)!)
    #endif

    let sgemmMs = Baseline.measure(threads: threads, runs: options.runs)
    let sgemmGFLOPS = Baseline.flops / (sgemmMs * 1e-3) / 1e9
    let baseline = Measurement(name: "sgemm.cblas", shape: "\(Baseline.n)×\(Baseline.n)×\(Baseline.n)",
                               milliseconds: sgemmMs, flops: Baseline.flops, bytes: nil, sgemmGFLOPS: sgemmGFLOPS)
    if options.json {
        print(baseline.jsonLine)
    } else {
        print("threads: \(threads); ms = median after warm-up; GFLOP/s from nominal flop counts "
              + "(group norm: nominal, see GB/s); ×sgemm = GFLOP/s ÷ cblas_sgemm's")
        print(Measurement.tableHeader)
        print(baseline.tableRow)
    }
    fflush(stdout)
    for b in selected {
        let body = b.prepare()
        let ms = Timing.medianMilliseconds(runs: options.runs, body)
        let m = Measurement(name: b.name, shape: b.shape, milliseconds: ms, flops: b.flops, bytes: b.bytes,
                            items: b.items, sgemmGFLOPS: sgemmGFLOPS)
        print(options.json ? m.jsonLine : m.tableRow)
        fflush(stdout)
    }
    // The yardstick again: on a shared machine, a large change from the first line means the
    // ratios above were measured under changing load.
    if !selected.isEmpty {
        let endMs = Baseline.measure(threads: threads, runs: options.runs)
        let end = Measurement(name: "sgemm.cblas.end", shape: baseline.shape, milliseconds: endMs,
                              flops: Baseline.flops, bytes: nil, sgemmGFLOPS: sgemmGFLOPS)
        print(options.json ? end.jsonLine : end.tableRow)
    }
}

do {
    try run()
} catch {
    FileHandle.standardError.write("error: \(error)\n".data(using: .utf8)!)
    exit(1)
}
