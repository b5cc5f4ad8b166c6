import Foundation
import NN
import Taming
import Tensors
import Workbook

// Plumbing for chapter 04 that the book need not show: finding chapter 03's VQGAN in the cache,
// and keeping a training curve beside a cached model.

/// A finished chapter-03 VQGAN in the cache: its autoencoder, and the file's name.
struct CachedFirstStage {
    var autoencoder: VQModel
    var file: String
    /// Steps of the VQGAN's own training (after its shared warm-up).
    var steps: Int
}

enum Chapter03Cache {
    /// Chapter 03 saves its f = 4 VQGAN as `03-vqgan-f4-<n>-steps-<tags>.safetensors`, the tags
    /// (`quick`, the seed, the `--data` hash) as this run's; with non-default options a hash
    /// follows `f4`, and those are not the book's model. The finished file with the most steps
    /// is restored into chapter 03's architecture (the workbook recipe at f = 4, a discriminator
    /// of 32 channels and 2 stages). Files that are unfinished or do not fit are skipped, with a
    /// warning for the latter.
    static func find(in cache: CheckpointCache) -> CachedFirstStage? {
        guard let found = cache.latestFinished("03-vqgan-f4", make: { () -> VQGAN in
            var rng = RandomGenerator(seed: 0)
            return VQGAN(VQRecipe.named(.workbook).autoencoder, discriminator: DiscriminatorConfig(ndf: 32, layers: 2),
                         rng: &rng)
        }) else { return nil }
        return CachedFirstStage(autoencoder: found.model.autoencoder, file: found.url.relativePath, steps: found.steps)
    }
}

/// A GPT's training curve, kept beside its cached checkpoint so that a run that loads the model
/// still draws it: bits per token on training batches, and on fixed sets of training and
/// held-out sequences at intervals.
struct TrainingCurve: Codable {
    var steps: [Int] = []
    var batchBits: [Double] = []
    var evaluationSteps: [Int] = []
    var trainingBits: [Double] = []
    var heldOutBits: [Double] = []
    /// Wall-clock seconds of the whole training (across resumed runs), once finished.
    var seconds: Double?

    static func load(from url: URL) -> TrainingCurve? {
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONDecoder().decode(TrainingCurve.self, from: data)
    }

    /// Writes atomically (a temporary file, then a rename).
    func save(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(self).write(to: url, options: .atomic)
        } catch {
            throw WorkbookError("cannot write the training curve to \(url.relativePath): \(error.localizedDescription)")
        }
    }

    /// Drops everything recorded from `step` on (a resumed run records those steps again).
    mutating func truncate(at step: Int) {
        let keep = steps.firstIndex { $0 > step } ?? steps.count
        steps.removeSubrange(keep...); batchBits.removeSubrange(keep...)
        let kept = evaluationSteps.firstIndex { $0 > step } ?? evaluationSteps.count
        evaluationSteps.removeSubrange(kept...); trainingBits.removeSubrange(kept...); heldOutBits.removeSubrange(kept...)
    }

    /// The step with the lowest held-out bits, and those bits.
    var bestHeldOut: (step: Int, bits: Double)? {
        guard let i = heldOutBits.indices.min(by: { heldOutBits[$0] < heldOutBits[$1] }) else { return nil }
        return (evaluationSteps[i], heldOutBits[i])
    }
}

/// A trailing moving average over `window` values (shorter at the start).
func movingAverage(_ values: [Double], window: Int) -> [Double] {
    var out: [Double] = [], sum = 0.0
    for (i, v) in values.enumerated() {
        sum += v
        if i >= window { sum -= values[i - window] }
        out.append(sum / Double(min(i + 1, window)))
    }
    return out
}

/// `text` right-aligned in `width` columns.
func pad(_ text: String, _ width: Int) -> String {
    String(repeating: " ", count: max(0, width - text.count)) + text
}
