import NN
import Tensors

/// The VQGAN's convolutional encoder and decoder (the paper's E and G, §3.1).

/// Encoder: conv_in, then per level ResnetBlocks (+ attention) and a Downsample, then the mid
/// block, then GN → swish → conv_out to `z_channels`. [B, in, H, W] → [B, z, H/f, W/f].
public final class Encoder: Module {
    public let conv_in: Conv2d
    public let down: [Level]
    public let mid: MidBlock
    public let norm_out: GroupNorm
    public let conv_out: Conv2d

    public init(_ config: AutoencoderConfig, rng: inout RandomGenerator) {
        let ch = config.channels, mult = config.channelMultipliers
        conv_in = Conv2d(inChannels: config.inChannels, outChannels: ch, kernelSize: 3, padding: 1, rng: &rng)
        var levels: [Level] = []
        var resolution = config.resolution
        var channels = ch
        for (i, m) in mult.enumerated() {
            var blocks: [ResnetBlock] = [], attns: [AttnBlock] = []
            for _ in 0..<config.resBlocksPerLevel {
                blocks.append(ResnetBlock(inChannels: channels, outChannels: ch * m, dropout: config.dropout,
                                          normGroups: config.normGroups, rng: &rng))
                channels = ch * m
                if config.attentionResolutions.contains(resolution) { attns.append(AttnBlock(channels: channels, normGroups: config.normGroups, rng: &rng)) }
            }
            let isLast = i == mult.count - 1
            levels.append(Level(block: blocks, attn: attns,
                                downsample: isLast ? nil : Downsample(channels: channels, rng: &rng)))
            if !isLast { resolution /= 2 }
        }
        down = levels
        mid = MidBlock(channels: channels, dropout: config.dropout, normGroups: config.normGroups, rng: &rng)
        norm_out = Normalize(channels, maxGroups: config.normGroups, rng: &rng)
        conv_out = Conv2d(inChannels: channels, outChannels: config.zChannels, kernelSize: 3, padding: 1, rng: &rng)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = conv_in(x)
        for level in down { h = level(h) }
        h = mid(h)
        return recordShapes(x, output: conv_out(norm_out(h).silu()))
    }
}

/// Decoder: conv_in from `z_channels`, the mid block, then levels from the coarsest up, each with
/// one ResnetBlock more than the encoder's and an Upsample, then GN → swish → conv_out. There is no
/// tanh: the output is raw, in the [-1, 1] image convention. `up[0]` is the finest level, as in the
/// reference's state dict.
public final class Decoder: Module {
    public let conv_in: Conv2d
    public let mid: MidBlock
    public let up: [Level]
    public let norm_out: GroupNorm
    public let conv_out: Conv2d

    public init(_ config: AutoencoderConfig, rng: inout RandomGenerator) {
        let ch = config.channels, mult = config.channelMultipliers
        var channels = ch * mult.last!
        var resolution = config.latentResolution
        conv_in = Conv2d(inChannels: config.zChannels, outChannels: channels, kernelSize: 3, padding: 1, rng: &rng)
        mid = MidBlock(channels: channels, dropout: config.dropout, normGroups: config.normGroups, rng: &rng)
        var levels: [Level] = []
        for i in stride(from: mult.count - 1, through: 0, by: -1) {
            var blocks: [ResnetBlock] = [], attns: [AttnBlock] = []
            for _ in 0...config.resBlocksPerLevel {
                blocks.append(ResnetBlock(inChannels: channels, outChannels: ch * mult[i], dropout: config.dropout,
                                          normGroups: config.normGroups, rng: &rng))
                channels = ch * mult[i]
                if config.attentionResolutions.contains(resolution) { attns.append(AttnBlock(channels: channels, normGroups: config.normGroups, rng: &rng)) }
            }
            levels.insert(Level(block: blocks, attn: attns,
                                upsample: i == 0 ? nil : Upsample(channels: channels, rng: &rng)), at: 0)
            if i != 0 { resolution *= 2 }
        }
        up = levels
        norm_out = Normalize(channels, maxGroups: config.normGroups, rng: &rng)
        conv_out = Conv2d(inChannels: channels, outChannels: config.outChannels, kernelSize: 3, padding: 1, rng: &rng)
        super.init()
    }

    /// Members in the order data flows (up.2, up.1, up.0), so diagrams read top to bottom; the
    /// names, and so the state dict, are the reference's.
    public override func members() -> [(name: String, member: Member)] {
        super.members().flatMap { entry -> [(name: String, member: Member)] in
            guard entry.name == "up", case .list(let levels) = entry.member else { return [entry] }
            return levels.enumerated().reversed().map { ("up.\($0.offset)", $0.element) }
        }
    }

    public func callAsFunction(_ z: Tensor) -> Tensor {
        var h = mid(conv_in(z))
        for level in up.reversed() { h = level(h) }
        return recordShapes(z, output: conv_out(norm_out(h).silu()))
    }
}
