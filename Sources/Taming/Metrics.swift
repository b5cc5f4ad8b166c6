import Foundation
import Tensors

/// Reconstruction metrics on images in [-1, 1], computed per image on the [0, 1] scale and averaged.
public enum ImageMetrics {
    /// Peak signal-to-noise ratio, 10·log10(1 / MSE) on [0, 1] pixels, averaged over the batch
    /// [B, C, H, W] (per-image PSNRs are averaged, as most papers report).
    public static func psnr(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.shape == b.shape && a.rank == 4, "psnr: \(a.shape) vs \(b.shape)") // invariant: a programming error, not user input
        let n = a.shape[0], per = a.count / max(n, 1)
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var total = 0.0
                for i in 0..<n {
                    var se = 0.0
                    for j in (i * per)..<((i + 1) * per) {
                        // Differences on the [0, 1] scale are half those on [-1, 1].
                        let d = Double(clip(pa[j]) - clip(pb[j])) * 0.5
                        se += d * d
                    }
                    total += 10 * log10(1 / max(se / Double(per), 1e-10))
                }
                return total / Double(max(n, 1))
            }
        }
    }

    /// Structural similarity (Wang et al. 2004) with an 11×11 Gaussian window (σ = 1.5), constants
    /// K1 = 0.01, K2 = 0.03 on the [0, 1] scale, computed per channel over valid windows and averaged
    /// over channels and images. Images smaller than the window use a window of their size.
    public static func ssim(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.shape == b.shape && a.rank == 4, "ssim: \(a.shape) vs \(b.shape)") // invariant: a programming error, not user input
        let (n, c, h, w) = (a.shape[0], a.shape[1], a.shape[2], a.shape[3])
        let size = min(11, h, w)
        let sigma = 1.5 * Double(size) / 11
        var kernel = (0..<size).map { i -> Double in
            let x = Double(i) - Double(size - 1) / 2
            return exp(-x * x / (2 * sigma * sigma))
        }
        let ksum = kernel.reduce(0, +)
        kernel = kernel.map { $0 / ksum }
        let c1 = 0.01 * 0.01, c2 = 0.03 * 0.03
        let pa = a.scalars.map { Double(clip($0)) * 0.5 + 0.5 }
        let pb = b.scalars.map { Double(clip($0)) * 0.5 + 0.5 }
        var total = 0.0, planes = 0
        for plane in 0..<(n * c) {
            let base = plane * h * w
            var planeSum = 0.0, windows = 0
            for y in 0...(h - size) {
                for x in 0...(w - size) {
                    var mx = 0.0, my = 0.0, sxx = 0.0, syy = 0.0, sxy = 0.0
                    for i in 0..<size {
                        for j in 0..<size {
                            let g = kernel[i] * kernel[j]
                            let u = pa[base + (y + i) * w + x + j], v = pb[base + (y + i) * w + x + j]
                            mx += g * u; my += g * v; sxx += g * u * u; syy += g * v * v; sxy += g * u * v
                        }
                    }
                    let vx = sxx - mx * mx, vy = syy - my * my, cov = sxy - mx * my
                    planeSum += ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
                    windows += 1
                }
            }
            total += planeSum / Double(windows)
            planes += 1
        }
        return total / Double(max(planes, 1))
    }

    /// Mean absolute error on the [-1, 1] scale.
    public static func l1(_ a: Tensor, _ b: Tensor) -> Double {
        zip(a.scalars, b.scalars).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(max(a.count, 1))
    }

    @inline(__always) private static func clip(_ v: Float) -> Float { min(max(v, -1), 1) }
}
