import NN
import Tensors

// Shape letters: B pictures, C colour channels, H × W pixels, h × w codes (h = H / f), D the
// codebook's dimension, N = h·w codes per picture.

/// The frozen first stage of the paper's second stage (§3.2): pictures become sequences of
/// codebook indices, and sequences become pictures again (the reference's
/// `Net2NetTransformer.encode_to_z` and `decode_to_img`).
///
/// Encoding is E, quant_conv and the nearest code of Eq. (2); the grid of indices is read into a
/// sequence in `order`. Decoding looks the codes up in the codebook, z_q = e[s], and runs
/// post_quant_conv and G. The autoencoder is never trained here: it runs in evaluation mode
/// without recording gradients, as the reference's `disabled_train` freezes it.
///
/// The autoencoder is convolutional (with attention at the latent resolution, which takes any
/// number of positions), so a model trained on 32 × 32 pictures also encodes 64 × 64 ones, into
/// 16 × 16 codes at f = 4.
public struct CodeTokenizer {
    public let autoencoder: VQModel
    public let order: CodeOrder

    public init(autoencoder: VQModel, order: CodeOrder = .raster) {
        self.autoencoder = autoencoder
        self.order = order
    }

    /// K: the number of distinct image tokens.
    public var codebookSize: Int { autoencoder.quantize.codebookSize }

    /// f: pixels per code along each side.
    public var downsamplingFactor: Int { autoencoder.config.downsamplingFactor }

    /// The code grid h × w of an H × W picture, or nil when a side is not a multiple of f.
    public func grid(imageHeight: Int, imageWidth: Int) -> (height: Int, width: Int)? {
        let f = downsamplingFactor
        guard imageHeight % f == 0, imageWidth % f == 0, imageHeight >= f, imageWidth >= f else { return nil }
        return (imageHeight / f, imageWidth / f)
    }

    /// The code sequences of `images` [B, C, H, W] in [-1, 1] (sides multiples of f): one array
    /// of N = h·w indices per picture, in `order`. Runs in batches of `batchSize`; `onBatch` is
    /// told how many pictures are done.
    public func encode(_ images: Tensor, batchSize: Int = 32, onBatch: ((Int) -> Void)? = nil) -> [[Int]] {
        let (b, height, width) = (images.shape[0], images.shape[2], images.shape[3])
        guard let (h, w) = grid(imageHeight: height, imageWidth: width) else {
            preconditionFailure("pictures of \(height) × \(width) do not split into \(downsamplingFactor)-pixel codes") // invariant: callers size pictures to a multiple of f
        }
        return frozen {
            var sequences: [[Int]] = []
            sequences.reserveCapacity(b)
            for start in stride(from: 0, to: b, by: batchSize) {
                let batch = images.slice(axis: 0, start..<min(b, start + batchSize))      // [b', C, H, W]
                let latents = autoencoder.encodeContinuous(batch)                          // [b', D, h, w]
                let d = latents.shape[1]
                let flat = latents.permuted([0, 2, 3, 1]).reshaped([-1, d])                // [b'·N, D]
                let indices = autoencoder.quantize.nearestCodes(flat)                      // raster per picture
                for i in 0..<batch.shape[0] {
                    let raster = Array(indices[(i * h * w)..<((i + 1) * h * w)])
                    sequences.append(order.sequence(fromRaster: raster, height: h, width: w))
                }
                onBatch?(sequences.count)
            }
            return sequences
        }
    }

    /// Pictures [B, C, f·h, f·w] from code sequences in `order` (B arrays of h·w indices in
    /// 0..<K), decoded in batches of `batchSize`.
    public func decode(_ sequences: [[Int]], height h: Int, width w: Int, batchSize: Int = 32) -> Tensor {
        precondition(!sequences.isEmpty && sequences.allSatisfy { $0.count == h * w },  // invariant: a programming error, not user input
                     "decode needs sequences of \(h)·\(w) codes")
        return frozen {
            var pictures: [Tensor] = []
            for start in stride(from: 0, to: sequences.count, by: batchSize) {
                let batch = sequences[start..<min(sequences.count, start + batchSize)]
                let raster = batch.flatMap { order.raster(fromSequence: $0, height: h, width: w) }
                pictures.append(autoencoder.decode(indices: raster, gridShape: [batch.count, h, w]))
            }
            return pictures.count == 1 ? pictures[0] : concat(pictures, axis: 0)
        }
    }

    /// What the first stage makes of `images`: decode(encode(x)), the best any sequence model
    /// over these codes can reproduce.
    public func reconstruct(_ images: Tensor, batchSize: Int = 32) -> Tensor {
        let (h, w) = (images.shape[2] / downsamplingFactor, images.shape[3] / downsamplingFactor)
        return decode(encode(images, batchSize: batchSize), height: h, width: w, batchSize: batchSize)
    }

    /// Runs `body` with the autoencoder in evaluation mode and no gradients recorded, then
    /// restores its mode.
    private func frozen<T>(_ body: () -> T) -> T {
        let wasTraining = autoencoder.isTraining
        autoencoder.eval()
        defer { autoencoder.train(wasTraining) }
        return withNoGrad(body)
    }
}
