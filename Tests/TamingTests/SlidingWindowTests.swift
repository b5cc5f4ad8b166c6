import Foundation
import NN
@testable import Taming
import Tensors
import TestSupport
import Testing

@Suite struct SlidingWindowTests {
    // MARK: The window rule

    /// The reference's rule for a 16-code window on a 64-code axis, worked by hand: flush with the
    /// start up to 8, centred (8 before) inside, flush with the end once fewer than 8 codes remain.
    @Test func localOffsetsAreTheReferenceRule() {
        let expected: [(Int, Int)] = [(0, 0), (3, 3), (8, 8), (9, 8), (30, 8), (56, 8), (57, 9), (60, 12), (63, 15)]
        for (i, local) in expected {
            #expect(SlidingWindow.localOffset(i, extent: 64, window: 16) == local, "position \(i)")
        }
        // The window always lies on the grid and holds the position.
        for extent in [8, 9, 17, 40] {
            for i in 0..<extent {
                let local = SlidingWindow.localOffset(i, extent: extent, window: 8)
                #expect(local >= 0 && local < 8 && i - local >= 0 && i - local + 8 <= extent, "\(i) of \(extent)")
            }
        }
    }

    /// A run of columns shares one window that holds every column of the run; a run of one is the
    /// code's own placement.
    @Test func runsShareAWindowThatHoldsThem() {
        let window = SlidingWindow(gridHeight: 12, gridWidth: 20, windowHeight: 8, windowWidth: 8)
        for row in 0..<12 {
            for column in 0..<20 {
                #expect(window.placement(row: row, columns: column..<(column + 1)) == window.placement(row: row, column: column))
            }
            for start in stride(from: 0, to: 20, by: 4) {
                let p = window.placement(row: row, columns: start..<min(20, start + 4))
                #expect(p.left <= start && p.left + 8 >= min(20, start + 4) && p.left >= 0 && p.left + 8 <= 20)
                #expect(p.left + p.localColumn == start && p.top + p.localRow == row)
            }
        }
        #expect(window.placement(row: 6, columns: 8..<12) == .init(top: 2, left: 6, localRow: 4, localColumn: 2))
    }

    @Test func cropReadsTheWindowInRasterOrder() {
        let window = SlidingWindow(gridHeight: 3, gridWidth: 4, windowHeight: 2, windowWidth: 2)
        #expect(window.crop(Array(0..<12), top: 1, left: 2) == [6, 7, 10, 11])
    }

    // MARK: Sampling

    /// When the grid is the window, the window never moves and every method is ordinary
    /// generation: greedy drawing gives `sampleCodes`' codes.
    @Test(arguments: [SlidingWindowMethod.faithful, .strided(1), .strided(3), .strided(4)])
    func aGridOfOneWindowIsOrdinarySampling(method: SlidingWindowMethod) {
        let model = TwoStageModelTests.model()
        var rng = RandomGenerator(seed: 1)
        let plain = model.sampleCodes(count: 2, sampler: .greedy, rng: &rng)
        let grid = model.sampleGrid(height: 4, width: 4, conditioning: [.prefix([0]), .prefix([0])], method: method,
                                    sampler: .greedy, seed: 9)
        #expect(grid == plain)
    }

