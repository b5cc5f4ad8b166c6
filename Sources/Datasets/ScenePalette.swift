/// An RGB colour in [0, 1] (sRGB values, mixed linearly: good enough for painting).
///
/// A plain struct rather than `SIMD3<Float>`: its few operators inline to scalar code, which
/// measured several times faster in the per-pixel painters than the generic SIMD operators.
struct Color {
    var r: Float
    var g: Float
    var b: Float

    @inline(__always) init(r: Float, g: Float, b: Float) { self.r = r; self.g = g; self.b = b }

    /// A colour from 8-bit channel values.
    init(_ r: Int, _ g: Int, _ b: Int) { self.init(r: Float(r) / 255, g: Float(g) / 255, b: Float(b) / 255) }

    /// A grey of the given level.
    @inline(__always) init(grey: Float) { self.init(r: grey, g: grey, b: grey) }

    /// Linear interpolation from `self` (t = 0) to `other` (t = 1).
    @inline(__always)
    func mixed(_ other: Color, _ t: Float) -> Color {
        Color(r: r + (other.r - r) * t, g: g + (other.g - g) * t, b: b + (other.b - b) * t)
    }

    /// Each channel clamped to [0, 1].
    var clamped: Color {
        Color(r: Swift.min(1, Swift.max(0, r)), g: Swift.min(1, Swift.max(0, g)), b: Swift.min(1, Swift.max(0, b)))
    }

    @inline(__always) static func * (c: Color, s: Float) -> Color { Color(r: c.r * s, g: c.g * s, b: c.b * s) }
    @inline(__always) static func * (c: Color, d: Color) -> Color { Color(r: c.r * d.r, g: c.g * d.g, b: c.b * d.b) }
    @inline(__always) static func + (c: Color, d: Color) -> Color { Color(r: c.r + d.r, g: c.g + d.g, b: c.b + d.b) }
    @inline(__always) static func *= (c: inout Color, s: Float) { c = c * s }
    @inline(__always) static func += (c: inout Color, d: Color) { c = c + d }
}

/// The colours a scene paints with: one set per `SceneClass`, jittered per sample by the recipe.
struct ScenePalette {
    var skyTop: Color
    var skyHorizon: Color
    var cloudLit: Color
    var cloudShade: Color
    var mountain: Color
    var mountainShade: Color
    var snowLit: Color
    var snowShade: Color
    var grassFar: Color
    var grassNear: Color
    var tree: Color
    var treeLit: Color
    var water: Color
    var sand: Color
    var sandShade: Color
    var rock: Color
    var rockShade: Color
    /// Colour of a sun or moon disc, and of the glow around it.
    var sun: Color
    /// How strongly water mirrors what is above it (0…1).
    var reflectivity: Float
    /// Fraction of the sky lattice cells holding a star (night only).
    var starDensity: Float

