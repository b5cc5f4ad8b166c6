import Tensors

/// The random choices behind one landscape: where the horizon lies, how high and rough the
/// mountains are, how many lakes, clouds, trees and rocks, and the palette. Drawn once from
/// (generator seed, sample index) so that the segmentation pass and the painting pass, and any
/// frame size, all see the same world.
struct LandscapeRecipe {
    let scene: SceneClass
    /// Base seed of every noise field of this sample.
    let noiseSeed: UInt32

    // Horizon and mountains (world units; v grows downwards).
    var horizon: Float
    var horizonSwing: Float
    var mountainHeight: Float
    var mountainFrequency: Float
    /// Subtracted from the ridge shape by a slow noise: opens valleys where the sky meets the land.
    var valleyDepth: Float
    /// Number of flat terraces (desert mesas); 0 for alpine ridges.
    var terraces: Float
    /// Fraction of the mountain height above which snow lies (above 1: no snow).
    var snowLine: Float

    // Hills in front of the mountains.
    var hillHeight: Float
    var hillFrequency: Float

    // Lakes and their beaches.
    var lakeChance: Float
    var lakeDepth: Float
    var lakeFrequency: Float
    var beachFraction: Float

    // Clouds.
    var cloudCover: Float
    var cloudScale: Float

    // Repeated parts.
    var hillTreeDensity: Float
    var groundTreesPerUnit: Float
    var coniferShare: Float
    var cactusShare: Float
    var rocksPerUnit: Float
    var rockSize: Float

    /// Ground class (grass, snow or sand) below the horizon and on the hills.
    var ground: SemanticClass

    /// Sun or moon position in world units, when this sample has one.
    var sunU: Float?
    var sunV: Float

    var palette: ScenePalette

    /// The recipe of sample `index` of generator `seed`; `scene` forces a scene class.
    init(seed: UInt64, index: Int, scene forced: SceneClass?) {
        var rng = RandomGenerator(seed: Noise.mix(seed, UInt64(bitPattern: Int64(index))))
        let drawn = SceneClass.allCases[rng.int(below: SceneClass.count)]
        let scene = forced ?? drawn
        self.scene = scene
        noiseSeed = UInt32(truncatingIfNeeded: rng.next())

        horizon = rng.uniform(0.52, 0.66)
        horizonSwing = rng.uniform(0.0, 0.08)
        mountainHeight = rng.uniform(0.16, 0.42)
        mountainFrequency = rng.uniform(0.9, 2.2)
        valleyDepth = rng.uniform(0.0, 0.5)
        terraces = 0
        snowLine = rng.uniform(0.55, 0.95)
        hillHeight = rng.uniform(0.02, 0.12)
        hillFrequency = rng.uniform(1.5, 4)
        lakeChance = rng.uniform(0, 1) < 0.6 ? rng.uniform(0.25, 0.7) : 0
        lakeDepth = rng.uniform(0.06, 0.2)
        lakeFrequency = rng.uniform(0.4, 1.2)
        beachFraction = rng.uniform(0, 0.5)
        cloudCover = rng.uniform(0.1, 0.6)
        cloudScale = rng.uniform(1.2, 2.6)
        hillTreeDensity = rng.uniform(0, 1) < 0.75 ? rng.uniform(0.3, 0.95) : 0
        groundTreesPerUnit = rng.uniform(0, 1) < 0.6 ? rng.uniform(1, 7) : 0
        coniferShare = rng.uniform(0, 1)
        cactusShare = 0
        rocksPerUnit = rng.uniform(0, 4)
        rockSize = rng.uniform(0.6, 1.4)
        ground = .grass
        let hasSun = rng.uniform(0, 1)
        sunU = nil
        sunV = rng.uniform(0.06, 0.25)
        let sunPosition = rng.uniform(-0.2, 2.2)

        // Per-sample palette variety: ±10% brightness, a slight tint.
        let brightness = rng.uniform(0.9, 1.1)
        let tint = Color(r: rng.uniform(0.94, 1.06), g: rng.uniform(0.94, 1.06), b: rng.uniform(0.94, 1.06))
        palette = ScenePalette.base(scene).jittered(brightness: brightness, tint: tint)

        switch scene {
        case .day:
            if hasSun < 0.15 { sunU = sunPosition }
        case .sunset:
            cloudCover = rng.uniform(0.2, 0.65)
            sunV = horizon - rng.uniform(0.03, 0.16)
            if hasSun < 0.6 { sunU = sunPosition }
        case .night:
            cloudCover *= 0.6
            sunV = rng.uniform(0.05, 0.3)
            if hasSun < 0.45 { sunU = sunPosition }
        case .snow:
            ground = .snow
            snowLine = rng.uniform(0.15, 0.55)
            cloudCover = rng.uniform(0.25, 0.75)
            hillTreeDensity = rng.uniform(0.5, 1)
            coniferShare = 1
            lakeChance *= 0.7
            if hasSun < 0.1 { sunU = sunPosition }
        case .desert:
            ground = .sand
            snowLine = 2
            terraces = Float(2 + rng.int(below: 3))
            mountainHeight *= 0.8
            cloudCover = rng.uniform(0, 1) < 0.5 ? 0 : rng.uniform(0.05, 0.3)
            lakeChance = rng.uniform(0, 1) < 0.2 ? rng.uniform(0.2, 0.4) : 0
            hillHeight = rng.uniform(0.02, 0.1)
            hillTreeDensity = 0
            groundTreesPerUnit = rng.uniform(0, 1) < 0.6 ? rng.uniform(1, 5) : 0
            coniferShare = 0
            cactusShare = 1
            rocksPerUnit = rng.uniform(2, 9)
            if hasSun < 0.3 { sunU = sunPosition }
        }
    }

