/// The repeated parts of a landscape: conifers, broad-leaved trees, cacti and rocks.
///
/// Parts are the "visual parts" a codebook should learn: the same few shapes recur at many sizes.
/// Each lives in a cell of the world's u axis and is decided by hashing the cell index, so a part
/// is the same in every frame that sees it. Parts further down the picture are nearer, hence
/// larger (size grows with the distance below the horizon); they are drawn far to near.
enum LandscapeParts {
    enum Kind { case conifer, broadleaf, cactus, rock }

    struct Part {
        var kind: Kind
        /// Centre column and base row, in (fractional) pixels.
        var x: Float
        var base: Float
        /// Size in pixels.
        var width: Float
        var height: Float
        var seed: UInt32
    }

    /// Draws every part visible in `frame` into `labels` (`[H, W]`), far to near.
    static func draw(into labels: inout [UInt8], recipe: LandscapeRecipe, frame: LandscapeFrame) {
        var parts = place(recipe: recipe, frame: frame)
        parts.sort { $0.base < $1.base }
        labels.withUnsafeMutableBufferPointer { out in
            for part in parts { rasterize(part, into: out, width: frame.width, height: frame.height) }
        }
    }

    /// Where the parts stand: tree lines on the hills and along the far shore, scattered trees
    /// and rocks on the ground below the horizon.
    static func place(recipe: LandscapeRecipe, frame: LandscapeFrame) -> [Part] {
        var parts: [Part] = []
        let seed = recipe.noiseSeed &+ 101
        let ppu = frame.pixelsPerUnit
        let uEnd = Float(frame.width) / ppu
        let vBottom = frame.v(frame.height - 1) + 0.02

        func treeKind(_ r: Float) -> Kind {
            if r < recipe.cactusShare { return .cactus }
            return r < recipe.cactusShare + recipe.coniferShare * (1 - recipe.cactusShare) ? .conifer : .broadleaf
        }

        // Tree lines on the hills: one candidate per narrow cell, thinned by a slow forest noise.
        if recipe.hillTreeDensity > 0 {
            let cell: Float = 0.02
            for i in Int(((-0.1) / cell).rounded(.down))...Int(((uEnd + 0.1) / cell).rounded(.up)) {
                let i32 = Int32(truncatingIfNeeded: i)
                let u = (Float(i) + Noise.unit(i32, 1, seed)) * cell
                let forest = Noise.value(u * 1.6, seed: seed &+ 7)
                guard Noise.unit(i32, 2, seed) < recipe.hillTreeDensity * (forest * 2 - 0.3) else { continue }
                let h = recipe.horizon(at: u)
                let top = recipe.hillTop(at: u, horizon: h)
                let v = top + Noise.unit(i32, 3, seed) * (h - top) * 0.7 + 0.004
                let height = (0.025 + 0.04 * Noise.unit(i32, 4, seed)) * (1 + 3 * Swift.max(0, v - h))
                let kind = treeKind(Noise.unit(i32, 5, seed))
                let aspect: Float = kind == .conifer ? 0.45 : 0.7
                parts.append(Part(kind: kind, x: u * ppu, base: frame.row(v), width: height * aspect * ppu,
                                  height: height * ppu, seed: Noise.hash(i32, 6, seed)))
            }
        }

        // Scattered trees and rocks on the ground, sized by perspective.
        let cell: Float = 0.1
        let treeChance = recipe.groundTreesPerUnit * cell
        let rockChance = Swift.min(0.9, recipe.rocksPerUnit * cell)
        for i in Int(((-0.4) / cell).rounded(.down))...Int(((uEnd + 0.4) / cell).rounded(.up)) {
            let i32 = Int32(truncatingIfNeeded: i)
            for slot: Int32 in [10, 20] {
                let chance = slot == 10 ? treeChance : rockChance
                guard Noise.unit(i32, slot, seed) < chance else { continue }
                let u = (Float(i) + Noise.unit(i32, slot + 1, seed)) * cell
                let h = recipe.horizon(at: u)
                let v = h + 0.01 + Noise.unit(i32, slot + 2, seed) * Swift.max(0, vBottom - h - 0.01)
                let distance = v - h
                let size = Noise.unit(i32, slot + 3, seed)
                if slot == 10 {
                    // Trees stand on land, not in lakes.
                    guard v >= h + recipe.lakeDepth(at: u) + 0.005 else { continue }
                    let kind = treeKind(Noise.unit(i32, slot + 4, seed))
                    let height = distance * (0.4 + 0.6 * size) + 0.015
                    let aspect: Float = kind == .conifer ? 0.42 : (kind == .cactus ? 0.55 : 0.75)
                    parts.append(Part(kind: kind, x: u * ppu, base: frame.row(v), width: height * aspect * ppu,
                                      height: height * ppu, seed: Noise.hash(i32, slot + 5, seed)))
                } else {
                    let height = (distance * 0.12 + 0.006) * recipe.rockSize * (0.5 + size)
                    let width = height * (1.5 + Noise.unit(i32, slot + 4, seed))
                    parts.append(Part(kind: .rock, x: u * ppu, base: frame.row(v), width: width * ppu,
                                      height: height * ppu, seed: Noise.hash(i32, slot + 5, seed)))
                }
            }
        }
        return parts
    }

