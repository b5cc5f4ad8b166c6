import Datasets
import Dispatch
import Tensors

/// One kernel to time. `prepare` allocates the inputs (untimed) and returns the timed body.
///
/// Flop counts are nominal and explicit (multiply and add count as two):
/// - GEMM C[M,N] = A[M,K]·B[K,N]: 2·M·N·K; its backward (dA and dB) is two such products: 2×.
/// - conv2d forward: 2·B·Cout·Hout·Wout·Cin·kh·kw; backward (input grad + weight grad): 2× that.
/// - attention forward: Q·Kᵀ and P·V, 2·T·S·D each, so 4·B·H·T·S·D; backward (dV, dP, dQ, dK): 2×.
/// - group norm: memory-bound, so its GFLOP/s uses a nominal 8 flops per element forward (mean,
///   variance, normalise, affine) and 10 backward; its GB/s counts the minimum traffic (forward:
///   read x, write y; backward: read dy and x̂, write dx), which is the more meaningful number.
/// Backward timings run `gradients(with:)` on a graph built once from `op(...).sum()`, so they
/// include the sum's (negligible) gradient fill.
struct Benchmark {
    let name: String
    let shape: String
    let flops: Double?
    let bytes: Double?
    /// Items one run produces and their unit (e.g. 256 "tok"), printed as a rate per second.
    let items: (count: Double, unit: String)?
    let prepare: () -> () -> Void

    init(_ name: String, _ shape: String, flops: Double?, bytes: Double? = nil,
         items: (count: Double, unit: String)? = nil, _ prepare: @escaping () -> () -> Void) {
        self.name = name; self.shape = shape; self.flops = flops; self.bytes = bytes; self.items = items
        self.prepare = prepare
    }
}

/// Inputs of fixed seeds, so every run times the same numbers.
private func randomTensor(_ shape: [Int], seed: UInt64, requiresGrad: Bool = false) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    return Tensor.normal(shape, std: 0.5, rng: &rng, requiresGrad: requiresGrad)
}

/// A pair of benchmarks for a differentiable op: forward alone, and backward alone (on a graph
/// built once). `op` receives tensors that require gradients; `inputs` are their shapes.
private func forwardBackward(_ name: String, _ shape: String, inputs: [[Int]], forwardFlops: Double?,
                             backwardFlops: Double?, forwardBytes: Double? = nil, backwardBytes: Double? = nil,
                             _ op: @escaping ([Tensor]) -> Tensor) -> [Benchmark] {
    [
        Benchmark("\(name).fwd", shape, flops: forwardFlops, bytes: forwardBytes) {
            let xs = inputs.enumerated().map { randomTensor($0.element, seed: UInt64($0.offset + 1)) }
            return { _ = op(xs) }
        },
        Benchmark("\(name).bwd", shape, flops: backwardFlops, bytes: backwardBytes) {
            let xs = inputs.enumerated().map { randomTensor($0.element, seed: UInt64($0.offset + 1), requiresGrad: true) }
            let loss = op(xs).sum()
            return { _ = loss.gradients(with: xs) }
        },
    ]
}

enum Benchmarks {
    /// `iterations` turns of a chain of dependent multiply–adds: work that takes a known time
    /// and touches no memory. Returns the chain's end so that it is not optimised away.
    @inline(never)
    static func busyWork(_ iterations: Int) -> Float {
        var x: Float = 1
        for i in 0..<iterations { x = x * 0.999 + Float(i & 7) }
        return x
    }

    /// Iterations of `busyWork` that take about `microseconds` on one thread here.
    static func busyIterations(microseconds: Double) -> Int {
        var iterations = 1000
        while true {
            let start = DispatchTime.now().uptimeNanoseconds
            let end = busyWork(iterations)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3
            if elapsed > 200 || iterations > 100_000_000 || end.isNaN {
                return max(1, Int(Double(iterations) * microseconds / elapsed))
            }
            iterations *= 2
        }
    }

