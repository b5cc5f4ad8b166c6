#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-major single-precision GEMM: C[M,N] = alpha · op(A) · op(B) + beta · C, where op transposes
/// when asked. Every matrix product in the library goes through here, and so through BLAS.
/// `lda`, `ldb`, `ldc` default to the packed row lengths.
///
/// Large products are split into blocks of columns of C (or rows, when C is taller than wide) that
/// run on `Parallel.threadCount` workers, each calling single-threaded BLAS. The blocks depend only
/// on the shapes, never on the thread count, so results are the same bits with any number of
/// threads.
public func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                  alpha: Float = 1, a: UnsafePointer<Float>, lda: Int? = nil,
                  b: UnsafePointer<Float>, ldb: Int? = nil,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int? = nil) {
    let lda = lda ?? (transA ? m : k)
    let ldb = ldb ?? (transB ? k : n)
    let ldc = ldc ?? n
    let work = Double(m) * Double(n) * Double(k)
    let splitColumns = n >= m
    let side = splitColumns ? n : m
    guard work >= 2_000_000, side > 128 else {
        blasGEMM(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        return
    }
    let block = sgemmBlock(side)
    let pieces = (side + block - 1) / block
    let run = { (p: Int) in
        let lo = p * block, len = min(block, side - lo)
        if splitColumns {
            // Columns lo..<lo+len of op(B) and C.
            let bOffset = transB ? lo * ldb : lo
            blasGEMM(transA, transB, m, len, k, alpha, a, lda, b + bOffset, ldb, beta, c + lo, ldc)
        } else {
            // Rows lo..<lo+len of op(A) and C.
            let aOffset = transA ? lo : lo * lda
            blasGEMM(transA, transB, len, n, k, alpha, a + aOffset, lda, b, ldb, beta, c + lo * ldc, ldc)
        }
    }
    if Parallel.insideWorker.value == 1 {
        for p in 0..<pieces { run(p) }
    } else {
        Parallel.forEachWithSerialBLAS(pieces, run)
    }
}

/// The width of sgemm's blocks for a side of C: an even number of blocks (2 to 8, about 256 wide),
/// so two workers get equal shares, and few enough that BLAS does not repack the other operand for
/// every narrow block (128-wide blocks cost 3–10 % against one call, measured single-threaded).
func sgemmBlock(_ side: Int) -> Int {
    var pieces = min(8, max(2, side / 256))
    if pieces % 2 == 1 { pieces += 1 }
    return ((side + pieces - 1) / pieces + 15) / 16 * 16
}

/// One BLAS call on the calling thread, never split: for kernels that spread whole products over
/// the workers themselves (each product's bits then depend only on its own shape).
@inline(__always)
func sgemmSerial(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
                 a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                 beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    blasGEMM(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

@inline(__always)
private func blasGEMM(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
    _ = Parallel.blasSingleThreaded
    blasThreadsLock.shared {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Held shared by every GEMM of the library and exclusively by `referenceSGEMM`, which lends BLAS
/// its own threads for a moment: a product running meanwhile on another thread (a test running in
/// parallel) would be split by BLAS and round differently.
private let blasThreadsLock = ReadWriteLock()

/// A pthread read-write lock.
final class ReadWriteLock: @unchecked Sendable {
    private let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    init() { pthread_rwlock_init(lock, nil) }
    deinit { pthread_rwlock_destroy(lock); lock.deallocate() }

    @inline(__always)
    func shared<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    func exclusive<R>(_ body: () throws -> R) rethrows -> R {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// The BLAS library's own multi-threaded sgemm, unsplit: the benchmark's reference point.
public func referenceSGEMM(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                           c: UnsafeMutablePointer<Float>) {
    let threads = Parallel.threadCount
    _ = Parallel.blasSingleThreaded
    blasThreadsLock.exclusive {
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        #endif
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k),
                    b, Int32(n), 0, c, Int32(n))
    }
}