    // MARK: Column profiles (world v of each boundary at world position u)

    /// The horizon: the level of lakes and the foot of the mountains.
    @inline(__always)
    func horizon(at u: Float) -> Float {
        horizon + horizonSwing * (Noise.value(u * 0.45, seed: noiseSeed &+ 11) - 0.5)
    }

    /// The mountain ridgeline: ridged fBm scaled to the mountain height, valleys opened by a
    /// slow noise, terraced into mesas in the desert.
    @inline(__always)
    func mountainTop(at u: Float, horizon h: Float, octaves: Int) -> Float {
        var shape = Noise.ridged(u * mountainFrequency, octaves: octaves, seed: noiseSeed &+ 23) * 1.7
        shape -= valleyDepth * Noise.value(u * 0.7, seed: noiseSeed &+ 29)
        if terraces > 0 {
            let t = shape * terraces
            let step = t.rounded(.down)
            let f = t - step
            // Flat tops with steep sides: keep the step, rise only in the last fifth.
            shape = (step + Swift.max(0, f - 0.8) * 5) / terraces
        }
        return h - mountainHeight * Swift.min(1.15, Swift.max(shape, -0.05))
    }

    /// The lowest v of the snow on the mountains (snow lies between the ridge and this line).
    @inline(__always)
    func snowBottom(at u: Float, horizon h: Float) -> Float {
        let jag = Noise.fbm(u * 14, octaves: 3, seed: noiseSeed &+ 31) - 0.5
        return h - mountainHeight * (snowLine + jag * 0.35)
    }

    /// The top of the hills in front of the mountains.
    @inline(__always)
    func hillTop(at u: Float, horizon h: Float) -> Float {
        let n = Noise.fbm(u * hillFrequency, octaves: 3, seed: noiseSeed &+ 37)
        return h - hillHeight * Swift.max(0, 2 * n - 0.6)
    }

    /// How far below the horizon the lake reaches at u (0 where there is no lake).
    @inline(__always)
    func lakeDepth(at u: Float) -> Float {
        guard lakeChance > 0 else { return 0 }
        let n = Noise.value(u * lakeFrequency, seed: noiseSeed &+ 41)
        let excess = (n - (1 - lakeChance)) / lakeChance
        return excess > 0 ? lakeDepth * excess.squareRoot() : 0
    }
}
