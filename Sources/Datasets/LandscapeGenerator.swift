import Tensors

/// One procedural landscape: a picture, its per-pixel classes and its scene class.
public struct LandscapeSample {
    /// The picture, `[3, H, W]`, values in [-1, 1].
    public var image: Tensor
    /// The `SemanticClass` raw value of every pixel, row-major `[H, W]`.
    public var segmentation: [UInt8]
    public var scene: SceneClass
    public var width: Int { image.shape[2] }
    public var height: Int { image.shape[1] }
}

/// A landscape's segmentation map without its picture: cheap to make at panorama sizes, and
/// paintable later with `LandscapeGenerator.render`.
public struct LandscapeLayoutMap {
    /// `SemanticClass` raw values, row-major `[H, W]`.
    public var labels: [UInt8]
    public var width: Int
    public var height: Int
    public var scene: SceneClass
    /// The sample index it was made for (painting with the same index gives the same picture).
    public var index: Int
    public var pixelsPerUnit: Float
}

/// Procedural landscape photographs with segmentation maps and scene classes, from a seed.
///
/// Sample `index` of seed `seed` is one scene (`LandscapeRecipe`), viewed through a frame of any
/// size (`LandscapeFrame`): the same index at 32×32 and 512×512 is the same landscape at two
/// resolutions, and a wide frame is a panorama whose statistics do not change along its width.
/// A sample is made in two passes: `LandscapeLayout` decides every pixel's class, and
/// `LandscapeRenderer` paints the classes. The painter reads only the map, so `render` paints any
/// given map, and a sample's image always follows its segmentation.
///
///     let generator = LandscapeGenerator(seed: 42)
///     let sample = generator.sample(index: 7, width: 64, height: 64)
///     sample.image          // [3, 64, 64] in [-1, 1]
///     sample.segmentation   // 64·64 SemanticClass raw values
public struct LandscapeGenerator: Sendable {
    public let seed: UInt64

    public init(seed: UInt64) { self.seed = seed }

    /// The scene class sample `index` has when no scene is forced.
    public func scene(index: Int) -> SceneClass {
        LandscapeRecipe(seed: seed, index: index, scene: nil).scene
    }

    /// Sample `index` at `width`×`height` pixels. `scene` forces a scene class (otherwise drawn
    /// from the index); `pixelsPerUnit` sets the scale (default: the height, the standard view).
    public func sample(index: Int, width: Int, height: Int, scene: SceneClass? = nil,
                       pixelsPerUnit: Float? = nil) -> LandscapeSample {
        let recipe = LandscapeRecipe(seed: seed, index: index, scene: scene)
        let frame = LandscapeFrame(width: width, height: height, pixelsPerUnit: pixelsPerUnit)
        let labels = LandscapeLayout.labels(recipe: recipe, frame: frame)
        let image = LandscapeRenderer(recipe: recipe, frame: frame).render(labels)
        return LandscapeSample(image: image, segmentation: labels, scene: recipe.scene)
    }

    /// The segmentation map of sample `index` only (for panoramas: make the map, then paint it,
    /// or condition a model on it).
    public func layout(index: Int, width: Int, height: Int, scene: SceneClass? = nil,
                       pixelsPerUnit: Float? = nil) -> LandscapeLayoutMap {
        let recipe = LandscapeRecipe(seed: seed, index: index, scene: scene)
        let frame = LandscapeFrame(width: width, height: height, pixelsPerUnit: pixelsPerUnit)
        return LandscapeLayoutMap(labels: LandscapeLayout.labels(recipe: recipe, frame: frame),
                                  width: width, height: height, scene: recipe.scene, index: index,
                                  pixelsPerUnit: frame.pixelsPerUnit)
    }

    /// Paints a segmentation map (`[H, W]` class indices; values ≥ `SemanticClass.count` are
    /// painted as rock) with the palette, lighting and textures of sample `index` in `scene`.
    /// Returns `[3, H, W]` in [-1, 1]. Throws when the map's size does not match.
    public func render(segmentation: [UInt8], width: Int, height: Int, scene: SceneClass,
                       index: Int = 0, pixelsPerUnit: Float? = nil) throws -> Tensor {
        guard width > 0, height > 0, segmentation.count == width * height, (pixelsPerUnit ?? 1) > 0 else {
            throw DatasetError.mismatchedSegmentation(
                "a segmentation map of \(segmentation.count) labels cannot be painted at \(width)×\(height)")
        }
        let recipe = LandscapeRecipe(seed: seed, index: index, scene: scene)
        let frame = LandscapeFrame(width: width, height: height, pixelsPerUnit: pixelsPerUnit)
        return LandscapeRenderer(recipe: recipe, frame: frame).render(segmentation)
    }

    /// Paints a layout made by `layout(index:...)`: the same picture `sample` would have made
    /// (or, if its labels were edited, a picture that follows the edited map).
    /// - Throws: `DatasetError.mismatchedSegmentation` when the labels no longer fit its size.
    public func render(_ layout: LandscapeLayoutMap) throws -> Tensor {
        guard layout.width > 0, layout.height > 0, layout.labels.count == layout.width * layout.height,
              layout.pixelsPerUnit > 0 else {
            throw DatasetError.mismatchedSegmentation(
                "a layout of \(layout.labels.count) labels cannot be painted at \(layout.width)×\(layout.height)")
        }
        let recipe = LandscapeRecipe(seed: seed, index: layout.index, scene: layout.scene)
        let frame = LandscapeFrame(width: layout.width, height: layout.height, pixelsPerUnit: layout.pixelsPerUnit)
        return LandscapeRenderer(recipe: recipe, frame: frame).render(layout.labels)
    }
}
