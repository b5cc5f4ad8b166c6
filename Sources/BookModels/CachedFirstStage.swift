import Taming
import Tensors
import Workbook

/// Chapter 03's VQGAN as later chapters find it in the cache: its autoencoder, frozen, is the
/// first stage of chapters 04, 05 and 06.
public struct CachedFirstStage {
    public var autoencoder: VQModel
    /// The checkpoint's path, relative, for the chapter to name.
    public var file: String
    /// Steps of the VQGAN's own training (after its shared warm-up).
    public var steps: Int

    /// Chapter 03 saves its f = 4 VQGAN as `03-vqgan-f4-<n>-steps-<tags>.safetensors` with the
    /// run's tags (`quick`, the seed, the `--data` hash); with non-default options a hash follows
    /// `f4`, and those are not the book's model. The finished file with the most steps is restored
    /// into chapter 03's architecture (the workbook recipe at f = 4, a discriminator of 32 channels
    /// and 2 stages). Unfinished files are skipped; files that do not fit are skipped with a
    /// warning. Nil when there is none.
    public static func find(in cache: CheckpointCache) -> CachedFirstStage? {
        guard let found = cache.latestFinished("03-vqgan-f4", make: { () -> VQGAN in
            var rng = RandomGenerator(seed: 0)
            return VQGAN(VQRecipe.named(.workbook).autoencoder, discriminator: DiscriminatorConfig(ndf: 32, layers: 2),
                         rng: &rng)
        }) else { return nil }
        return CachedFirstStage(autoencoder: found.model.autoencoder, file: found.url.relativePath, steps: found.steps)
    }
}
