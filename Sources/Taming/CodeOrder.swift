import Tensors

/// The order in which a grid of codes h × w is read into a sequence for the transformer, and
/// written back (the reference's permuters, R: taming/modules/transformer/permuter.py).
///
/// The paper reads codes in raster order: row by row, left to right, so code i is predicted from
/// everything above it and everything to its left. The reference also ships a z-curve, spirals
/// and a fixed random permutation; they change what the context of each code is, not what is
/// modelled, so the likelihood of a whole picture can be compared across orders.
///
/// An order is a permutation π of the positions 0..<h·w (raster index r = row·w + column):
/// token i of the sequence is the code at raster position π(i).
///
///     let order = CodeOrder.zCurve
///     let sequence = order.sequence(fromRaster: codes, height: 4, width: 4)
///     order.raster(fromSequence: sequence, height: 4, width: 4) == codes   // true
public enum CodeOrder: Hashable, Sendable, CustomStringConvertible {
    /// Row by row, left to right (the paper's order; the reference's `Identity`).
    case raster
    /// The Morton curve: 2 × 2 blocks, then 2 × 2 blocks of those, each visited as a "Z"
    /// (top-left, top-right, bottom-left, bottom-right).
    case zCurve
    /// From the top-left corner clockwise around the border, ring by ring, to the centre.
    case spiralIn
    /// From the centre outwards: `spiralIn` reversed.
    case spiralOut
    /// A fixed random permutation drawn from `seed` (every picture uses the same one).
    case random(seed: UInt64)

    /// Every order, with the random one at a fixed seed.
    public static let all: [CodeOrder] = [.raster, .zCurve, .spiralIn, .spiralOut, .random(seed: 1)]

    /// The order's name on a command line: `raster`, `z-curve`, `spiral-in`, `spiral-out`, `random`.
    public var name: String {
        switch self {
        case .raster: return "raster"
        case .zCurve: return "z-curve"
        case .spiralIn: return "spiral-in"
        case .spiralOut: return "spiral-out"
        case .random: return "random"
        }
    }

    public var description: String {
        if case .random(let seed) = self { return "random (seed \(seed))" }
        return name
    }

    /// The order called `name` (see `name`); `random` takes `randomSeed`. Nil for an unknown name.
    public init?(name: String, randomSeed: UInt64 = 1) {
        switch name {
        case "raster": self = .raster
        case "z-curve": self = .zCurve
        case "spiral-in": self = .spiralIn
        case "spiral-out": self = .spiralOut
        case "random": self = .random(seed: randomSeed)
        default: return nil
        }
    }

    /// π: element i is the raster index (row·w + column) of the sequence's i-th token.
    public func positions(height h: Int, width w: Int) -> [Int] {
        precondition(h > 0 && w > 0, "a code grid of \(h) × \(w)") // invariant: grids come from images
        switch self {
        case .raster:
            return Array(0..<(h * w))
        case .zCurve:
            // Sorting by the interleaved bits of (row, column) visits any h × w grid along the
            // Morton curve of the enclosing power-of-two square, skipping what lies outside.
            return (0..<(h * w)).sorted { CodeOrder.morton($0 / w, $0 % w) < CodeOrder.morton($1 / w, $1 % w) }
        case .spiralIn:
            return CodeOrder.spiral(height: h, width: w)
        case .spiralOut:
            return CodeOrder.spiral(height: h, width: w).reversed()
        case .random(let seed):
            var rng = RandomGenerator(seed: seed)
            var order = Array(0..<(h * w))
            rng.shuffle(&order)
            return order
        }
    }

    /// π⁻¹: element r is the sequence index of the code at raster position r.
    public func inversePositions(height h: Int, width w: Int) -> [Int] {
        let forward = positions(height: h, width: w)
        var inverse = [Int](repeating: 0, count: forward.count)
        for (i, r) in forward.enumerated() { inverse[r] = i }
        return inverse
    }

    /// The sequence of a grid given in raster order: element i is `grid[π(i)]`.
    public func sequence<Element>(fromRaster grid: [Element], height h: Int, width w: Int) -> [Element] {
        precondition(grid.count == h * w, "\(grid.count) codes for a \(h) × \(w) grid") // invariant: a programming error, not user input
        return positions(height: h, width: w).map { grid[$0] }
    }

    /// The grid in raster order of a sequence in this order (the inverse of `sequence`).
    public func raster<Element>(fromSequence sequence: [Element], height h: Int, width w: Int) -> [Element] {
        precondition(sequence.count == h * w, "\(sequence.count) codes for a \(h) × \(w) grid") // invariant: a programming error, not user input
        return inversePositions(height: h, width: w).map { sequence[$0] }
    }

    /// The Morton key of (row, column): their bits interleaved, the column's in the even places.
    static func morton(_ row: Int, _ column: Int) -> Int {
        var key = 0
        for bit in 0..<31 {
            key |= ((column >> bit) & 1) << (2 * bit)
            key |= ((row >> bit) & 1) << (2 * bit + 1)
        }
        return key
    }

    /// Clockwise from the top-left corner, ring by ring towards the centre.
    static func spiral(height h: Int, width w: Int) -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(h * w)
        var (top, bottom, left, right) = (0, h - 1, 0, w - 1)
        while top <= bottom && left <= right {
            for c in left...right { out.append(top * w + c) }
            if top < bottom { for r in (top + 1)...bottom { out.append(r * w + right) } }
            if top < bottom && left < right {
                for c in stride(from: right - 1, through: left, by: -1) { out.append(bottom * w + c) }
                if top + 1 <= bottom - 1 {
                    for r in stride(from: bottom - 1, through: top + 1, by: -1) { out.append(r * w + left) }
                }
            }
            top += 1; bottom -= 1; left += 1; right -= 1
        }
        return out
    }
}
