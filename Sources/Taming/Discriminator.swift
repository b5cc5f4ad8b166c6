import NN
import Tensors

/// The PatchGAN discriminator of pix2pix that the paper uses (§3.1): a stack of 4×4 convolutions
/// whose output is a grid of logits, each judging one overlapping patch of the image as real or
/// reconstructed. With 3 layers a 256² image gives 30×30 logits, each seeing a 70×70 patch.
public final class NLayerDiscriminator: Module {
    /// The reference's nn.Sequential `main`: conv, LeakyReLU, then conv → norm → LeakyReLU per
    /// layer, and a final conv to one channel. Parameter names `main.0.weight`, `main.2.weight`, …
    public let main: Sequential

    /// - Parameters: inChannels of the images; ndf, the first layer's width (64); layers, the
    ///   number of stride-2 stages (3); actNorm, ActNorm instead of BatchNorm.
    public init(inChannels: Int = 3, ndf: Int = 64, layers: Int = 3, actNorm: Bool = false,
                rng: inout RandomGenerator) {
        func norm(_ c: Int) -> Module & Layer { actNorm ? ActNorm(channels: c) : BatchNorm2d(c) }
        var seq: [Module & Layer] = [
            Conv2d(inChannels: inChannels, outChannels: ndf, kernelSize: 4, stride: 2, padding: 1, rng: &rng),
            LeakyReLU(0.2),
        ]
        var mult = 1
        for n in 1..<layers {
            let previous = mult
            mult = min(1 << n, 8)
            seq += [Conv2d(inChannels: ndf * previous, outChannels: ndf * mult, kernelSize: 4, stride: 2,
                           padding: 1, bias: false, rng: &rng), norm(ndf * mult), LeakyReLU(0.2)]
        }
        let previous = mult
        mult = min(1 << layers, 8)
        seq += [Conv2d(inChannels: ndf * previous, outChannels: ndf * mult, kernelSize: 4, stride: 1,
                       padding: 1, bias: false, rng: &rng), norm(ndf * mult), LeakyReLU(0.2),
                Conv2d(inChannels: ndf * mult, outChannels: 1, kernelSize: 4, stride: 1, padding: 1, rng: &rng)]
        main = Sequential(seq)
        super.init()
        // pix2pix's weights_init: conv weights N(0, 0.02); norm scales N(1, 0.02), shifts 0.
        for layer in main.layers {
            if let conv = layer as? Conv2d {
                conv.weight.copy(from: Tensor.normal(conv.weight.shape, std: 0.02, rng: &rng))
            } else if let bn = layer as? BatchNorm2d, let w = bn.weight, let b = bn.bias {
                w.copy(from: Tensor.normal(w.shape, mean: 1, std: 0.02, rng: &rng))
                b.copy(from: Tensor.zeros(b.shape))
            }
        }
    }

    /// Patch logits [B, 1, h, w] for images [B, C, H, W].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for layer in main.layers { h = layer(h) }
        return h
    }
}

/// ActNorm (Glow): a per-channel affine whose scale and shift are set on the first batch so that
/// the output has zero mean and unit variance per channel, then learned. The reference offers it
/// in place of BatchNorm for the discriminator (`use_actnorm`).
public final class ActNorm: Module, Layer {
    public let loc: Tensor     // [1, C, 1, 1]
    public let scale: Tensor   // [1, C, 1, 1]
    private var initialized = false

    public init(channels: Int) {
        loc = Tensor.zeros([1, channels, 1, 1], requiresGrad: true)
        scale = Tensor.ones([1, channels, 1, 1], requiresGrad: true)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        if !initialized && isTraining {
            withNoGrad {
                let mean = x.mean(axes: [0, 2, 3], keepDims: true)
                let std = (x - mean).squared().mean(axes: [0, 2, 3], keepDims: true).sqrt()
                loc.copy(from: -mean)
                scale.copy(from: 1 / (std + 1e-6))
            }
            initialized = true
        }
        return (x + loc) * scale
    }
}

/// The discriminator's objectives (Eq. (5)'s L_GAN in its hinge form, as the reference trains it).
public enum GANLoss: String, Codable, Sendable {
    case hinge, vanilla

    /// The discriminator's loss on real and fake logits: hinge ½(mean relu(1 − D(x)) + mean
    /// relu(1 + D(x̂))), or vanilla ½(mean softplus(−D(x)) + mean softplus(D(x̂))).
    public func discriminatorLoss(real: Tensor, fake: Tensor) -> Tensor {
        switch self {
        case .hinge:
            return ((1 - real).relu().mean() + (1 + fake).relu().mean()) * 0.5
        case .vanilla:
            return (softplus(-real).mean() + softplus(fake).mean()) * 0.5
        }
    }

    /// The generator's adversarial loss −mean D(x̂), the same for both choices (as the reference).
    public static func generatorLoss(fake: Tensor) -> Tensor { -fake.mean() }
}

/// softplus(x) = log(1 + eˣ), stably as relu(x) + log(1 + e^(−|x|)).
public func softplus(_ x: Tensor) -> Tensor { x.relu() + ((-x.abs()).exp() + 1).log() }

/// The adaptive weight of Eq. (7): λ = ‖∇_{G_L}[L_rec]‖ / (‖∇_{G_L}[L_GAN]‖ + δ) with δ = 1e-4,
/// where G_L is the decoder's last layer; clamped to [0, 10⁴], detached, and scaled by
/// `discriminatorWeight` (0.8 in the reference's configs).
public func adaptiveWeight(reconstructionLoss: Tensor, generatorLoss: Tensor, lastLayer: Tensor,
                           discriminatorWeight: Float = 0.8) -> Float {
    let gRec = reconstructionLoss.gradients(with: [lastLayer])[0]
    let gGAN = generatorLoss.gradients(with: [lastLayer])[0]
    func norm(_ t: Tensor) -> Float { t.withUnsafeBufferPointer { b in b.reduce(0) { $0 + $1 * $1 }.squareRoot() } }
    let lambda = norm(gRec) / (norm(gGAN) + 1e-4)
    return min(max(lambda, 0), 1e4) * discriminatorWeight
}
