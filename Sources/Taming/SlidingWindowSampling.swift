import Foundation
import NN
import Tensors

// Shape letters: B grids drawn together, H × W the large code grid, h × w the trained window,
// P prefix tokens, N = h·w window codes, K image codes, V vocabulary.

/// What each window of a large grid is conditioned on.
public enum GridConditioning: Equatable, Sendable {
    /// The same P conditioning values for every window: `[0]` for an unconditional model's start
    /// token, `[c]` for a class.
    case prefix([Int])
    /// Conditioning values on the code grid itself (H·W, raster), such as a segmentation map's
    /// cond-stage codes: every window reads the h × w crop under it (P = h·w).
    case spatial([Int])
}

/// How a large grid is drawn with a window (`SlidingWindow`).
public enum SlidingWindowMethod: Equatable, Sendable {
    /// The reference's algorithm: for every code, the window placed for that code, one full
    /// forward pass of P + N − 1 tokens, one code kept. H·W full passes.
    case faithful
    /// The cache-aware variant: the codes of a row go in runs of `stride` columns; one window,
    /// placed for the run's middle, draws the whole run. Its prefix (conditioning and the window's
    /// codes before the run) is read once into the key-value cache, then each code of the run is
    /// one single-token step. stride 1 is the faithful placement with a cached prefix.
    case strided(Int)
}

