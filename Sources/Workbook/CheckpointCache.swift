import Foundation
import NN
import Tensors

/// Trained models shared between chapters and runs, in the `--cache` folder.
///
/// `loadOrTrain` loads a finished model, resumes an interrupted one from its last checkpoint, or
/// trains it from scratch, and says which. The files are NN `Checkpoint`s (safetensors: the model
/// under `model.`, optimizers under `optim.<key>.`), so `Checkpoint.loadModel(from:into:)` reads
/// them too. A file's name holds everything that decides the weights besides the code: the name
/// the chapter gives, the training budget, and the cache's tags (`quick`, the seed, a hash of
/// `--data`), e.g. `02-vqvae-2000-steps-seed0.safetensors`.
///
/// A cache file that cannot be read or does not fit the model (the code changed since it was
/// written) is not an error: the cache is only a cache. It is renamed to `….invalid` with a
/// warning naming it, and the model is trained anew. (A checkpoint that cannot resume its
/// optimizer, by contrast, is an error: see `TrainingSession.include`.)
public final class CheckpointCache {
    public let folder: URL
    /// Extra parts of every file name, e.g. `["quick", "seed0"]`.
    public let tags: [String]
    public var console: Console
    public var clock: Clock = .system
    public var interruption: Interruption = .shared
    /// Seconds between periodic checkpoints while training.
    public var checkpointInterval: Double = 30
    /// Seconds between plain progress lines when output is not a terminal.
    public var logInterval: Double = 5
    /// Called with each finished training loop's report (the chapter records it in summary.json).
    public var onReport: ((TrainingReport) -> Void)?

    public init(folder: URL, tags: [String] = [], console: Console = .standard) {
        self.folder = folder
        self.tags = tags
        self.console = console
    }

    /// Where the cache keeps `name` (with the cache's tags appended).
    public func url(for name: String) -> URL {
        folder.appendingPathComponent(([name] + tags).joined(separator: "-") + ".safetensors")
    }

    /// Where the cache keeps `name` trained under `budget`.
    public func url(for name: String, budget: TrainingBudget) -> URL {
        url(for: "\(name)-\(budget.label)")
    }

    /// The finished model `name` with the most training steps, whatever its budget: how a later
    /// chapter picks up a model an earlier chapter left (files `<name>-<n>-steps-<tags>`, with
    /// this cache's tags). `make` builds an untrained model to restore into; unfinished files are
    /// skipped, and files that do not fit `make`'s architecture are skipped with a warning.
    /// Returns nil when no file qualifies.
    public func latestFinished<Model: Module>(_ name: String, make: () -> Model)
        -> (model: Model, url: URL, steps: Int)? {
        let prefix = name + "-", suffix = "-steps" + tags.map { "-" + $0 }.joined() + ".safetensors"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let candidates = files.compactMap { file -> (steps: Int, file: String)? in
            guard file.hasPrefix(prefix), file.hasSuffix(suffix), file.count > prefix.count + suffix.count,
                  let steps = Int(file.dropFirst(prefix.count).dropLast(suffix.count)) else { return nil }
            return (steps, file)
        }.sorted { $0.steps > $1.steps }
        for candidate in candidates {
            let url = folder.appendingPathComponent(candidate.file)
            guard let saved = try? SafeTensors.read(from: url),
                  (try? Self.state(from: saved.metadata))?.finished == true else { continue }
            let model = make()
            do {
                try Checkpoint.restore(saved.dictionary.filter { !$0.key.hasPrefix(Checkpoint.optimizerPrefix) },
                                       into: model, source: url.relativePath)
            } catch {
                console.warning("\(url.relativePath) does not fit \(name) (\(Chapter.message(for: error))); skipped")
                continue
            }
            return (model, url, candidate.steps)
        }
        return nil
    }

