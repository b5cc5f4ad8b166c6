import NN
import Tensors

/// How a VQGAN's discriminator is built (the reference's `disc_*` settings).
public struct DiscriminatorConfig: Codable, Equatable, Sendable {
    /// Width of the first layer (`disc_ndf`; 64 in the reference).
    public var ndf: Int
    /// Stride-2 stages (`disc_num_layers`; 3 in the reference, a 70×70 patch).
    public var layers: Int
    /// ActNorm instead of BatchNorm (`use_actnorm`; off in the reference).
    public var actNorm: Bool

    public init(ndf: Int = 64, layers: Int = 3, actNorm: Bool = false) {
        self.ndf = ndf; self.layers = layers; self.actNorm = actNorm
    }
}

/// A VQGAN's trainable parts, saved together: the autoencoder and the PatchGAN discriminator
/// that judges its reconstructions (§3.1 of the paper).
///
/// State-dict names are the reference's `VQModel` checkpoint's: the autoencoder's own names
/// (`encoder.conv_in.weight`, `quantize.embedding.weight`, …) and `loss.discriminator.main.0.weight`,
/// … for the discriminator, which the reference keeps inside its loss module. The perceptual
/// loss's frozen network is not part of it (the reference saves it as `loss.perceptual_loss.…`;
/// here it is a separate, cached model).
public final class VQGAN: Module {
    public let autoencoder: VQModel
    public let discriminator: NLayerDiscriminator
    /// Holds the discriminator under the name `loss`, as the reference's checkpoint does.
    private let _loss: DiscriminatorHolder

    public init(_ config: AutoencoderConfig, discriminator d: DiscriminatorConfig = DiscriminatorConfig(),
                rng: inout RandomGenerator) {
        autoencoder = VQModel(config, rng: &rng)
        discriminator = NLayerDiscriminator(inChannels: config.outChannels, ndf: d.ndf, layers: d.layers,
                                            actNorm: d.actNorm, rng: &rng)
        _loss = DiscriminatorHolder(discriminator)
        super.init()
    }

    public override func members() -> [(name: String, member: Member)] {
        autoencoder.members() + [("loss", .module(_loss))]
    }

    /// The reference's loss module as a name only: `loss.discriminator`.
    private final class DiscriminatorHolder: Module {
        let discriminator: NLayerDiscriminator
        init(_ discriminator: NLayerDiscriminator) { self.discriminator = discriminator; super.init() }
    }
}
