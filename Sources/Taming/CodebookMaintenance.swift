import Foundation
import Tensors

/// What the reference lacks and every later VQ implementation adds: ways to keep the codebook
/// alive. A codebook initialised at random near zero (uniform ±1/K) sits far from the encoder's
/// outputs; the nearest code wins everything and the rest never move (codebook collapse).
///
/// - k-means initialisation: place the codes on cluster centres of real encoder outputs, so every
///   code starts where data is (karpathy/deep-vector-quantization does this on the first batch).
/// - Dead-code restart: a code unused for a while jumps to a recent encoder output, drawn with
///   probability ∝ its squared distance to the nearest code (k-means++'s rule).
/// - EMA updates: codes move to the running mean of the vectors assigned to them, instead of by
///   gradient descent on the codebook loss (VQ-VAE paper, appendix; decay 0.99, Laplace smoothing).
public struct CodebookOptions: Codable, Equatable, Sendable {
    /// Initialise the codebook by k-means on the first batch's encoder outputs.
    public var kMeansInit: Bool
    /// Restart codes unused for this many steps (nil: never).
    public var restartAfter: Int?
    /// Update codes by exponential moving averages instead of the codebook loss.
    public var ema: Bool
    public var emaDecay: Float
    public var emaEpsilon: Float

    public init(kMeansInit: Bool = true, restartAfter: Int? = 100, ema: Bool = false,
                emaDecay: Float = 0.99, emaEpsilon: Float = 1e-5) {
        self.kMeansInit = kMeansInit; self.restartAfter = restartAfter; self.ema = ema
        self.emaDecay = emaDecay; self.emaEpsilon = emaEpsilon
    }

    /// The reference's behaviour: none of these.
    public static let reference = CodebookOptions(kMeansInit: false, restartAfter: nil, ema: false)
}

/// The state codebook maintenance carries between steps.
public final class CodebookMaintainer {
    public let options: CodebookOptions
    /// Steps since each code was last chosen.
    public private(set) var idleSteps: [Int]
    /// EMA statistics: how many vectors each code received, and their sum [K, D].
    private var clusterSize: [Float]
    private var embedSum: [Float]
    public private(set) var initialized = false
    private var emaReady = false
    /// Codes restarted so far, for the book's plots.
    public private(set) var restarts = 0

    /// Marks the codebook as initialised (when resuming a run whose codebook was already set).
    public func skipInitialization() { initialized = true }

    public init(options: CodebookOptions, codebookSize k: Int, dimension d: Int) {
        self.options = options
        idleSteps = [Int](repeating: 0, count: k)
        clusterSize = [Float](repeating: 0, count: k)
        embedSum = [Float](repeating: 0, count: k * d)
    }

