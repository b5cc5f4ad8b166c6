import Tensors

/// The painting pass: turns a class map into an RGB picture, reading nothing but the map, the
/// frame and the recipe, so any map (a generated one, an edited one, one drawn by hand) can be
/// painted and the picture always follows it.
///
/// Each class has a painter. What a painter needs beyond its own pixel it reads from the map's
/// geometry: how far the pixel lies below the top of its vertical run of the same class (depth
/// into a mountain face or a cloud), where its horizontal run starts and ends (light from the
/// left on trees and rocks), and the slope of the skyline above it (lit and shaded faces of
/// mountains, hills and dunes). Water mirrors the pixels above its surface, which are painted
/// first because rows are painted top to bottom. Textures are world-space noise fields with as
/// many octaves as the resolution can show, so a small picture looks like a downscaled large one.
struct LandscapeRenderer {
    let recipe: LandscapeRecipe
    let frame: LandscapeFrame
    let palette: ScenePalette

    /// The texture fields, one per painter that needs one.
    enum Field: Int, CaseIterable {
        case cloud, relief, grass, patches, blades, snow, sand, foliage, rock, ripple
    }
    let fields: [NoiseField]

    init(recipe: LandscapeRecipe, frame: LandscapeFrame) {
        self.recipe = recipe
        self.frame = frame
        palette = recipe.palette
        let s = recipe.noiseSeed
        fields = Field.allCases.map { field in
            switch field {
            case .cloud: NoiseField(frequencyU: 9, frequencyV: 22, frame: frame, limit: 3, seed: s &+ 307)
            case .relief: NoiseField(frequencyU: 14, frequencyV: 5, frame: frame, limit: 5, seed: s &+ 401)
            case .grass: NoiseField(frequencyU: 10, frequencyV: 30, frame: frame, limit: 5, seed: s &+ 503)
            case .patches: NoiseField(frequencyU: 3, frequencyV: 9, frame: frame, limit: 1, seed: s &+ 509)
            case .blades: NoiseField(frequencyU: 90, frequencyV: 260, frame: frame, limit: 2, seed: s &+ 511, fine: true)
            case .snow: NoiseField(frequencyU: 3, frequencyV: 24, frame: frame, limit: 5, seed: s &+ 521)
            case .sand: NoiseField(frequencyU: 3, frequencyV: 14, frame: frame, limit: 5, seed: s &+ 601)
            case .foliage: NoiseField(frequencyU: 90, frequencyV: 90, frame: frame, limit: 3, seed: s &+ 701)
            case .rock: NoiseField(frequencyU: 60, frequencyV: 60, frame: frame, limit: 3, seed: s &+ 801)
            case .ripple: NoiseField(frequencyU: 7, frequencyV: 160, frame: frame, limit: 1, seed: s &+ 907)
            }
        }
    }

    /// Which fields each class reads, as a bit set over `Field` raw values, by class index.
    private static let fieldMasks: [UInt32] = SemanticClass.allCases.map { label in
        let fields: [Field] = switch label {
        case .sky: []
        case .cloud: [.cloud]
        case .mountain: [.relief]
        case .snow: [.relief, .snow]
        case .grass: [.grass, .patches, .blades]
        case .tree: [.foliage]
        case .water: [.ripple]
        case .sand: [.sand]
        case .rock: [.rock]
        }
        return fields.reduce(0) { $0 | 1 << UInt32($1.rawValue) }
    }

