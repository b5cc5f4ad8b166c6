@testable import Taming
import Testing

@Suite struct CodeOrderTests {
    static let sizes: [(Int, Int)] = [(1, 1), (1, 6), (5, 1), (3, 5), (4, 4), (7, 2), (16, 16)]

    /// Every order visits each position of the grid exactly once, and reading a grid into a
    /// sequence and writing it back gives the grid.
    @Test(arguments: CodeOrder.all + [.random(seed: 9)])
    func ordersArePermutationsThatInvert(order: CodeOrder) {
        for (h, w) in Self.sizes {
            let positions = order.positions(height: h, width: w)
            #expect(positions.sorted() == Array(0..<(h * w)), "\(order) on \(h)×\(w) is not a permutation")
            let inverse = order.inversePositions(height: h, width: w)
            #expect(positions.indices.allSatisfy { inverse[positions[$0]] == $0 })
            let grid = (0..<(h * w)).map { $0 * 7 + 3 }
            let sequence = order.sequence(fromRaster: grid, height: h, width: w)
            #expect(sequence == positions.map { grid[$0] })
            #expect(order.raster(fromSequence: sequence, height: h, width: w) == grid)
        }
    }

    @Test func theReferenceOrdersOnSmallGrids() {
        #expect(CodeOrder.raster.positions(height: 2, width: 3) == [0, 1, 2, 3, 4, 5])
        // Z-curve on 4×4: each 2×2 block as a "Z", the blocks themselves as a "Z".
        #expect(CodeOrder.zCurve.positions(height: 4, width: 4)
                == [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15])
        // On a 3×3 grid the curve of the enclosing 4×4 square, skipping what lies outside.
        #expect(CodeOrder.zCurve.positions(height: 3, width: 3) == [0, 1, 3, 4, 2, 5, 6, 7, 8])
        // Spiral: clockwise around the border from the top-left corner, then inwards.
        #expect(CodeOrder.spiralIn.positions(height: 3, width: 3) == [0, 1, 2, 5, 8, 7, 6, 3, 4])
        #expect(CodeOrder.spiralIn.positions(height: 3, width: 4) == [0, 1, 2, 3, 7, 11, 10, 9, 8, 4, 5, 6])
        #expect(CodeOrder.spiralOut.positions(height: 3, width: 3) == [4, 3, 6, 7, 8, 5, 2, 1, 0])
    }

    /// A random order depends only on its seed.
    @Test func randomOrdersAreFixedBySeed() {
        let a = CodeOrder.random(seed: 3).positions(height: 8, width: 8)
        #expect(a == CodeOrder.random(seed: 3).positions(height: 8, width: 8))
        #expect(a != CodeOrder.random(seed: 4).positions(height: 8, width: 8))
        #expect(a != CodeOrder.raster.positions(height: 8, width: 8))
    }

    @Test func namesRoundTrip() {
        for order in CodeOrder.all { #expect(CodeOrder(name: order.name) == order) }
        #expect(CodeOrder(name: "random", randomSeed: 5) == .random(seed: 5))
        #expect(CodeOrder(name: "hilbert") == nil)
    }
}