    /// Returns model `name` trained under `budget`: loaded from the cache if a finished checkpoint
    /// is there; otherwise made by `make` and trained by `train`, resuming from an interrupted
    /// checkpoint if there is one.
    ///
    /// `train` gets the model (already restored when resuming) and a `TrainingSession`. It
    /// registers its optimizers with `session.include(_:as:)` (which restores them when resuming)
    /// and runs its loop with `session.run { step in … }`.
    ///
    /// ```swift
    /// let model = try chapter.cache.loadOrTrain("02-vqvae", budget: budget, make: {
    ///     VQModel(config, rng: &rng)
    /// }) { model, session in
    ///     let optimizer = Adam(namedParameters: model.namedParameters(), lr: 2e-4)
    ///     try session.include(optimizer, as: "ae")
    ///     try session.run { step in
    ///         …
    ///         return ["rec": rec.item, "vq": vq.item]
    ///     }
    /// }
    /// ```
    public func loadOrTrain<Model: Module>(
        _ name: String, budget: TrainingBudget, estimatedSeconds: Double? = nil,
        make: () throws -> Model, train: (Model, TrainingSession) throws -> Void
    ) throws -> Model {
        let url = url(for: name, budget: budget)
        removeStaleTemporaries(of: url)
        let model = try make()
        var start = TrainingState()
        var saved: [String: Tensor] = [:]
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                (start, saved) = try read(url, into: model)
            } catch {
                setAside(url, because: (error as? SafeTensorsError)?.problem ?? Chapter.message(for: error))
            }
            if start.finished {
                console.line("loaded \(name) from cache (\(start.step) steps, \(url.relativePath))")
                onReport?(TrainingReport(label: name, budget: budget, steps: start.step, resumedFrom: start.step,
                                         seconds: 0, fromCache: true))
                return model
            }
        }
        if start.step > 0 {
            console.line("resuming \(name) from step \(start.step) (\(url.relativePath))")
        } else {
            saved = [:]
            var estimate = estimatedSeconds
            if case .seconds(let seconds) = budget { estimate = seconds }
            console.line("no cached \(name): training it now" + (estimate.map { " (~\(formatDuration($0)))" } ?? "")
                + ", checkpoints in \(url.relativePath)")
        }
        let session = TrainingSession(name: name, url: url, budget: budget, start: start, model: model,
                                      saved: saved, cache: self)
        try train(model, session)
        if !session.state.finished {
            var state = session.state
            state.finished = true
            try session.save(state)
        }
        return model
    }

    /// Reads the checkpoint at `url`, restores the model from it (all or nothing), and returns the
    /// training state and every saved tensor (for optimizers to restore from).
    private func read(_ url: URL, into model: Module) throws -> (TrainingState, [String: Tensor]) {
        let file = try SafeTensors.read(from: url)
        let state = try Self.state(from: file.metadata)
        let tensors = file.dictionary
        let modelPart = tensors.filter { !$0.key.hasPrefix(Checkpoint.optimizerPrefix) }
        try Checkpoint.restore(modelPart, into: model, source: url.relativePath)
        return (state, tensors)
    }

    private func setAside(_ url: URL, because reason: String) {
        let invalid = url.appendingPathExtension("invalid")
        try? FileManager.default.removeItem(at: invalid)
        let moved = rename(url.path, invalid.path) == 0
        console.warning("cached \(url.relativePath) is unusable (\(reason)); "
            + (moved ? "moved it to \(invalid.lastPathComponent) and " : "") + "training anew")
    }

    /// Deletes temporary files that runs killed while saving `url` left behind (NN writes
    /// `.<file>.<pid>.tmp` beside the file and renames it over the file when complete).
    private func removeStaleTemporaries(of url: URL) {
        let prefix = "." + url.lastPathComponent + "."
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))
        }
    }

    static let stepKey = "workbook.step", secondsKey = "workbook.seconds", finishedKey = "workbook.finished"

    static func metadata(for state: TrainingState, name: String, budget: TrainingBudget) -> [String: String] {
        [stepKey: String(state.step), secondsKey: String(state.seconds), finishedKey: String(state.finished),
         "workbook.name": name, "workbook.budget": budget.label]
    }

    static func state(from metadata: [String: String]) throws -> TrainingState {
        guard let step = metadata[stepKey].flatMap(Int.init), step >= 0,
              let seconds = metadata[secondsKey].flatMap(Double.init),
              let finished = metadata[finishedKey].flatMap(Bool.init)
        else { throw WorkbookError("its metadata holds no training state") }
        return TrainingState(step: step, seconds: seconds, finished: finished)
    }
}

