#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif
import Tensors

/// The yardstick: the BLAS library's own `cblas_sgemm`, C = A·B at n = 1024, multi-threaded with
/// the requested thread count. Every other kernel's GFLOP/s is reported as a ratio to this one
/// (the design's target: conv2d and matmul forward+backward at ≥ 60 % of it).
enum Baseline {
    static let n = 1024

    /// 2·n³ floating-point operations (one multiply and one add per term).
    static var flops: Double { 2 * Double(n) * Double(n) * Double(n) }

    /// Measures `cblas_sgemm` with BLAS's own threads set to `threads`, then hands the threads back
    /// to the library's policy (`Parallel.setThreadCount` decides how BLAS runs inside the kernels).
    static func measure(threads: Int, runs: Int?) -> Double {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor.normal([n, n], rng: &rng), b = Tensor.normal([n, n], rng: &rng)
        let c = Tensor.zeros([n, n])
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(threads))
        #endif
        defer { Parallel.setThreadCount(threads) }
        let n32 = Int32(n)
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    Timing.medianMilliseconds(runs: runs) {
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n32, n32, n32,
                                    1, pa.baseAddress, n32, pb.baseAddress, n32, 0, pc.baseAddress, n32)
                    }
                }
            }
        }
    }
}
