import Foundation
import Imaging

extension LandscapeGenerator {
    /// Writes samples `firstIndex ..< firstIndex + count` as PNG files into `folder` (created if
    /// needed): `landscape-NNNNN.png` and its segmentation map `landscape-NNNNN.seg.png`, the
    /// layout `ImageFolderDataset` reads. For looking at the data, or using it elsewhere.
    /// Returns the picture paths.
    @discardableResult
    public func export(count: Int, width: Int, height: Int, to folder: String, firstIndex: Int = 0,
                       scene: SceneClass? = nil) throws -> [String] {
        guard count >= 0, width > 0, height > 0 else {
            throw DatasetError.invalidArgument("cannot export \(count) landscapes of \(width)×\(height)")
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return try (firstIndex..<(firstIndex + count)).map { index in
            let sample = self.sample(index: index, width: width, height: height, scene: scene)
            let stem = (folder as NSString).appendingPathComponent(String(format: "landscape-%05d", index))
            try PNGImage.write(sample.image, to: stem + ".png")
            try PNGImage.writeLabels(LabelMap(width: width, height: height, labels: sample.segmentation),
                                     to: stem + ".seg.png")
            return stem + ".png"
        }
    }
}
