import Tensors

/// Where a chapter's training and held-out pictures come from, as its options say: procedural
/// landscapes by default; a folder of PNGs (`--data`, held out by a 10 % split of its pictures or
/// by a second folder, `--val-data`); or patches of photos at their own resolution
/// (`PhotoCrops`, which need the second folder, since crops of the training photos are not held
/// out).
public enum ImageSource {
    /// The (training, held-out) datasets of `side`×`side` pictures. `heldOutCount` sizes the
    /// procedural and patch held-out sets; `trainingCount` the procedural and patch training sets.
    public static func datasets(data: String?, validationData: String?, nativeCrops: Bool, side: Int,
                                trainingCount: Int, heldOutCount: Int, seed: UInt64) throws
        -> (train: any Dataset, validation: any Dataset) {
        if let folder = data, nativeCrops, let validationFolder = validationData {
            return (try PhotoCrops(folder: folder, width: side, height: side, count: trainingCount),
                    try PhotoCrops(folder: validationFolder, width: side, height: side, count: heldOutCount,
                                   fixedSeed: seed))
        }
        if let folder = data {
            let pictures = try ImageFolderDataset(folder: folder, width: side, height: side)
            guard let validationFolder = validationData else {
                let (train, validation) = try pictures.split(validationFraction: 0.1, seed: seed)
                return (train, validation)
            }
            return (pictures, try ImageFolderDataset(folder: validationFolder, width: side, height: side,
                                                     augmentation: .none))
        }
        return (try ProceduralDataset(seed: seed, count: trainingCount, width: side, height: side),
                try ProceduralDataset(seed: seed, count: heldOutCount, width: side, height: side, split: .validation))
    }

    /// Every example of `dataset` stacked into one batch [N, 3, H, W], augmentation drawn from `seed`.
    public static func stacked(_ dataset: any Dataset, seed: UInt64) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return stack((0..<dataset.count).map { dataset.example(at: $0, rng: &rng).image })
    }
}
