import Foundation
import NN
import Taming
import Tensors
import Workbook

// Plumbing for chapter 05 that the book need not show: finding chapter 03's VQGAN in the cache.
// (Chapter 04 finds it the same way; both read the file chapter 03 writes.)

/// A finished chapter-03 VQGAN's autoencoder from the cache, and the file's name.
struct CachedFirstStage {
    var autoencoder: VQModel
    var file: String
    /// Steps of the VQGAN's own training (after its shared warm-up).
    var steps: Int

    /// Chapter 03 saves its f = 4 VQGAN as `03-vqgan-f4-<n>-steps-<tags>.safetensors` with this
    /// run's tags (`quick`, the seed, the `--data` hash). The finished file with the most steps is
    /// restored into chapter 03's architecture (the workbook recipe at f = 4, a discriminator of 32
    /// channels and 2 stages). Unfinished files are skipped; files that do not fit are skipped
    /// with a warning.
    static func find(in cache: CheckpointCache, console: Console) -> CachedFirstStage? {
        let prefix = "03-vqgan-f4-", suffix = "-steps-" + cache.tags.joined(separator: "-") + ".safetensors"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.folder.path)) ?? []
        let candidates = names.compactMap { name -> (steps: Int, name: String)? in
            guard name.hasPrefix(prefix), name.hasSuffix(suffix), name.count > prefix.count + suffix.count,
                  let steps = Int(name.dropFirst(prefix.count).dropLast(suffix.count)) else { return nil }
            return (steps, name)
        }.sorted { $0.steps > $1.steps }
        for candidate in candidates {
            let url = cache.folder.appendingPathComponent(candidate.name)
            // "workbook.finished" is the cache's mark of a completed training run.
            guard let file = try? SafeTensors.read(from: url), file.metadata["workbook.finished"] == "true" else { continue }
            var rng = RandomGenerator(seed: 0)
            let vqgan = VQGAN(VQRecipe.named(.workbook).autoencoder, discriminator: DiscriminatorConfig(ndf: 32, layers: 2),
                              rng: &rng)
            do {
                try Checkpoint.restore(file.dictionary.filter { !$0.key.hasPrefix(Checkpoint.optimizerPrefix) },
                                       into: vqgan, source: url.relativePath)
            } catch {
                console.warning("\(url.relativePath) does not fit chapter 03's VQGAN (\(Chapter.message(for: error))); skipped")
                continue
            }
            return CachedFirstStage(autoencoder: vqgan.autoencoder, file: url.relativePath, steps: candidate.steps)
        }
        return nil
    }
}