    /// Call with the continuous latents ẑ [N, D] (detached) and their codes after each training
    /// step. Initialises by k-means on the first call (if enabled), applies the EMA update and
    /// restarts dead codes.
    public func update(_ vq: VectorQuantizer, vectors: Tensor, indices: [Int], rng: inout RandomGenerator) {
        let codebook = vq.embedding.weight
        let (k, d) = (codebook.shape[0], codebook.shape[1])
        let n = vectors.shape[0]
        let z = vectors.scalars
        if !initialized {
            initialized = true
            if options.kMeansInit {
                let centres = kMeans(z, count: n, dimension: d, clusters: k, iterations: 10, rng: &rng)
                codebook.withUnsafeMutableBufferPointer { w in for i in 0..<(k * d) { w[i] = centres[i] } }
                return
            }
        }
        if options.ema && !emaReady {
            // Start the EMA statistics at the current codebook, as if each code had seen one vector.
            embedSum = codebook.scalars
            clusterSize = [Float](repeating: 1, count: k)
            emaReady = true
        }
        var counts = [Float](repeating: 0, count: k)
        for i in indices { counts[i] += 1 }
        if options.ema {
            let decay = options.emaDecay
            var sums = [Float](repeating: 0, count: k * d)
            for (row, code) in indices.enumerated() {
                for j in 0..<d { sums[code * d + j] += z[row * d + j] }
            }
            for c in 0..<k { clusterSize[c] = decay * clusterSize[c] + (1 - decay) * counts[c] }
            for i in 0..<(k * d) { embedSum[i] = decay * embedSum[i] + (1 - decay) * sums[i] }
            // Laplace smoothing keeps unused codes from dividing by zero.
            let total = clusterSize.reduce(0, +)
            let eps = options.emaEpsilon
            codebook.withUnsafeMutableBufferPointer { w in
                for c in 0..<k {
                    let size = (clusterSize[c] + eps) / (total + Float(k) * eps) * total
                    for j in 0..<d { w[c * d + j] = embedSum[c * d + j] / size }
                }
            }
        }
        guard let patience = options.restartAfter else { return }
        for c in 0..<k { idleSteps[c] = counts[c] > 0 ? 0 : idleSteps[c] + 1 }
        let dead = (0..<k).filter { idleSteps[$0] >= patience }
        guard !dead.isEmpty, n > 0 else { return }
        // Each dead code restarts at a vector drawn with probability ∝ its squared distance to the
        // nearest code (k-means++'s rule), so restarts go where the codebook fits the data worst —
        // the rare colours and patterns — rather than where vectors are already crowded.
        var error = [Float](repeating: 0, count: n)
        codebook.withUnsafeMutableBufferPointer { w in
            for (row, code) in indices.enumerated() {
                var s: Float = 0
                for j in 0..<d { let t = z[row * d + j] - w[code * d + j]; s += t * t }
                error[row] = s
            }
            for c in dead {
                let row = drawFarPoint(error, rng: &rng)
                for j in 0..<d { w[c * d + j] = z[row * d + j] }
                lowerNearest(&error, points: z, dimension: d, to: row)
                if options.ema {
                    clusterSize[c] = 1
                    for j in 0..<d { embedSum[c * d + j] = z[row * d + j] }
                }
                idleSteps[c] = 0
            }
        }
        restarts += dead.count
    }
}

/// Lloyd's k-means on `count` points of dimension `d` (row-major), seeded by k-means++ and run for
/// `iterations` rounds; empty clusters take a random point. Returns the centres [clusters, d].
public func kMeans(_ points: [Float], count n: Int, dimension d: Int, clusters k: Int, iterations: Int,
                   rng: inout RandomGenerator) -> [Float] {
    precondition(n > 0, "k-means needs points") // invariant: callers pass a non-empty batch
    let x = Tensor(shape: [n, d], points)
    var centres = [Float](repeating: 0, count: k * d)
    // k-means++: each new centre drawn with probability ∝ squared distance to the nearest chosen.
    var nearest = [Float](repeating: .infinity, count: n)
    var chosen = rng.int(below: n)
    for c in 0..<k {
        for j in 0..<d { centres[c * d + j] = points[chosen * d + j] }
        if c == k - 1 { break }
        lowerNearest(&nearest, points: points, dimension: d, to: chosen)
        chosen = drawFarPoint(nearest, rng: &rng)
    }
    for _ in 0..<iterations {
        let assignment = pairwiseSquaredDistances(x, Tensor(shape: [k, d], centres)).argminLast()
        var sums = [Float](repeating: 0, count: k * d), sizes = [Int](repeating: 0, count: k)
        for (i, c) in assignment.enumerated() {
            sizes[c] += 1
            for j in 0..<d { sums[c * d + j] += points[i * d + j] }
        }
        for c in 0..<k {
            if sizes[c] == 0 {
                let i = rng.int(below: n)
                for j in 0..<d { centres[c * d + j] = points[i * d + j] }
            } else {
                for j in 0..<d { centres[c * d + j] = sums[c * d + j] / Float(sizes[c]) }
            }
        }
    }
    return centres
}

/// k-means++'s draw: a point with probability ∝ its squared distance to the nearest centre
/// (`nearest`), or uniformly when every point sits on a centre.
func drawFarPoint(_ nearest: [Float], rng: inout RandomGenerator) -> Int {
    nearest.reduce(0, +) > 0 ? rng.categorical(nearest) : rng.int(below: nearest.count)
}

/// Lowers each point's squared distance to its nearest centre (`nearest`) for a new centre at
/// point `centre` of `points` ([N, D], row-major).
func lowerNearest(_ nearest: inout [Float], points: [Float], dimension d: Int, to centre: Int) {
    for i in 0..<nearest.count {
        var s: Float = 0
        for j in 0..<d { let t = points[i * d + j] - points[centre * d + j]; s += t * t }
        nearest[i] = min(nearest[i], s)
    }
}