    /// The base palette of a scene.
    static func base(_ scene: SceneClass) -> ScenePalette {
        switch scene {
        case .day:
            ScenePalette(
                skyTop: Color(70, 125, 205), skyHorizon: Color(185, 215, 240),
                cloudLit: Color(250, 250, 252), cloudShade: Color(170, 180, 200),
                mountain: Color(105, 120, 150), mountainShade: Color(70, 80, 110),
                snowLit: Color(245, 247, 252), snowShade: Color(170, 185, 215),
                grassFar: Color(105, 150, 80), grassNear: Color(70, 135, 45),
                tree: Color(30, 75, 35), treeLit: Color(70, 120, 50),
                water: Color(45, 95, 140), sand: Color(220, 200, 150), sandShade: Color(180, 155, 110),
                rock: Color(135, 130, 125), rockShade: Color(80, 75, 72),
                sun: Color(255, 250, 225), reflectivity: 0.55, starDensity: 0)
        case .sunset:
            ScenePalette(
                skyTop: Color(60, 55, 120), skyHorizon: Color(250, 150, 80),
                cloudLit: Color(255, 170, 120), cloudShade: Color(120, 70, 100),
                mountain: Color(95, 60, 100), mountainShade: Color(55, 35, 70),
                snowLit: Color(250, 190, 170), snowShade: Color(150, 110, 140),
                grassFar: Color(110, 90, 60), grassNear: Color(60, 55, 30),
                tree: Color(30, 22, 25), treeLit: Color(70, 50, 35),
                water: Color(80, 60, 90), sand: Color(200, 140, 100), sandShade: Color(130, 85, 70),
                rock: Color(95, 70, 70), rockShade: Color(50, 35, 40),
                sun: Color(255, 220, 140), reflectivity: 0.75, starDensity: 0)
        case .night:
            ScenePalette(
                skyTop: Color(8, 12, 36), skyHorizon: Color(50, 68, 115),
                cloudLit: Color(70, 80, 110), cloudShade: Color(25, 30, 50),
                mountain: Color(45, 55, 90), mountainShade: Color(22, 28, 52),
                snowLit: Color(150, 165, 200), snowShade: Color(70, 85, 125),
                grassFar: Color(38, 62, 62), grassNear: Color(22, 46, 38),
                tree: Color(6, 16, 18), treeLit: Color(26, 44, 44),
                water: Color(15, 25, 50), sand: Color(80, 85, 100), sandShade: Color(45, 50, 65),
                rock: Color(50, 55, 70), rockShade: Color(25, 28, 40),
                sun: Color(235, 235, 220), reflectivity: 0.7, starDensity: 0.04)
        case .snow:
            ScenePalette(
                skyTop: Color(105, 130, 168), skyHorizon: Color(196, 208, 222),
                cloudLit: Color(232, 236, 242), cloudShade: Color(150, 158, 175),
                mountain: Color(95, 105, 128), mountainShade: Color(60, 68, 90),
                snowLit: Color(248, 250, 255), snowShade: Color(160, 178, 210),
                grassFar: Color(120, 130, 110), grassNear: Color(95, 110, 80),
                tree: Color(25, 50, 45), treeLit: Color(60, 85, 75),
                water: Color(95, 120, 140), sand: Color(190, 185, 170), sandShade: Color(150, 145, 135),
                rock: Color(100, 100, 108), rockShade: Color(60, 60, 70),
                sun: Color(255, 255, 245), reflectivity: 0.45, starDensity: 0)
        case .desert:
            ScenePalette(
                skyTop: Color(60, 120, 200), skyHorizon: Color(230, 215, 190),
                cloudLit: Color(252, 248, 240), cloudShade: Color(200, 185, 175),
                mountain: Color(190, 105, 65), mountainShade: Color(130, 65, 45),
                snowLit: Color(250, 240, 230), snowShade: Color(200, 180, 170),
                grassFar: Color(170, 160, 90), grassNear: Color(140, 135, 70),
                tree: Color(60, 110, 55), treeLit: Color(100, 150, 80),
                water: Color(50, 120, 140), sand: Color(235, 190, 120), sandShade: Color(195, 140, 85),
                rock: Color(160, 85, 50), rockShade: Color(100, 50, 35),
                sun: Color(255, 250, 230), reflectivity: 0.5, starDensity: 0)
        }
    }

    /// This palette with every colour scaled by `brightness` and tinted by `tint` (per sample
    /// variety without leaving the scene's look).
    func jittered(brightness: Float, tint: Color) -> ScenePalette {
        var p = self
        let f = { (c: Color) -> Color in (c * tint * brightness).clamped }
        p.skyTop = f(skyTop); p.skyHorizon = f(skyHorizon)
        p.cloudLit = f(cloudLit); p.cloudShade = f(cloudShade)
        p.mountain = f(mountain); p.mountainShade = f(mountainShade)
        p.snowLit = f(snowLit); p.snowShade = f(snowShade)
        p.grassFar = f(grassFar); p.grassNear = f(grassNear)
        p.tree = f(tree); p.treeLit = f(treeLit)
        p.water = f(water); p.sand = f(sand); p.sandShade = f(sandShade)
        p.rock = f(rock); p.rockShade = f(rockShade)
        return p
    }
}