/// One model's training under the cache: the step it starts from, and checkpoints holding the
/// model and its optimizers, written atomically.
public final class TrainingSession {
    public let name: String
    /// The checkpoint file.
    public let url: URL
    public let budget: TrainingBudget
    /// Where this run starts: step 0, or the step of the checkpoint it resumes.
    public let start: TrainingState
    /// The state of the latest checkpoint written (or `start`).
    public private(set) var state: TrainingState
    private let model: Module
    private var optimizers: [String: Optimizer] = [:]
    private var saved: [String: Tensor]
    private unowned let cache: CheckpointCache

    init(name: String, url: URL, budget: TrainingBudget, start: TrainingState, model: Module,
         saved: [String: Tensor], cache: CheckpointCache) {
        self.name = name
        self.url = url
        self.budget = budget
        self.start = start
        self.state = start
        self.model = model
        self.saved = saved
        self.cache = cache
    }

    /// True when this run continues an interrupted one.
    public var isResuming: Bool { start.step > 0 }

    /// When `run` began, on the cache's clock.
    private var runBegan: Double?

    /// The fraction of the budget spent once `step` steps are done, in [0, 1]: steps over the
    /// step budget, or seconds (across resumed runs) over the time budget. Learning-rate
    /// schedules use it so that a run by the clock (`--seconds`) decays on time.
    public func fractionSpent(step: Int) -> Double {
        switch budget {
        case .steps(let total):
            return min(1, Double(step) / Double(max(total, 1)))
        case .seconds(let limit):
            let elapsed = start.seconds + (runBegan.map { cache.clock.now() - $0 } ?? 0)
            return min(1, max(0, elapsed / limit))
        }
    }

    /// Saves `optimizer` in every checkpoint under `optim.<key>.`, and restores its state now if
    /// this run resumes one. Call before `run`. A checkpoint whose optimizer state does not fit
    /// is an error naming the file (delete it to train from scratch).
    public func include(_ optimizer: Optimizer, as key: String) throws {
        optimizers[key] = optimizer
        guard isResuming else { return }
        let prefix = Checkpoint.optimizerPrefix + key + "."
        var own: [String: Tensor] = [:]
        for (name, tensor) in saved where name.hasPrefix(prefix) { own[String(name.dropFirst(prefix.count))] = tensor }
        do {
            try optimizer.loadStateDict(own)
        } catch {
            throw WorkbookError("checkpoint \(url.relativePath) cannot resume \(name): \(Chapter.message(for: error)); "
                + "delete it to train from scratch")
        }
    }

    /// Runs the training loop from `start` to the budget, saving checkpoints periodically, on
    /// Ctrl-C and at the end. See `TrainingLoop`.
    @discardableResult
    public func run(_ body: (_ step: Int) throws -> KeyValuePairs<String, Float>) throws -> TrainingReport {
        saved = [:]  // restored by now; free the memory
        runBegan = cache.clock.now()
        var loop = TrainingLoop(name, budget: budget, start: start) { [unowned self] state in try save(state) }
        loop.console = cache.console
        loop.clock = cache.clock
        loop.interruption = cache.interruption
        loop.checkpointInterval = cache.checkpointInterval
        loop.logInterval = cache.logInterval
        let report = try loop.run(body)
        cache.onReport?(report)
        return report
    }

    /// Writes a checkpoint of the model and optimizers at `state`, atomically. Refuses to
    /// overwrite the last good checkpoint with NaN or infinite weights.
    @discardableResult
    public func save(_ state: TrainingState) throws -> URL {
        if let bad = model.firstNonFiniteTensor() {
            throw WorkbookError("\(name): \(bad) became NaN or infinite by step \(state.step): training stopped; "
                + "the last good checkpoint is kept (try a smaller learning rate or another --seed)")
        }
        try Checkpoint.save(to: url, model: model, optimizers: optimizers,
                            metadata: CheckpointCache.metadata(for: state, name: name, budget: budget))
        self.state = state
        return url
    }
}

extension Module {
    /// The name of the first parameter or buffer holding a NaN or infinity, if any.
    func firstNonFiniteTensor() -> String? {
        stateDict().first { _, tensor in
            tensor.withUnsafeBufferPointer { values in
                for v in values where !v.isFinite { return true }
                return false
            }
        }?.0
    }
}