    /// The faithful sampler (a full pass per code) and the cache-aware one at stride 1 (a cached
    /// prefix per code) place the same windows, so with the same seed they draw the same codes;
    /// a wider stride places other windows and draws other codes.
    @Test func strideOneIsTheFaithfulSampler() {
        let model = TwoStageModelTests.model(prefix: 16)
        var rng = RandomGenerator(seed: 4)
        let (h, w) = (6, 9)
        let conditioning = (0..<2).map { _ in GridConditioning.spatial((0..<(h * w)).map { _ in rng.int(below: 3) }) }
        let sampler = TokenSampler(topK: 5)
        var counted: [Int] = []
        let faithful = model.sampleGrid(height: h, width: w, conditioning: conditioning, method: .faithful,
                                        sampler: sampler, seed: 7) { counted.append($0) }
        let cached = model.sampleGrid(height: h, width: w, conditioning: conditioning, method: .strided(1),
                                      sampler: sampler, seed: 7)
        let wide = model.sampleGrid(height: h, width: w, conditioning: conditioning, method: .strided(4),
                                    sampler: sampler, seed: 7)
        #expect(faithful == cached)
        #expect(faithful != wide)
        #expect(counted == Array(1...(h * w)))
        #expect(faithful.allSatisfy { $0.count == h * w && $0.allSatisfy { (0..<8).contains($0) } })
        let other = model.sampleGrid(height: h, width: w, conditioning: conditioning, method: .faithful,
                                     sampler: sampler, seed: 8)
        #expect(faithful != other, "another seed draws other codes")
    }

    /// Each code a greedy sampler draws is the most likely code of its window given the codes
    /// drawn before it — which is what teacher forcing on the finished grid computes, with the
    /// same windows. So the waves of the cache-aware sampler show every run exactly the context
    /// the raster order would.
    @Test(arguments: [SlidingWindowMethod.faithful, .strided(2), .strided(3), .strided(4)])
    func greedyCodesAreTheArgmaxOfTheirWindows(method: SlidingWindowMethod) {
        let model = TwoStageModelTests.model(prefix: 16)
        var rng = RandomGenerator(seed: 6)
        let (h, w) = (7, 11)
        let conditioning = (0..<2).map { _ in GridConditioning.spatial((0..<(h * w)).map { _ in rng.int(below: 3) }) }
        let codes = model.sampleGrid(height: h, width: w, conditioning: conditioning, method: method, sampler: .greedy, seed: 1)
        let distributions = model.gridDistributions(codes: codes, height: h, width: w, conditioning: conditioning, method: method)
        let p = distributions.scalars
        for b in 0..<2 {
            for position in 0..<(h * w) {
                let row = Array(p[((b * h * w + position) * 8)..<((b * h * w + position + 1) * 8)])
                #expect(codes[b][position] == row.indices.max { row[$0] < row[$1] }!, "grid \(b), code \(position)")
            }
        }
    }

    /// Teacher-forced distributions: each row sums to 1; the stride-1 distributions are the
    /// faithful ones; and the distribution at a position is the softmax of the window's logits,
    /// computed here from one ordinary forward pass of that window.
    @Test func gridDistributionsAreTheWindowsPredictions() throws {
        let model = TwoStageModelTests.model()
        var rng = RandomGenerator(seed: 5)
        let (h, w) = (5, 7)
        let codes = [(0..<(h * w)).map { _ in rng.int(below: 8) }]
        let faithful = model.gridDistributions(codes: codes, height: h, width: w, conditioning: [.prefix([0])],
                                               method: .faithful)
        let strided = model.gridDistributions(codes: codes, height: h, width: w, conditioning: [.prefix([0])],
                                              method: .strided(4))
        #expect(faithful.shape == [1, h * w, 8])
        let sums = faithful.sum(axes: [2]).scalars
        #expect(sums.allSatisfy { abs($0 - 1) < 1e-4 })
        expectClose(model.gridDistributions(codes: codes, height: h, width: w, conditioning: [.prefix([0])],
                                            method: .strided(1)), faithful, rtol: 1e-4, atol: 1e-5)
        // Position (3, 6): the window's top-left is (1, 3), the code sits at local (2, 3).
        let window = SlidingWindow(gridHeight: h, gridWidth: w, windowHeight: 4, windowWidth: 4)
        let place = window.placement(row: 3, column: 6)
        #expect(place == .init(top: 1, left: 3, localRow: 2, localColumn: 3))
        let tokens = [model.layout.startToken] + window.crop(codes[0], top: 1, left: 3)
        let logits = withNoGrad { model.transformer([Array(tokens.dropLast())]) }    // [1, 16, V]
        let row = softmax(logits.slice(axis: 1, 11..<12).slice(axis: 2, 0..<8).reshaped([8]), axis: 0)
        expectClose(faithful.slice(axis: 1, (3 * w + 6)..<(3 * w + 7)).reshaped([8]), row, rtol: 1e-4, atol: 1e-5)
        // Code (3, 4) is drawn from its own window (left 2) by the faithful sampler, but from the
        // window of the run 4..<7 (left 3) at stride 4: another context, another prediction.
        #expect(window.placement(row: 3, column: 4).left == 2 && window.placement(row: 3, columns: 4..<7).left == 3)
        #expect(strided.slice(axis: 1, (3 * w + 4)..<(3 * w + 5)).scalars != faithful.slice(axis: 1, (3 * w + 4)..<(3 * w + 5)).scalars)
    }

