import Foundation
import NN
import Tensors

/// A perceptual distance with LPIPS's structure (Zhang et al. 2018), the reference's `LPIPS`:
///
///     d(x, y) = Σ_l  mean_{h,w}  Σ_c  w_{l,c} · (f̂ˡ(x)_{c,h,w} − f̂ˡ(y)_{c,h,w})²,
///     f̂ˡ = fˡ / (‖fˡ‖_c + ε),  ε = 1e-10,
///
/// where fˡ is feature map l of a backbone, ‖·‖_c the L2 norm over channels at each position, and
/// w_l ≥ 0 the per-layer 1×1 "lin" weights (a bias-free convolution to one channel).
///
/// Each layer compares unit feature *directions*: with all weights 1, its term is the mean over
/// positions of ‖â − b̂‖² = 2 − 2·cos(a, b), between 0 (same direction) and 4, whatever the layer's
/// width. LPIPS learns the weights from human judgements of which of two distortions looks closer;
/// this workbook has no such judgements, so its own network uses weights 1: LPIPS's published
/// "baseline" variant (`lpips=False`), the plain normalised feature distance, documented as such.
/// With VGG16 weights the learned LPIPS weights can be loaded too (`vgg16(weights:linearWeights:)`).
///
/// Everything is frozen: the backbone's parameters and the weights receive no gradients, while
/// gradients flow through to both inputs, so it can be a training loss for the decoder.
///
/// Shape letters: B batch, C channels, H height, W width, L layers.
public final class PerceptualLoss: Module {
    /// The feature network (LPIPS's `net`), in evaluation mode and frozen.
    public let net: FeatureBackbone
    /// Per layer, the 1×1 weights [1, C_l, 1, 1] (LPIPS's `lin0.model.1.weight`, …), non-negative.
    public let lin: [Tensor]

    /// A perceptual distance on `backbone`'s feature stacks with weights `linearWeights`
    /// (per layer [1, C_l, 1, 1]; nil for all ones). The backbone is frozen and put in evaluation
    /// mode: train it before, not after.
    public init(backbone: FeatureBackbone, linearWeights: [Tensor]? = nil) {
        let channels = backbone.featureChannels
        let weights = linearWeights ?? channels.map { Tensor.ones([1, $0, 1, 1]) }
        precondition(weights.map(\.shape) == channels.map { [1, $0, 1, 1] },  // invariant: load checks files
                     "lin weights \(weights.map(\.shape)) for feature channels \(channels)")
        backbone.freeze()
        backbone.eval()
        net = backbone
        lin = weights.map { w in let c = w.clone(); c.requiresGrad = false; return c }
        super.init()
        eval()
    }

    /// The distance of each image pair, [B], for images x, y [B, 3, H, W] in [-1, 1].
    public func distances(_ x: Tensor, _ y: Tensor) -> Tensor {
        precondition(x.shape == y.shape && x.rank == 4, "perceptual distance of \(x.shape) and \(y.shape)") // invariant: a programming error, not user input
        let fx = net.featureStacks(x), fy = net.featureStacks(y)
        var total: Tensor? = nil
        for l in lin.indices {
            let d = (Self.unitNormalized(fx[l]) - Self.unitNormalized(fy[l])).squared()   // [B, C, h, w]
            let weighted = conv2d(d, weight: lin[l])                                         // [B, 1, h, w]
            let layer = weighted.mean(axes: [1, 2, 3])                                       // [B]
            total = total.map { $0 + layer } ?? layer
        }
        return total! // invariant: a backbone has at least one feature stack
    }

    /// Throws unless the backbone takes images of `height`×`width` (VGG16 needs multiples of 16):
    /// call it once before training on images of a size the user chose.
    public func checkImageSize(height: Int, width: Int) throws {
        let m = net.sizeMultiple
        guard height > 0, width > 0, height % m == 0, width % m == 0 else {
            throw PerceptualError("the perceptual loss's \(net.kind) needs image sides that are positive multiples "
                                  + "of \(m), not \(height)×\(width)")
        }
    }

