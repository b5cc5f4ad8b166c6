import Imaging
import Tensors

extension SemanticClass {
    /// The display colours as an Imaging palette, for `colorize(labels:width:height:palette:)`.
    public static var palette: Palette {
        Palette(colors: allCases.map {
            let c = $0.displayColor
            return RGBColor(red: Float(c.red) / 255, green: Float(c.green) / 255, blue: Float(c.blue) / 255)
        })
    }

    /// A segmentation map (`[H, W]` class indices) as a picture `[3, H, W]` in the display colours.
    public static func colorize(_ labels: [UInt8], width: Int, height: Int) -> Tensor {
        Imaging.colorize(labels: labels, width: width, height: height, palette: palette)
    }
}

/// The datasets chapter's figure: procedural landscapes, one row per scene class, each sample
/// beside its colourised segmentation map.
public enum LandscapeGallery {
    /// A `[3, H', W']` grid: `SceneClass.count` rows of `samplesPerScene` (picture, map) pairs of
    /// `width`×`height`, sample indices `firstIndex`, `firstIndex + 1`, … for each scene.
    public static func figure(generator: LandscapeGenerator, samplesPerScene: Int = 4,
                              width: Int = 64, height: Int = 64, firstIndex: Int = 0,
                              padding: Int = 2) -> Tensor {
        var cells: [Tensor] = []
        for scene in SceneClass.allCases {
            for k in 0..<samplesPerScene {
                let sample = generator.sample(index: firstIndex + k * SceneClass.count + scene.rawValue,
                                              width: width, height: height, scene: scene)
                cells.append(sample.image)
                cells.append(SemanticClass.colorize(sample.segmentation, width: width, height: height))
            }
        }
        return ImageGrid(columns: 2 * samplesPerScene, padding: padding).compose(cells)
    }

    /// A legend strip: one `swatch`×`swatch` square per semantic class, in class order.
    public static func legend(swatch: Int = 12, padding: Int = 2) -> Tensor {
        let cells = SemanticClass.allCases.map { c in
            SemanticClass.colorize([UInt8](repeating: c.rawValue, count: swatch * swatch), width: swatch, height: swatch)
        }
        return ImageGrid(columns: cells.count, padding: padding).compose(cells)
    }
}
