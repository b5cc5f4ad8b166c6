import Foundation
import Tensors

/// A training checkpoint in one safetensors file: the model's state dict under `model.`, each
/// optimizer's state under `optim.<key>.`, and string metadata (step, seed, configuration).
///
///     try Checkpoint.save(to: url, model: vq, optimizers: ["ae": aeOpt, "disc": discOpt],
///                         metadata: ["step": "1200", "seed": "0", "config": configJSON])
///     let metadata = try Checkpoint.load(from: url, into: vq, optimizers: ["ae": aeOpt, "disc": discOpt])
///
/// Saving is atomic (see `SafeTensors.write`). Loading checks everything before changing
/// anything: every name the model and optimizers need must be present with the right shape, and
/// nothing else may be in the file.
public enum Checkpoint {
    public static let modelPrefix = "model."
    public static let optimizerPrefix = "optim."

    /// All tensors a checkpoint of `model` and `optimizers` holds, with their prefixed names.
    public static func tensors(model: Module, optimizers: [String: Optimizer] = [:]) -> [(String, Tensor)] {
        var result = model.stateDict().map { (modelPrefix + $0.0, $0.1) }
        for key in optimizers.keys.sorted() {
            result += optimizers[key]!.stateDict().map { (optimizerPrefix + key + "." + $0.0, $0.1) } // invariant: key from keys
        }
        return result
    }

    /// Writes the model's and optimizers' state and `metadata` to `url`, atomically.
    public static func save(to url: URL, model: Module, optimizers: [String: Optimizer] = [:],
                            metadata: [String: String] = [:]) throws {
        try SafeTensors.write(tensors(model: model, optimizers: optimizers), metadata: metadata, to: url)
    }

    /// Restores the model and optimizers from the checkpoint at `url` and returns its metadata.
    /// Throws (changing nothing) when the file is unreadable or does not fit exactly.
    @discardableResult
    public static func load(from url: URL, into model: Module, optimizers: [String: Optimizer] = [:]) throws -> [String: String] {
        let file = try SafeTensors.read(from: url)
        try restore(file.dictionary, into: model, optimizers: optimizers, source: url.path)
        return file.metadata
    }

    /// Restores only the model from the checkpoint at `url`, ignoring any optimizer state in it
    /// (to use a trained model without resuming its training). Returns the metadata.
    @discardableResult
    public static func loadModel(from url: URL, into model: Module) throws -> [String: String] {
        let file = try SafeTensors.read(from: url)
        try restore(file.dictionary.filter { !$0.key.hasPrefix(optimizerPrefix) }, into: model, source: url.path)
        return file.metadata
    }

    /// Restores from already-read tensors (prefixed names); `source` names them in errors.
    public static func restore(_ saved: [String: Tensor], into model: Module, optimizers: [String: Optimizer] = [:],
                               source: String) throws {
        var modelState: [String: Tensor] = [:]
        var optimizerStates: [String: [String: Tensor]] = [:]
        var unexpected: [String] = []
        // Longest keys first, so that key "a.b" wins over key "a" for "optim.a.b.step".
        let keys = optimizers.keys.sorted { $0.count > $1.count }
        for (name, t) in saved {
            if name.hasPrefix(modelPrefix) {
                modelState[String(name.dropFirst(modelPrefix.count))] = t
            } else if name.hasPrefix(optimizerPrefix),
                      let key = keys.first(where: { name.hasPrefix(optimizerPrefix + $0 + ".") }) {
                optimizerStates[key, default: [:]][String(name.dropFirst(optimizerPrefix.count + key.count + 1))] = t
            } else {
                unexpected.append(name)
            }
        }
        // Check everything first, so that a bad file changes nothing.
        var problems: [String] = []
        if !unexpected.isEmpty {
            problems.append(StateDictError(context: "checkpoint", unexpected: unexpected.sorted()).description)
        }
        if let e = StateDictError.check(modelState, against: model.stateDict(), strict: true,
                                        context: "model \(model.kind) (names under \"\(modelPrefix)\")") {
            problems.append(e.description)
        }
        for key in optimizers.keys.sorted() {
            let optimizer = optimizers[key]! // invariant: key from keys
            if let e = StateDictError.check(optimizerStates[key] ?? [:], against: optimizer.stateDict(), strict: true,
                                            context: "optimizer \"\(key)\" (names under \"\(optimizerPrefix)\(key).\")") {
                problems.append(e.description)
            }
        }
        guard problems.isEmpty else {
            throw SafeTensorsError(file: source, problem: "does not fit: " + problems.joined(separator: "; "))
        }
        do {
            for key in optimizers.keys.sorted() { try optimizers[key]!.loadStateDict(optimizerStates[key] ?? [:]) } // invariant: key from keys
            try model.loadStateDict(modelState)
        } catch {
            throw SafeTensorsError(file: source, problem: "does not fit: \(error)")
        }
    }
}