    /// The mean distance over the batch: the training loss term, and the metric.
    public func callAsFunction(_ x: Tensor, _ y: Tensor) -> Tensor { distances(x, y).mean() }

    /// f / (‖f‖_c + 1e-10) over the channels of f [B, C, H, W], as LPIPS's `normalize_tensor`.
    /// The norm is √(Σ f² + 1e-20): the same value in Float for any nonzero feature vector, but a
    /// finite gradient (zero, not NaN) where a position's features are all zero after a ReLU.
    static func unitNormalized(_ f: Tensor) -> Tensor {
        let norm = (f.squared().sum(axes: [1], keepDims: true) + 1e-20).sqrt()   // [B, 1, H, W]
        return f / (norm + 1e-10)
    }

    /// The distance between held-out images and their reconstructions, in batches without
    /// gradients: the mean over all N images of `distances` (a metric beside PSNR and SSIM).
    public func meanDistance(_ x: Tensor, _ y: Tensor, batchSize: Int = 32) -> Double {
        precondition(x.shape == y.shape && x.rank == 4, "perceptual distance of \(x.shape) and \(y.shape)") // invariant: a programming error, not user input
        let n = x.shape[0]
        guard n > 0 else { return 0 }
        return withNoGrad {
            var sum = 0.0
            for start in stride(from: 0, to: n, by: max(batchSize, 1)) {
                let range = start..<min(n, start + batchSize)
                let d = distances(x.slice(axis: 0, range), y.slice(axis: 0, range))
                sum += d.scalars.reduce(0.0) { $0 + Double($1) }
            }
            return sum / Double(n)
        }
    }
}

extension PerceptualLoss {
    /// LPIPS with VGG16: the backbone from torchvision's weights at `weights` (see
    /// `VGG16Features.load(from:)`), and either LPIPS's learned weights from the safetensors file
    /// `linearWeights` (names `lin0.model.1.weight` … `lin4.model.1.weight`, shapes [1, C, 1, 1])
    /// or, without it, all ones (LPIPS's baseline).
    public static func vgg16(weights: URL, linearWeights: URL? = nil) throws -> PerceptualLoss {
        // The small file first, so that a bad one is reported before 59 MB are read.
        let channels = VGG16Features.blocks.map(\.channels)
        let lin = try linearWeights.map { try loadLinearWeights(from: $0, channels: channels) }
        return PerceptualLoss(backbone: try VGG16Features.load(from: weights), linearWeights: lin)
    }

    /// The LPIPS "lin" weights for feature widths `channels` from the safetensors file at `url`:
    /// `lin<l>.model.1.weight` of shape [1, C_l, 1, 1] for each layer l. Other tensors are ignored.
    /// A missing or wrongly shaped tensor, or a negative or non-finite weight, is an error naming it.
    public static func loadLinearWeights(from url: URL, channels: [Int]) throws -> [Tensor] {
        let saved = try SafeTensors.read(from: url).dictionary
        var missing: [String] = [], wrong: [String] = []
        var weights: [Tensor] = []
        for (l, c) in channels.enumerated() {
            let name = "lin\(l).model.1.weight"
            guard let w = saved[name] else { missing.append(name); continue }
            guard w.shape == [1, c, 1, 1] else { wrong.append("\(name) is \(w.shape), expected [1, \(c), 1, 1]"); continue }
            weights.append(w)
        }
        if !missing.isEmpty || !wrong.isEmpty {
            let parts = (missing.isEmpty ? [] : ["missing " + missing.joined(separator: ", ")])
                + (wrong.isEmpty ? [] : ["wrong shape: " + wrong.joined(separator: "; ")])
            throw SafeTensorsError(file: url.path, problem: "does not hold LPIPS's lin weights for layers of "
                                   + "\(channels) channels: " + parts.joined(separator: "; "))
        }
        for (l, w) in weights.enumerated() {
            if let bad = w.scalars.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw SafeTensorsError(file: url.path, problem: "tensor lin\(l).model.1.weight holds \(w.scalars[bad]) "
                                       + "at channel \(bad); LPIPS's weights are finite and non-negative")
            }
        }
        return weights
    }
}