    /// Every benchmark after the sgemm baseline, in the order printed.
    static var all: [Benchmark] {
        var list: [Benchmark] = []
        let n = Baseline.n

        // The library's own sgemm wrapper at the baseline's size: how well it uses the threads.
        list.append(Benchmark("sgemm.library", "\(n)×\(n)×\(n)", flops: 2 * pow3(n)) {
            let a = randomTensor([n, n], seed: 1), b = randomTensor([n, n], seed: 2), c = Tensor.zeros([n, n])
            return {
                a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in c.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: n, n: n, k: n, a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                } } }
            }
        })

        // Matrix products: a projection-like [2048, 512]·[512, 512], and attention-like batches
        // (batch 4 × 8 heads, 256 tokens, 64 dims): Q·Kᵀ [32, 256, 64]·[32, 64, 256].
        let (m, k, nn) = (2048, 512, 512)
        let mm = 2 * Double(m) * Double(k) * Double(nn)
        list += forwardBackward("matmul", "[\(m),\(k)]·[\(k),\(nn)]", inputs: [[m, k], [k, nn]],
                                forwardFlops: mm, backwardFlops: 2 * mm) { $0[0].matmul($0[1]) }
        let bmm = 2 * 32 * 256.0 * 256 * 64
        list += forwardBackward("matmul.batched", "[32,256,64]·[32,64,256]", inputs: [[32, 256, 64], [32, 64, 256]],
                                forwardFlops: bmm, backwardFlops: 2 * bmm) { $0[0].matmul($0[1]) }

        // A GPT MLP's up-projection: 2048 tokens, 512 → 2048, with bias.
        let lin = 2 * 2048 * 512.0 * 2048
        list += forwardBackward("linear", "x[2048,512] W[2048,512] b[2048]", inputs: [[2048, 512], [2048, 512], [2048]],
                                forwardFlops: lin, backwardFlops: 2 * lin) { linear($0[0], weight: $0[1], bias: $0[2]) }

        // 3×3 convolutions, padding 1, Cout = Cin, with bias: the VQGAN's ResnetBlocks.
        for (b, c, h, w) in [(8, 64, 64, 64), (8, 128, 32, 32)] {
            let conv = 2.0 * Double(b * c * h * w) * Double(c * 9)
            list += forwardBackward("conv2d.3x3", "x[\(b),\(c),\(h),\(w)] w[\(c),\(c),3,3]",
                                    inputs: [[b, c, h, w], [c, c, 3, 3], [c]],
                                    forwardFlops: conv, backwardFlops: 2 * conv) {
                conv2d($0[0], weight: $0[1], bias: $0[2], padding: 1)
            }
        }

        // The Downsample (3×3, stride 2, padding 0,1,0,1), whose input gradient scatters through
        // col2im; and a 1×1 convolution on 8×8 maps (the attention projections), whose GEMMs have
        // K = C and gather whole images into a tile.
        let down = 2.0 * Double(8 * 64 * 32 * 32) * Double(64 * 9)
        list += forwardBackward("conv2d.3x3s2", "x[8,64,64,64] w[64,64,3,3] pad 0,1,0,1",
                                inputs: [[8, 64, 64, 64], [64, 64, 3, 3], [64]],
                                forwardFlops: down, backwardFlops: 2 * down) {
            conv2d($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: Padding(left: 0, right: 1, top: 0, bottom: 1))
        }
        let pointwise = 2.0 * Double(16 * 8 * 8) * Double(128 * 128)
        list += forwardBackward("conv2d.1x1", "x[16,128,8,8] w[128,128,1,1]",
                                inputs: [[16, 128, 8, 8], [128, 128, 1, 1], [128]],
                                forwardFlops: pointwise, backwardFlops: 2 * pointwise) {
            conv2d($0[0], weight: $0[1], bias: $0[2])
        }

        // Group norm, 32 groups, with affine: the VQGAN's Normalize. Memory-bound: see GB/s.
        for (b, c, h, w) in [(8, 64, 64, 64), (8, 128, 32, 32)] {
            let elements = Double(b * c * h * w)
            list += forwardBackward("groupNorm", "x[\(b),\(c),\(h),\(w)] groups 32",
                                    inputs: [[b, c, h, w], [c], [c]],
                                    forwardFlops: 8 * elements, backwardFlops: 10 * elements,
                                    forwardBytes: 8 * elements, backwardBytes: 12 * elements) {
                groupNorm($0[0], groups: 32, weight: $0[1], bias: $0[2], eps: 1e-6)
            }
        }

        // Attention, 8 heads × 64 dims: 256 tokens at batch 4, 1024 tokens at batch 1 (and causal,
        // as the GPT runs it; the nominal flops are the same, the kernel computes the full square).
        for (b, t, causal) in [(4, 256, false), (1, 1024, false), (1, 1024, true)] {
            let att = 4.0 * Double(b * 8) * Double(t) * Double(t) * 64
            list += forwardBackward("attention" + (causal ? ".causal" : ""), "q,k,v[\(b),8,\(t),64]",
                                    inputs: [[b, 8, t, 64], [b, 8, t, 64], [b, 8, t, 64]],
                                    forwardFlops: att, backwardFlops: 2 * att) {
                scaledDotProductAttention(q: $0[0], k: $0[1], v: $0[2], causal: causal)
            }
        }

        // A parallel section of two 10-µs chunks: what splitting a small kernel costs. With both
        // chunks on their own thread it takes a little over 0.01 ms; on one thread, 0.02 ms.
        list.append(Benchmark("parallel.section", "2 chunks × 10 µs", flops: nil) {
            let sink = UnsafeMutablePointer<Float>.allocate(capacity: 32)
            sink.initialize(repeating: 0, count: 32)
            let work = Self.busyIterations(microseconds: 10)
            return {
                Parallel.forEach(2) { chunk in sink[chunk * 16] = Self.busyWork(work) }
            }
        })

        // One procedural landscape (image + segmentation), a different scene every run.
        list.append(Benchmark("landscape.sample", "64×64", flops: nil) {
            let generator = LandscapeGenerator(seed: 1)
            var index = 0
            return {
                _ = generator.sample(index: index, width: 64, height: 64)
                index += 1
            }
        })
        list += GPTBenchmarks.all
        list += SlidingWindowBenchmarks.all
        list += VQBenchmarks.all
        list += VQGANBenchmarks.all
        return list
    }

    private static func pow3(_ n: Int) -> Double { Double(n) * Double(n) * Double(n) }
}
