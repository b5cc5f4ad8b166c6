/// The segmentation pass: turns a recipe and a frame into a per-pixel class map.
///
/// Back to front, like a painter: sky, clouds, the mountain ridgeline with its snow, hills, then
/// below the horizon lakes, beaches and ground, and finally the repeated parts (trees, cacti,
/// rocks) drawn in order of distance. Every boundary is a function of world position u, computed
/// once per column, so a pixel costs a few comparisons (plus a cloud noise in the sky).
enum LandscapeLayout {
    /// The boundaries of one column, in world v (downwards).
    struct Column {
        var horizon: Float = 0
        var mountainTop: Float = 0
        var snowBottom: Float = 0
        var hillTop: Float = 0
        var lakeBottom: Float = 0
        var beachBottom: Float = 0
    }

    /// The boundaries of every column of `frame`.
    static func columns(recipe: LandscapeRecipe, frame: LandscapeFrame) -> [Column] {
        let ridgeOctaves = Noise.octaves(
            periodInPixels: frame.pixelsPerUnit / recipe.mountainFrequency, limit: 7)
        return (0..<frame.width).map { x in
            let u = frame.u(x)
            let h = recipe.horizon(at: u)
            let lake = recipe.lakeDepth(at: u)
            var c = Column()
            c.horizon = h
            c.mountainTop = recipe.mountainTop(at: u, horizon: h, octaves: ridgeOctaves)
            c.snowBottom = recipe.snowBottom(at: u, horizon: h)
            c.hillTop = recipe.hillTop(at: u, horizon: h)
            c.lakeBottom = h + lake
            c.beachBottom = lake > 0 ? c.lakeBottom + lake * recipe.beachFraction + 0.004 : h
            return c
        }
    }

    /// The class map of `recipe` seen through `frame`, row-major `[H, W]`.
    static func labels(recipe: LandscapeRecipe, frame: LandscapeFrame) -> [UInt8] {
        let width = frame.width, height = frame.height
        var labels = [UInt8](repeating: 0, count: width * height)
        let columns = columns(recipe: recipe, frame: frame)
        let clouds = NoiseField(frequencyU: recipe.cloudScale, frequencyV: recipe.cloudScale * 3.2,
                                frame: frame, limit: 4, seed: recipe.noiseSeed &+ 53)
        // A fBm value is mostly within 0.5 ± 0.15: more cover, lower threshold.
        let cloudThreshold = 0.66 - 0.2 * recipe.cloudCover
        let hasClouds = recipe.cloudCover > 0
        let ground = recipe.ground.rawValue
        let sky = SemanticClass.sky.rawValue, cloud = SemanticClass.cloud.rawValue
        let water = SemanticClass.water.rawValue, sand = SemanticClass.sand.rawValue
        let snow = SemanticClass.snow.rawValue, mountain = SemanticClass.mountain.rawValue
        // The lowest sky in the picture: rows above it may hold clouds.
        let lowestSky = columns.reduce(-Float.infinity) { Swift.max($0, Swift.min($1.mountainTop, $1.hillTop)) }
        var cloudRow = [Float](repeating: 0, count: width)

        labels.withUnsafeMutableBufferPointer { out in
            columns.withUnsafeBufferPointer { cols in
                cloudRow.withUnsafeMutableBufferPointer { cloudRow in
                    for y in 0..<height {
                        let v = frame.v(y)
                        if hasClouds && v < lowestSky {
                            clouds.fill(cloudRow.baseAddress!, range: 0..<width, v: v, frame: frame) // invariant: width > 0
                        }
                        let row = out.baseAddress! + y * width // invariant: width*height > 0
                        for x in 0..<width {
                            let c = cols[x]
                            let label: UInt8
                            if v >= c.horizon {
                                label = v < c.lakeBottom ? water : (v < c.beachBottom ? sand : ground)
                            } else if v >= c.hillTop {
                                label = ground
                            } else if v >= c.mountainTop {
                                label = v < c.snowBottom ? snow : mountain
                            } else if hasClouds {
                                // Clouds thin out in the last quarter unit above the horizon.
                                let nearHorizon = Swift.max(0, 0.25 - (c.horizon - v))
                                label = cloudRow[x] > cloudThreshold + 0.5 * nearHorizon ? cloud : sky
                            } else {
                                label = sky
                            }
                            row[x] = label
                        }
                    }
                }
            }
        }
        LandscapeParts.draw(into: &labels, recipe: recipe, frame: frame)
        return labels
    }
}
