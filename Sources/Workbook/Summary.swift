import Foundation

/// What a chapter run leaves in `<out>/summary.json`: its key metrics and timings, machine-readable.
///
/// Timings live here and on the console only, never in figures, so figures stay byte-identical
/// between runs with the same seed and thread count.
public struct Summary: Equatable {
    public var chapter: Int
    public var title: String
    public var seed: UInt64
    public var threads: Int
    /// The command-line options as given.
    public var options: JSONValue = .object([:])
    /// The chapter's numbers: losses, PSNR, codebook usage…
    public var metrics: [String: JSONValue] = [:]
    /// Each cell's title and how long it took, in order.
    public var cells: [(title: String, seconds: Double)] = []
    /// Each training loop's report, by label.
    public var training: [String: TrainingReport] = [:]
    /// Figures written, relative to the output folder, sorted.
    public var figures: [String] = []
    public var totalSeconds: Double = 0

    public init(chapter: Int, title: String, seed: UInt64, threads: Int) {
        self.chapter = chapter
        self.title = title
        self.seed = seed
        self.threads = threads
    }

    public var json: JSONValue {
        .object([
            "chapter": .int(chapter), "title": .string(title),
            "seed": seed.json, "threads": .int(threads),
            "options": options, "metrics": .object(metrics),
            "steps": .object(training.mapValues { .int($0.steps) }),
            "training": .object(training.mapValues(\.json)),
            "figures": .array(figures.sorted().map { .string($0) }),
            "timings": .object([
                "total_seconds": .number(totalSeconds, decimals: 3),
                "cells": .array(cells.enumerated().map { index, cell in
                    .object(["cell": .int(index + 1), "title": .string(cell.title),
                             "seconds": .number(cell.seconds, decimals: 3)])
                }),
            ]),
        ])
    }

    /// Writes the summary to `url` atomically (sorted keys, stable number formatting).
    public func write(to url: URL) throws {
        try AtomicFile.write(Data(json.rendered().utf8), to: url)
    }

    public static func == (a: Summary, b: Summary) -> Bool { a.json == b.json }
}