    /// Paints `labels` (`[H, W]`, values below `SemanticClass.count`; others are painted as rock)
    /// into a `[3, H, W]` tensor with values in [-1, 1].
    func render(_ labels: [UInt8]) -> Tensor {
        let width = frame.width, height = frame.height, plane = width * height
        precondition(labels.count == plane, "\(labels.count) labels for \(width)×\(height)") // invariant: checked by the public API
        var runTop = [Int32](repeating: 0, count: plane)
        var runBottom = [Int32](repeating: 0, count: plane)
        labels.withUnsafeBufferPointer { l in
            runTop.withUnsafeMutableBufferPointer { top in
                runBottom.withUnsafeMutableBufferPointer { bottom in
                    Self.verticalRuns(l, top: top, bottom: bottom, width: width, height: height)
                }
            }
        }
        let radius = Swift.max(1, Int((0.012 * frame.pixelsPerUnit).rounded()))
        let cloudTable = CloudCover.summedAreaTable(labels, width: width, height: height)
        let horizons = (0..<width).map { recipe.horizon(at: frame.u($0)) }
        var rows = [Float](repeating: 0, count: Field.allCases.count * width)
        var bounds = [Int](repeating: 0, count: 2 * Field.allCases.count)
        let image = Tensor.make([3, height, width]) { out in
            labels.withUnsafeBufferPointer { l in
                runTop.withUnsafeBufferPointer { top in
                    runBottom.withUnsafeBufferPointer { bottom in
                        horizons.withUnsafeBufferPointer { h in
                            cloudTable.withUnsafeBufferPointer { table in
                                rows.withUnsafeMutableBufferPointer { rows in
                                    bounds.withUnsafeMutableBufferPointer { bounds in
                                        let clouds = CloudCover(table: table, width: width, height: height,
                                                                radius: radius)
                                        paint(l, top: top, bottom: bottom, horizons: h, clouds: clouds,
                                              rows: rows, bounds: bounds, out: out)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // [0, 1] → [-1, 1]
            for i in out.indices { out[i] = Swift.min(1, Swift.max(-1, out[i] * 2 - 1)) }
        }
        return image
    }

    /// For every pixel, the first and last row of its column's vertical run of equal labels.
    ///
    /// Trees and rocks stand in front of the ground: a run of ground (or water) that continues
    /// below one keeps the top it had above it, so the water's mirror line is not broken by a
    /// rock standing in it.
    static func verticalRuns(_ l: UnsafeBufferPointer<UInt8>, top: UnsafeMutableBufferPointer<Int32>,
                             bottom: UnsafeMutableBufferPointer<Int32>, width: Int, height: Int) {
        let tree = SemanticClass.tree.rawValue, rock = SemanticClass.rock.rawValue
        for x in 0..<width {
            // The run that was interrupted by the current tree or rock, if any.
            var hiddenLabel: UInt8 = .max, hiddenTop: Int32 = 0
            var runTop: Int32 = 0
            for y in 0..<height {
                let i = y * width + x
                let label = l[i]
                if y > 0 && label != l[i - width] {
                    let above = l[i - width]
                    let aboveIsPart = above == tree || above == rock
                    if label == tree || label == rock {
                        if !aboveIsPart { hiddenLabel = above; hiddenTop = runTop }
                        runTop = Int32(y)
                    } else {
                        runTop = aboveIsPart && label == hiddenLabel ? hiddenTop : Int32(y)
                        hiddenLabel = .max
                    }
                }
                top[i] = runTop
            }
        }
        let last = (height - 1) * width
        for x in 0..<width { bottom[last + x] = Int32(height - 1) }
        for y in stride(from: height - 2, through: 0, by: -1) {
            let row = y * width
            for x in 0..<width {
                bottom[row + x] = l[row + x] == l[row + width + x] ? bottom[row + width + x] : Int32(y)
            }
        }
    }

    /// Fills, for row `y`, the texture fields its classes need, over the columns where they occur
    /// (classes outside `SemanticClass` are painted as rock). `bounds` is scratch space for
    /// 2 × `Field` column bounds.
    private func fillFields(row y: Int, labels l: UnsafeBufferPointer<UInt8>,
                            rows: UnsafeMutableBufferPointer<Float>, bounds: UnsafeMutableBufferPointer<Int>) {
        let width = frame.width, fieldCount = fields.count
        let rockMask = Self.fieldMasks[Int(SemanticClass.rock.rawValue)]
        for f in 0..<fieldCount { bounds[f] = width; bounds[fieldCount + f] = -1 }
        var previous: UInt8 = .max
        for x in 0..<width {
            let label = l[y * width + x]
            guard label != previous else { continue }
            previous = label
            var mask = Int(label) < Self.fieldMasks.count ? Self.fieldMasks[Int(label)] : rockMask
            while mask != 0 {
                let f = mask.trailingZeroBitCount
                mask &= mask - 1
                bounds[f] = Swift.min(bounds[f], x)
                bounds[fieldCount + f] = x
            }
        }
        // The last column of a run: extend each field's upper bound to the end of its class's run.
        previous = .max
        for x in stride(from: width - 1, through: 0, by: -1) {
            let label = l[y * width + x]
            guard label != previous else { continue }
            previous = label
            var mask = Int(label) < Self.fieldMasks.count ? Self.fieldMasks[Int(label)] : rockMask
            while mask != 0 {
                let f = mask.trailingZeroBitCount
                mask &= mask - 1
                bounds[fieldCount + f] = Swift.max(bounds[fieldCount + f], x)
            }
        }
        let v = frame.v(y)
        for f in 0..<fieldCount where bounds[fieldCount + f] >= 0 {
            // Relief is differentiated across columns: one extra column each side.
            let pad = f == Field.relief.rawValue ? 1 : 0
            let range = Swift.max(0, bounds[f] - pad)..<Swift.min(width, bounds[fieldCount + f] + 1 + pad)
            fields[f].fill(rows.baseAddress! + f * width, range: range, v: v, frame: frame) // invariant: rows holds one row per field
        }
    }

    /// Paints every pixel, row by row from the top, into planar `out` (`[3, H, W]`, in [0, 1]).
    private func paint(_ l: UnsafeBufferPointer<UInt8>, top: UnsafeBufferPointer<Int32>,
                       bottom: UnsafeBufferPointer<Int32>, horizons: UnsafeBufferPointer<Float>,
                       clouds: CloudCover, rows: UnsafeMutableBufferPointer<Float>,
                       bounds: UnsafeMutableBufferPointer<Int>, out: UnsafeMutableBufferPointer<Float>) {
        let width = frame.width, height = frame.height, plane = width * height
        let ppu = frame.pixelsPerUnit
        let snowLabel = SemanticClass.snow.rawValue
        @inline(__always) func field(_ f: Field, _ x: Int) -> Float { rows[f.rawValue * width + x] }
        for y in 0..<height {
            let v = frame.v(y)
            fillFields(row: y, labels: l, rows: rows, bounds: bounds)
            var runStart = 0, runEnd = -1
            // The skyline slope last seen in this horizontal run, for pixels under a tree or rock
            // (whose own skyline is hidden).
            var carriedSlope: Float = 0
            for x in 0..<width {
                let i = y * width + x
                let label = l[i]
                if x > runEnd {
                    // A new horizontal run starts here: find where it ends.
                    runStart = x
                    runEnd = x
                    while runEnd + 1 < width && l[i + runEnd + 1 - x] == label { runEnd += 1 }
                    carriedSlope = 0
                }
                let u = frame.u(x)
                let t0 = Int(top[i]), t1 = Int(bottom[i])
                // Depth below the top of the vertical run, in world units, and the run's fraction.
                let depth = Float(y - t0) / ppu
                let fraction = t1 > t0 ? Float(y - t0) / Float(t1 - t0) : 0.5
                // 0 at the run's left end, 1 at its right end.
                let across = runEnd > runStart ? Float(x - runStart) / Float(runEnd - runStart) : 0.5
                // How far below the horizon: 0 at the horizon (or above it), 1 at 0.35 units below.
                let near = Swift.min(1, Swift.max(0, (v - horizons[x]) / 0.35))
                let c: Color
                switch SemanticClass(rawValue: label) ?? .rock {
                case .sky:
                    c = sky(u: u, v: v).mixed(palette.cloudLit, 0.3 * clouds.density(x: x, y: y))
                case .cloud:
                    c = cloud(u: u, v: v, n: field(.cloud, x), above: clouds.density(x: x, y: y - 2 * clouds.radius),
                              density: clouds.density(x: x, y: y))
                case .mountain, .snow:
                    // Snow whose run reaches the horizon lies on the ground, not on a peak.
                    if label == snowLabel && frame.v(t1) > horizons[x] - 0.01 {
                        c = snowGround(n: field(.snow, x), near: near)
                    } else {
                        if let s = ridgeSlope(l, top: top, x: x, y: y, label: label) { carriedSlope = s }
                        let slope = carriedSlope
                        // Relief gradient across the row, per world unit.
                        let left = field(.relief, Swift.max(0, x - 1)), right = field(.relief, Swift.min(width - 1, x + 1))
                        let gradient = (right - left) * ppu / 2
                        c = mountain(v: v, relief: field(.relief, x), gradient: gradient, depth: depth, slope: slope,
                                     isSnow: label == snowLabel)
                    }
                case .grass:
                    if let s = ridgeSlope(l, top: top, x: x, y: y, label: label) { carriedSlope = s }
                    let slope = carriedSlope
                    c = grass(n: field(.grass, x), patches: field(.patches, x), blades: field(.blades, x),
                              near: near, light: hillLight(slope: slope, depth: depth))
                case .tree:
                    c = tree(n: field(.foliage, x), fraction: fraction, across: across)
                case .water:
                    c = water(u: u, v: v, x: x, y: y, top: t0, fraction: fraction, ripple: field(.ripple, x) - 0.5,
                              labels: l, out: out)
                case .sand:
                    if let s = ridgeSlope(l, top: top, x: x, y: y, label: label) { carriedSlope = s }
                    let slope = carriedSlope
                    c = sand(n: field(.sand, x), v: v, near: near, light: hillLight(slope: slope, depth: depth))
                case .rock:
                    c = rock(n: field(.rock, x), fraction: fraction, across: across)
                }
                out[i] = c.r
                out[plane + i] = c.g
                out[2 * plane + i] = c.b
            }
        }
    }

    /// The slope of the top edge of this pixel's run, from its neighbours' run tops (rows per
    /// column, positive where the edge falls to the right); nil when the run's top is the foot of
    /// a tree or rock rather than a skyline. A neighbour of another class, or whose skyline is
    /// hidden the same way, adds no slope.
    @inline(__always)
    private func ridgeSlope(_ l: UnsafeBufferPointer<UInt8>, top: UnsafeBufferPointer<Int32>,
                            x: Int, y: Int, label: UInt8) -> Float? {
        let width = frame.width, i = y * width + x
        @inline(__always) func skyline(_ column: Int) -> Bool {
            let t = Int(top[y * width + column])
            guard t > 0 else { return true }
            let above = l[(t - 1) * width + column]
            return above != SemanticClass.tree.rawValue && above != SemanticClass.rock.rawValue
        }
        guard skyline(x) else { return nil }
        // Measured over ±k columns (k grows with the resolution), so the slope of a large
        // picture is not quantised to whole rows per column, which would streak its faces.
        let k = slopeBaseline
        @inline(__always) func neighbourTop(_ column: Int) -> Int32? {
            column >= 0 && column < width && l[y * width + column] == label && skyline(column)
                ? top[y * width + column] : nil
        }
        let left = neighbourTop(x - k) ?? neighbourTop(x - 1) ?? top[i]
        let right = neighbourTop(x + k) ?? neighbourTop(x + 1) ?? top[i]
        let span = Float(Swift.max(1, (neighbourTop(x - k) != nil ? k : 1) + (neighbourTop(x + k) != nil ? k : 1)))
        return Float(right - left) / span
    }

    /// Columns each side over which skyline slopes are measured: one per 256 pixels per unit.
    var slopeBaseline: Int { Swift.max(1, Int(frame.pixelsPerUnit / 256)) }

    // MARK: Painters (colours in [0, 1]; `n`, noise field values in [0, 1))

    /// Sky: a vertical gradient to the horizon colour, a glow around the sun or moon, its disc,
    /// and stars at night.
    @inline(__always)
    func sky(u: Float, v: Float) -> Color {
        let t = Swift.min(1, Swift.max(0, (v - (recipe.horizon - 0.75)) / 0.75))
        var c = palette.skyTop.mixed(palette.skyHorizon, t * t)
        if let sunU = recipe.sunU {
            let du = u - sunU, dv = (v - recipe.sunV) * 1.3
            let d = (du * du + dv * dv).squareRoot()
            let radius: Float = recipe.scene == .sunset ? 0.045 : 0.03
            if d < radius { return palette.sun }
            let glowStrength: Float = recipe.scene == .sunset ? 0.7 : (recipe.scene == .night ? 0.25 : 0.45)
            c = c.mixed(palette.sun, glowStrength * softFalloff((d - radius) * 9))
        }
        if palette.starDensity > 0 { c += star(u: u, v: v) }
        return c
    }

    /// A star's brightness at (u, v): stars sit on a world lattice, one pixel each.
    @inline(__always)
    private func star(u: Float, v: Float) -> Color {
        let cell: Float = 0.008
        let (iu, cu) = Noise.floor(u / cell), (iv, cv) = Noise.floor(v / cell)
        let seed = recipe.noiseSeed &+ 211
        let h = Noise.unit(iu, iv, seed)
        guard h < palette.starDensity else { return Color(grey: 0) }
        let pixel = 1 / frame.pixelsPerUnit
        if pixel < cell {
            // The star is a point: only the pixel containing it lights up.
            let su = (cu + Noise.unit(iu, iv, seed &+ 1)) * cell
            let sv = (cv + Noise.unit(iu, iv, seed &+ 2)) * cell
            guard Swift.abs(su - u) <= pixel / 2, Swift.abs(sv - v) <= pixel / 2 else { return Color(grey: 0) }
        }
        let brightness = 0.35 + 0.6 * h / palette.starDensity
        return Color(grey: brightness * Swift.min(1, 0.6 + cell / pixel * 0.4))
    }

    /// Cloud: lit where little cloud lies above it (`above`, the cover a little higher up: light
    /// comes from above), shaded deep inside and underneath, soft where the cover thins out.
    @inline(__always)
    func cloud(u: Float, v: Float, n: Float, above: Float, density: Float) -> Color {
        let shade = Swift.min(1, Swift.max(0, 0.8 * above - 0.1 + (n - 0.5) * 0.6))
        var c = palette.cloudLit.mixed(palette.cloudShade, shade)
        if let sunU = recipe.sunU, recipe.scene == .sunset || recipe.scene == .day {
            let du = u - sunU, dv = v - recipe.sunV
            c = c.mixed(palette.sun, 0.5 * softFalloff((du * du + dv * dv).squareRoot() * 6))
        }
        return c.mixed(sky(u: u, v: v), 0.5 * (1 - density))
    }

    /// Mountain and snow: light from the upper left on the faces under the ridgeline and on the
    /// relief's slopes (`gradient`, its change per unit to the right), gullies from the
    /// vertically stretched relief, haze towards the horizon colour near the mountain's foot.
    @inline(__always)
    func mountain(v: Float, relief: Float, gradient: Float, depth: Float, slope: Float, isSnow: Bool) -> Color {
        // Faces rising to the right (negative slope) face the light.
        let ridge = Swift.max(-1, Swift.min(1, -slope * 0.8)) * softFalloff(depth * 12)
        var light = 0.55 + 0.35 * ridge - gradient * 0.065 + (relief - 0.5) * 0.4
        light = Swift.min(1, Swift.max(0, light))
        if isSnow { return palette.snowShade.mixed(palette.snowLit, light) }
        let c = palette.mountainShade.mixed(palette.mountain, light)
        // Aerial perspective: distant feet fade into the horizon colour.
        let haze = Swift.min(0.55, 0.12 + Swift.max(0, v - recipe.horizon + 0.2) * 1.6)
        return c.mixed(palette.skyHorizon, haze)
    }

    /// Grass: hazier and lighter far away (near the horizon), richer near, with tufts and patches.
    @inline(__always)
    func grass(n: Float, patches: Float, blades: Float, near: Float, light: Float) -> Color {
        let shade = 0.8 + 0.3 * n + 0.25 * (patches - 0.5) + 0.3 * near * (blades - 0.5) + light
        let c = palette.grassFar.mixed(palette.grassNear, near) * shade
        return c.mixed(palette.skyHorizon, 0.18 * (1 - near))
    }

    /// Extra light (±0.15) on a hill or dune face just under its crest: faces rising to the right
    /// face the light from the upper left.
    @inline(__always)
    func hillLight(slope: Float, depth: Float) -> Float {
        let fade = Swift.max(0, 1 - depth * 12)
        return 0.15 * Swift.max(-1, Swift.min(1, -slope)) * fade * fade
    }

    /// Snow on the ground: bright with soft blue drifts.
    @inline(__always)
    func snowGround(n: Float, near: Float) -> Color {
        let c = palette.snowShade.mixed(palette.snowLit, Swift.min(1, Swift.max(0, 0.6 + 1.2 * (n - 0.5))))
        return c.mixed(palette.skyHorizon, 0.2 * (1 - near))
    }

    /// Sand: dune ripples (a triangle wave across the noise), lighter on their crests.
    @inline(__always)
    func sand(n: Float, v: Float, near: Float, light: Float) -> Color {
        let phase = v * 14 + n * 2.2
        let ripple = Swift.abs(2 * (phase - phase.rounded(.down)) - 1)
        let shade = Swift.min(1, Swift.max(0, 0.25 + n * 0.9 + ripple * 0.15 * near + 2.5 * light))
        return palette.sandShade.mixed(palette.sand, shade).mixed(palette.skyHorizon, 0.15 * (1 - near))
    }

    /// Trees and cacti: foliage texture, lit on the left and at the top.
    @inline(__always)
    func tree(n: Float, fraction: Float, across: Float) -> Color {
        let light = Swift.min(1, Swift.max(0, 0.75 - across * 0.6 + (n - 0.5) * 0.9 - fraction * 0.2))
        return palette.tree.mixed(palette.treeLit, light)
    }

    /// Rocks: lit on top and on the left, speckled.
    @inline(__always)
    func rock(n: Float, fraction: Float, across: Float) -> Color {
        let light = Swift.min(1, Swift.max(0, 0.95 - fraction * 0.6 - across * 0.35 + (n - 0.5) * 0.5))
        return palette.rockShade.mixed(palette.rock, light)
    }

    /// Water: the mirror image of what stands above its surface, wobbled by ripples, mixed with
    /// the water's own colour more strongly near the viewer; bright glints on ripple crests.
    @inline(__always)
    private func water(u: Float, v: Float, x: Int, y: Int, top: Int, fraction: Float, ripple: Float,
                       labels l: UnsafeBufferPointer<UInt8>, out: UnsafeMutableBufferPointer<Float>) -> Color {
        let width = frame.width, plane = width * frame.height
        let sway = Int((ripple * (1 + Float(y - top) * 0.15)).rounded())
        let mirrorY = 2 * top - y - 1
        let mirrorX = Swift.min(width - 1, Swift.max(0, x + sway))
        var reflected: Color
        if mirrorY >= 0 && l[mirrorY * width + mirrorX] != SemanticClass.water.rawValue {
            let j = mirrorY * width + mirrorX
            reflected = Color(r: out[j], g: out[plane + j], b: out[2 * plane + j])
        } else {
            let mirrorV = frame.v(top) * 2 - v
            reflected = sky(u: u, v: Swift.min(mirrorV, recipe.horizon - 0.02))
        }
        let mirror = palette.reflectivity * (1 - 0.55 * fraction)
        var c = palette.water.mixed(reflected * 0.9, mirror)
        if ripple > 0.36 { c = c.mixed(palette.skyHorizon, 0.3) }
        return c
    }
}

/// A cheap stand-in for e^(−t) on t ≥ 0 (the first terms of e^t in the denominator): the same
/// soft fall-off for glows and fades, without a libm call per pixel.
@inline(__always)
func softFalloff(_ t: Float) -> Float { 1 / (1 + t + 0.5 * t * t) }

/// How much of a small box around each pixel is cloud, from a summed-area table of the cloud
/// mask: soft cloud edges, and self-shadowing from the cloud above a pixel.
struct CloudCover {
    /// Summed-area table of the cloud mask, `[H + 1, W + 1]`; empty when the map has no cloud.
    let table: UnsafeBufferPointer<Int32>
    let width: Int
    let height: Int
    /// Half-size of the box, in pixels.
    let radius: Int

    /// The table for `labels` (`[H, W]`), or an empty one when there is no cloud.
    static func summedAreaTable(_ labels: [UInt8], width: Int, height: Int) -> [Int32] {
        let cloud = SemanticClass.cloud.rawValue
        guard labels.contains(cloud) else { return [] }
        var t = [Int32](repeating: 0, count: (width + 1) * (height + 1))
        t.withUnsafeMutableBufferPointer { t in
            labels.withUnsafeBufferPointer { l in
                for y in 0..<height {
                    var rowSum: Int32 = 0
                    for x in 0..<width {
                        rowSum += l[y * width + x] == cloud ? 1 : 0
                        t[(y + 1) * (width + 1) + x + 1] = t[y * (width + 1) + x + 1] + rowSum
                    }
                }
            }
        }
        return t
    }

    /// The cloud fraction of the box of half-size `radius` around (x, y), clipped to the picture.
    @inline(__always)
    func density(x: Int, y: Int) -> Float {
        guard table.count > 0 else { return 0 }
        let x0 = Swift.max(0, x - radius), x1 = Swift.min(width, x + radius + 1)
        let y0 = Swift.max(0, y - radius), y1 = Swift.min(height, y + radius + 1)
        guard x0 < x1, y0 < y1 else { return 0 }
        let w = width + 1
        let sum = table[y1 * w + x1] - table[y0 * w + x1] - table[y1 * w + x0] + table[y0 * w + x0]
        return Float(sum) / Float((x1 - x0) * (y1 - y0))
    }
}