extension TwoStageModel {
    /// Draws B code grids of `height`×`width` (at least the trained window, `grid`) with the
    /// sliding window: the codes in raster order, each predicted by the transformer from the
    /// window that `method` places for it, with `sampler` (its token limit lowered to K).
    ///
    /// The random draw of position p of grid b uses its own generator, seeded from (`seed`, b, p),
    /// so two methods given the same seed draw the same code wherever their distributions agree
    /// (inverse-CDF sampling with a shared uniform): the fraction of equal codes measures how far
    /// they are from each other. Returns B arrays of H·W codes, raster order; `onToken` is told
    /// how many positions of each grid are done.
    ///
    /// With `given` (B grids of H·W codes) and `positions` (raster indices), only those codes are
    /// drawn and the given codes stand elsewhere: a picture continued downwards, or a band of
    /// codes timed alone.
    public func sampleGrid(height: Int, width: Int, conditioning: [GridConditioning], method: SlidingWindowMethod,
                           sampler: TokenSampler, seed: UInt64, given: [[Int]]? = nil, positions: Range<Int>? = nil,
                           onToken: ((Int) -> Void)? = nil) -> [[Int]] {
        let window = SlidingWindow(gridHeight: height, gridWidth: width, windowHeight: grid.height, windowWidth: grid.width)
        checkConditioning(conditioning, window: window)
        precondition(given.map { $0.count == conditioning.count && $0.allSatisfy { $0.count == height * width } } ?? true  // invariant: a programming error, not user input
                     && positions.map { $0.lowerBound >= 0 && $0.upperBound <= height * width } ?? true,
                     "given grids of \(height)·\(width) codes, one per conditioning, and positions on the grid")
        var imageSampler = sampler
        imageSampler.tokenLimit = min(sampler.tokenLimit ?? layout.codebookSize, layout.codebookSize)
        var codes = given ?? [[Int]](repeating: [Int](repeating: 0, count: height * width), count: conditioning.count)
        var drawn = runs(of: window, method: method)
        if let positions {
            drawn = drawn.compactMap { run in
                var run = run
                let first = max(run.columns.lowerBound, positions.lowerBound - run.row * width)
                let end = min(run.columns.upperBound, positions.upperBound - run.row * width)
                guard first < end else { return nil }
                run.placement.localColumn += first - run.columns.lowerBound
                run.columns = first..<end
                return run
            }
        }
        let wasTraining = transformer.isTraining
        transformer.eval()
        defer { transformer.train(wasTraining) }
        withNoGrad {
            var done = 0
            if case .faithful = method {
                // The reference: for every code the whole window, placeholders and all (the
                // causal mask keeps the codes after the new one out), and one logit row kept.
                let caches = transformer.makeCaches()
                for run in drawn {
                    let n = layout.prefixLength - 1 + run.placement.localIndex(windowWidth: window.windowWidth)
                    for cache in caches { cache.reset() }
                    let tokens = codes.indices.map { b in
                        Array(windowTokens(b, run.placement, window, codes, conditioning).dropLast())
                    }
                    let logits = transformer.cachedForward(tokens, caches: caches)     // [B, P + N − 1, V]
                    let b = codes.count
                    draw(logits, rows: Array(repeating: n, count: b),
                         positions: Array(repeating: run.row * width + run.columns.lowerBound, count: b),
                         grids: Array(0..<b), into: &codes, sampler: imageSampler, seed: seed)
                    done += 1
                    onToken?(done)
                }
                return
            }
            // Cache-aware: runs in waves. A run needs the run to its left and, in the rows above,
            // the codes up to its window's right edge; every run whose needs are met by earlier
            // waves goes in the next wave, and the runs of a wave whose prefixes are equally long
            // share one batch — one prefix pass, then one step per code for all of them. The
            // codes each run sees are those the raster order would show it, and every code has
            // its own random stream, so the waves draw exactly the codes of a run-by-run loop.
            var pools: [Int: [LayerCache]] = [:]
            for wave in waves(drawn, window: window) {
                let groups = Dictionary(grouping: wave) {
                    [$0.placement.localIndex(windowWidth: window.windowWidth), $0.columns.count]
                }
                for key in groups.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                    let group = groups[key]! // invariant: a key of the dictionary
                    let members = group.flatMap { run in codes.indices.map { (run, $0) } }   // (run, grid)
                    let caches = pools[members.count] ?? transformer.makeCaches()
                    pools[members.count] = caches
                    for cache in caches { cache.reset() }
                    let n = layout.prefixLength + key[0]                                  // prefix tokens
                    var feed = members.map { run, b in
                        Array(windowTokens(b, run.placement, window, codes, conditioning).prefix(n))
                    }
                    for k in 0..<key[1] {
                        let logits = transformer.cachedForward(feed, caches: caches)   // [R·B, t, V]
                        let positions = members.map { run, _ in run.row * width + run.columns.lowerBound + k }
                        draw(logits, rows: Array(repeating: logits.shape[1] - 1, count: members.count),
                             positions: positions, grids: members.map(\.1), into: &codes, sampler: imageSampler, seed: seed)
                        if k + 1 < key[1] { feed = zip(members, positions).map { [codes[$0.1][$1]] } }
                    }
                    done += group.count * key[1]
                }
                onToken?(done)
            }
        }
        return codes
    }

    /// The runs in waves: a run's wave is one more than the latest of the run to its left and
    /// the run of the row above that holds its window's right edge (given codes, outside the
    /// runs, are ready from the start).
    func waves(_ runs: [WindowRun], window: SlidingWindow) -> [[WindowRun]] {
        var waveAt = [Int](repeating: 0, count: window.gridHeight * window.gridWidth)   // per code: its run's wave
        var waves: [[WindowRun]] = []
        for run in runs {
            let row = run.row * window.gridWidth
            let left = run.columns.lowerBound > 0 ? waveAt[row + run.columns.lowerBound - 1] : 0
            let edge = min(window.gridWidth - 1, run.placement.left + window.windowWidth - 1)
            let above = run.row > 0 ? waveAt[row - window.gridWidth + edge] : 0
            let wave = max(left, above) + 1
            for column in run.columns { waveAt[row + column] = wave }
            if waves.count < wave { waves.append(contentsOf: Array(repeating: [], count: wave - waves.count)) }
            waves[wave - 1].append(run)
        }
        return waves
    }

    /// The distributions over the K codes that `method`'s windows predict for every position of
    /// the given grids (B arrays of H·W codes, raster), each from the grid's own codes before it —
    /// teacher forcing, nothing drawn: [B, H·W, K] probabilities (temperature 1, no filtering).
    /// Comparing two methods on the same grids compares what they would draw from at each code;
    /// the probability of the true code gives each method's bits per code.
    public func gridDistributions(codes: [[Int]], height: Int, width: Int, conditioning: [GridConditioning],
                                  method: SlidingWindowMethod) -> Tensor {
        let window = SlidingWindow(gridHeight: height, gridWidth: width, windowHeight: grid.height, windowWidth: grid.width)
        checkConditioning(conditioning, window: window)
        precondition(codes.count == conditioning.count && codes.allSatisfy { $0.count == height * width },  // invariant: a programming error, not user input
                     "one grid of \(height)·\(width) codes per conditioning")
        let (b, k, v) = (codes.count, layout.codebookSize, layout.vocabularySize)
        let out = Tensor.zeros([b, height * width, k])
        let po = out.storage.pointer
        let caches = transformer.makeCaches()
        let wasTraining = transformer.isTraining
        transformer.eval()
        defer { transformer.train(wasTraining) }
        withNoGrad {
            for run in runs(of: window, method: method) {
                let place = run.placement
                let n = layout.prefixLength - 1 + place.localIndex(windowWidth: window.windowWidth)
                for cache in caches { cache.reset() }
                // The prefix and the run's codes but its last: one pass predicts the whole run.
                let tokens = codes.indices.map { i in
                    Array(windowTokens(i, place, window, codes, conditioning).prefix(n + run.columns.count))
                }
                let logits = transformer.cachedForward(tokens, caches: caches)            // [B, t, V]
                let t = logits.shape[1], pl = logits.storage.pointer
                for i in 0..<b {
                    for (r, column) in run.columns.enumerated() {
                        let row = pl + (i * t + n + r) * v
                        let target = po + (i * height * width + run.row * width + column) * k
                        var largest = -Float.infinity
                        for j in 0..<k { largest = max(largest, row[j]) }
                        var sum: Float = 0
                        for j in 0..<k { target[j] = Foundation.exp(row[j] - largest); sum += target[j] }
                        for j in 0..<k { target[j] /= sum }
                    }
                }
            }
        }
        return out
    }

    /// One window placement and the run of codes (one row, consecutive columns) it draws.
    struct WindowRun {
        var row: Int
        var columns: Range<Int>
        var placement: SlidingWindow.Placement
    }

    /// The runs `method` draws a grid in: raster order, one code per run (faithful) or `stride`.
    func runs(of window: SlidingWindow, method: SlidingWindowMethod) -> [WindowRun] {
        let stride: Int
        switch method {
        case .faithful: stride = 1
        case .strided(let s):
            precondition(s >= 1 && s <= window.windowWidth, "a stride of \(s) in a window \(window.windowWidth) wide") // invariant: callers check strides
            stride = s
        }
        var runs: [WindowRun] = []
        for row in 0..<window.gridHeight {
            for start in Swift.stride(from: 0, to: window.gridWidth, by: stride) {
                let columns = start..<min(window.gridWidth, start + stride)
                runs.append(WindowRun(row: row, columns: columns,
                                      placement: stride == 1 ? window.placement(row: row, column: start)
                                                             : window.placement(row: row, columns: columns)))
            }
        }
        return runs
    }

    /// The tokens of grid `b` under the window at `place`: the prefix (conditioning tokens, the
    /// spatial ones cropped alongside), then the window's h·w codes in raster order.
    private func windowTokens(_ b: Int, _ place: SlidingWindow.Placement, _ window: SlidingWindow, _ codes: [[Int]],
                              _ conditioning: [GridConditioning]) -> [Int] {
        let prefix: [Int]
        switch conditioning[b] {
        case .prefix(let values): prefix = layout.prefix(conditioning: values)
        case .spatial(let values): prefix = layout.prefix(conditioning: window.crop(values, top: place.top, left: place.left))
        }
        return prefix + window.crop(codes[b], top: place.top, left: place.left)
    }

    /// Draws, for each sequence i of logits [S, t, V], the code at `positions[i]` of grid
    /// `grids[i]` from logit row `rows[i]`.
    private func draw(_ logits: Tensor, rows: [Int], positions: [Int], grids: [Int], into codes: inout [[Int]],
                      sampler: TokenSampler, seed: UInt64) {
        let (t, v) = (logits.shape[1], logits.shape[2])
        for i in 0..<logits.shape[0] {
            let (b, position) = (grids[i], positions[i])
            let start = (i * t + rows[i]) * v
            let one = Tensor.make([1, v]) { $0.baseAddress!.update(from: logits.storage.pointer + start, count: v) }
            var rng = RandomGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(b * 0x1_0000_0000 + position + 1))
            codes[b][position] = sampler(one, rng: &rng)[0]
        }
    }

    private func checkConditioning(_ conditioning: [GridConditioning], window: SlidingWindow) {
        precondition(!conditioning.isEmpty, "at least one grid") // invariant: a programming error, not user input
        for c in conditioning {
            switch c {
            case .prefix(let values):
                precondition(values.count == layout.prefixLength, "\(values.count) conditioning values for a prefix of \(layout.prefixLength)") // invariant: a programming error, not user input
            case .spatial(let values):
                precondition(layout.prefixLength == layout.imageLength && values.count == window.gridHeight * window.gridWidth,  // invariant: a programming error, not user input
                             "spatial conditioning needs a prefix as large as the window and one value per code")
            }
        }
    }
}
