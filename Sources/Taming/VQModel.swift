import NN
import Tensors

/// The first-stage model (the reference's VQModel): encoder → quant_conv → quantize, and
/// post_quant_conv → decoder. Images are [B, C, H, W] in [-1, 1].
public final class VQModel: Module {
    public let config: AutoencoderConfig
    // Declared in the order data flows through them, which is the order diagrams draw them in.
    public let encoder: Encoder
    public let quant_conv: Conv2d
    public let quantize: VectorQuantizer
    public let post_quant_conv: Conv2d
    public let decoder: Decoder

    public init(_ config: AutoencoderConfig, beta: Float = 0.25, legacy: Bool = false, rng: inout RandomGenerator) {
        self.config = config
        encoder = Encoder(config, rng: &rng)
        decoder = Decoder(config, rng: &rng)
        quantize = VectorQuantizer(size: config.codebookSize, dimension: config.embedDim, beta: beta,
                                   legacy: legacy, rng: &rng)
        quant_conv = Conv2d(inChannels: config.zChannels, outChannels: config.embedDim, kernelSize: 1, rng: &rng)
        post_quant_conv = Conv2d(inChannels: config.embedDim, outChannels: config.zChannels, kernelSize: 1, rng: &rng)
        super.init()
    }

    /// The continuous latents ẑ = quant_conv(E(x)) [B, D, H/f, W/f], before quantisation.
    public func encodeContinuous(_ x: Tensor) -> Tensor { quant_conv(encoder(x)) }

    /// Encodes and quantises images.
    public func encode(_ x: Tensor) -> VectorQuantizer.Output { quantize(encodeContinuous(x)) }

    /// Decodes quantised latents [B, D, h, w] to images.
    public func decode(_ zq: Tensor) -> Tensor { decoder(post_quant_conv(zq)) }

    /// Decodes code indices (raster order per image) on a grid [B, h, w].
    public func decode(indices: [Int], gridShape: [Int]) -> Tensor {
        decode(quantize.codebookEntries(indices, gridShape: gridShape))
    }

    /// Reconstructs images; returns x̂ and the quantiser's output (loss, indices).
    public func callAsFunction(_ x: Tensor) -> (reconstruction: Tensor, quantized: VectorQuantizer.Output) {
        let q = encode(x)
        return (decode(q.quantized), q)
    }

    /// The decoder's last layer weight, where the adaptive GAN weight λ measures gradients.
    public var lastLayerWeight: Tensor { decoder.conv_out.weight }
}