    /// Fills the pixels whose centres lie inside `part`.
    static func rasterize(_ part: Part, into out: UnsafeMutableBufferPointer<UInt8>, width: Int, height: Int) {
        guard part.height >= 0.7, part.width >= 0.3 else { return }
        let label = part.kind == .rock ? SemanticClass.rock.rawValue : SemanticClass.tree.rawValue
        let top = Swift.max(0, Int((part.base - part.height).rounded(.down)))
        let bottom = Swift.min(height - 1, Int(part.base.rounded(.down)))
        guard top <= bottom, part.x + part.width > 0, part.x - part.width < Float(width) else { return }
        let w = part.width, tiers = Float(3 + part.seed % 3)
        let wobble = Float(part.seed >> 8 & 0xFF) / 255

        /// Marks the pixels of row `y` whose centres are within [x0, x1] (pixel coordinates).
        func span(_ y: Int, _ x0: Float, _ x1: Float) {
            let a = Swift.max(0, Int((x0 - 0.5).rounded(.up)))
            let b = Swift.min(width - 1, Int((x1 - 0.5).rounded(.down)))
            guard a <= b else { return }
            for x in a...b { out[y * width + x] = label }
        }

        for y in top...bottom {
            let t = (part.base - (Float(y) + 0.5)) / part.height // 0 at the base, 1 at the top
            guard t >= 0, t <= 1 else { continue }
            let cx = part.x
            switch part.kind {
            case .conifer:
                if t < 0.1 {
                    span(y, cx - 0.07 * w, cx + 0.07 * w)
                } else {
                    let s = (1 - t) / 0.9 // 0 at the tip, 1 at the lowest branches
                    let tier = s * tiers - (s * tiers).rounded(.down)
                    let half = 0.5 * w * s * (0.55 + 0.45 * tier)
                    span(y, cx - Swift.max(half, 0.3), cx + Swift.max(half, 0.3))
                }
            case .broadleaf:
                let crown = (t - 0.6) / 0.4
                if crown > -1 {
                    let bump = 0.88 + 0.24 * Noise.value(Float(y) * 4 / part.height + wobble * 9,
                                                         seed: part.seed)
                    let half = 0.5 * w * (1 - crown * crown).squareRoot() * bump
                    span(y, cx - half, cx + half)
                }
                if t < 0.35 { span(y, cx - 0.06 * w, cx + 0.06 * w) }
            case .cactus:
                let stem = 0.11 * w
                if t < 0.92 {
                    span(y, cx - stem, cx + stem)
                } else {
                    let r = (t - 0.92) / 0.08
                    let half = stem * (1 - r * r).squareRoot()
                    span(y, cx - half, cx + half)
                }
                // Arms: a horizontal elbow and an upright, left lower than right.
                let left = cx - (0.3 + 0.1 * wobble) * w, right = cx + 0.36 * w
                if t >= 0.35 && t < 0.42 { span(y, left, cx) }
                if t >= 0.35 && t < 0.68 { span(y, left - 0.08 * w, left + 0.08 * w) }
                if t >= 0.5 && t < 0.57 { span(y, cx, right) }
                if t >= 0.5 && t < 0.8 { span(y, right - 0.08 * w, right + 0.08 * w) }
            case .rock:
                let lean = (wobble - 0.5) * 0.4 * w
                let half = 0.5 * w * (1 - t * t).squareRoot()
                span(y, cx - half + lean * t, cx + half + lean * t)
            }
        }
    }
}