    // MARK: Tiles

    @Test func tileStartsCoverTheAxisAndEndFlush() {
        #expect(TiledCodes.starts(extent: 20, tile: 8, step: 6) == [0, 6, 12])
        #expect(TiledCodes.starts(extent: 16, tile: 8, step: 8) == [0, 8])
        #expect(TiledCodes.starts(extent: 17, tile: 8, step: 8) == [0, 8, 9])
        #expect(TiledCodes.starts(extent: 5, tile: 8, step: 8) == [0])
    }

    /// Tiled encoding keeps each tile's own codes: with a margin as large as the grid it is the
    /// whole picture's encoding; decoding in one tile is the whole decode, and in overlapping
    /// tiles it is a weighted mean of tile decodes (here, of codes that decode to a constant
    /// picture per tile, so the blend stays within their range and is exact away from overlaps).
    @Test func tiledEncodingAndDecoding() {
        let tokenizer = TwoStageModelTests.firstStage()
        let x = TwoStageModelTests.pictures(1, side: 24)           // a 12×12 grid at f = 2
        let whole = tokenizer.encode(x)[0]
        #expect(tokenizer.encodeTiled(x, tile: 4, margin: 12) == whole)
        let tiled = tokenizer.encodeTiled(x, tile: 4, margin: 1)
        #expect(tiled.count == 144 && tiled.allSatisfy { (0..<8).contains($0) })
        expectClose(tokenizer.decodeTiled(whole, height: 12, width: 12, tile: 12, overlap: 0),
                    tokenizer.decode([whole], height: 12, width: 12), rtol: 1e-5, atol: 1e-5)
        let blended = tokenizer.decodeTiled(whole, height: 12, width: 12, tile: 6, overlap: 2)
        #expect(blended.shape == [1, 3, 24, 24])
        // The top-left 4×4 codes (8×8 pixels) belong to the first tile alone.
        let first = tokenizer.decode([Array((0..<6).flatMap { r in whole[(r * 12)..<(r * 12 + 6)] })], height: 6, width: 6)
        expectClose(blended.slice(axis: 2, 0..<8).slice(axis: 3, 0..<8), first.slice(axis: 2, 0..<8).slice(axis: 3, 0..<8),
                    rtol: 1e-5, atol: 1e-5)
    }

    @Test func blendingWeightsRampAcrossOverlaps() {
        #expect(TiledCodes.weight(0, size: 16, ramp: 4, atStart: true, atEnd: false) == 1)
        #expect(TiledCodes.weight(0, size: 16, ramp: 4, atStart: false, atEnd: false) == 0.125)
        #expect(TiledCodes.weight(15, size: 16, ramp: 4, atStart: false, atEnd: false) == 0.125)
        #expect(TiledCodes.weight(8, size: 16, ramp: 4, atStart: false, atEnd: false) == 1)
        // Two tiles overlapping by the ramp: their weights sum to 1 across the overlap.
        for x in 0..<4 {
            let a = TiledCodes.weight(12 + x, size: 16, ramp: 4, atStart: true, atEnd: false)
            let b = TiledCodes.weight(x, size: 16, ramp: 4, atStart: false, atEnd: true)
            #expect(abs(a + b - 1) < 1e-6)
        }
    }
}
