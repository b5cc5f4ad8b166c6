/// Command-line options of `bench`, parsed by hand (the target needs no argument-parser dependency).
struct Options {
    /// Run only benchmarks whose name or shape contains this (case-insensitive).
    var filter: String? = nil
    /// Worker threads for our kernels and for the reference sgemm (default: every core).
    var threads: Int? = nil
    /// JSON lines instead of a table.
    var json = false
    /// Timed runs per benchmark (after warm-up); default: as many as fit in `minSeconds`, 5…50.
    var runs: Int? = nil
    /// List the benchmarks and exit.
    var list = false
    var help = false

    static let usage = """
        usage: swift run -c release bench [--filter SUBSTRING] [--threads N] [--json] [--runs N] [--list]

          --filter SUBSTRING  run only benchmarks whose name or shape contains SUBSTRING
                              (the sgemm baseline always runs: every ratio is relative to it)
          --threads N         worker threads for the kernels and for the baseline sgemm
          --json              one JSON object per line: name, shape, ms, gflops, ratio_to_sgemm
                              (and gbps for memory-bound kernels)
          --runs N            timed runs per benchmark after warm-up (default: adaptive, 5 to 50)
          --list              print the benchmark names and exit
        """

    /// Parses `arguments` (without the program name); throws `BenchError.usage` on bad input.
    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var rest = arguments[...]
        func value(for flag: String) throws -> String {
            guard let v = rest.popFirst(), !v.hasPrefix("--") else {
                throw BenchError.usage("\(flag) needs a value")
            }
            return v
        }
        func positiveInt(for flag: String) throws -> Int {
            let text = try value(for: flag)
            guard let n = Int(text), n > 0 else {
                throw BenchError.usage("\(flag) needs a positive integer, got '\(text)'")
            }
            return n
        }
        while let arg = rest.popFirst() {
            switch arg {
            case "--filter": options.filter = try value(for: arg)
            case "--threads": options.threads = try positiveInt(for: arg)
            case "--runs": options.runs = try positiveInt(for: arg)
            case "--json": options.json = true
            case "--list": options.list = true
            case "--help", "-h": options.help = true
            default: throw BenchError.usage("unknown argument '\(arg)'")
            }
        }
        return options
    }
}

/// Errors that end the program with a message and a non-zero exit code.
enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    case noMatch(String, available: [String])

    var description: String {
        switch self {
        case .usage(let message): return "\(message)\n\(Options.usage)"
        case .noMatch(let filter, let names):
            return "no benchmark matches --filter '\(filter)'; available: \(names.joined(separator: ", "))"
        }
    }
}
