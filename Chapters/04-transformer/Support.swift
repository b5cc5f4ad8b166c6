import Foundation
import NN
import Taming
import Tensors
import Workbook

// Plumbing for chapter 04 that the book need not show: keeping a training curve beside a cached
// model.

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
