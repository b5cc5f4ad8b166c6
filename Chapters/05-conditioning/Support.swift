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
    static func find(in cache: CheckpointCache) -> CachedFirstStage? {
        guard let found = cache.latestFinished("03-vqgan-f4", make: { () -> VQGAN in
            var rng = RandomGenerator(seed: 0)
            return VQGAN(VQRecipe.named(.workbook).autoencoder, discriminator: DiscriminatorConfig(ndf: 32, layers: 2),
                         rng: &rng)
        }) else { return nil }
        return CachedFirstStage(autoencoder: found.model.autoencoder, file: found.url.relativePath, steps: found.steps)
    }
}
