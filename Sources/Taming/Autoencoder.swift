import NN
import Tensors

/// The VQGAN's convolutional encoder and decoder (the paper's E and G, §3.1).

/// Encoder: conv_in, then per level ResnetBlocks (+ attention) and a Downsample, then the mid
/// block, then GN → swish → conv_out to `z_channels`. [B, in, H, W] → [B, z, H/f, W/f].
/// With `patchShortcut`, `patch_in` (f×f, stride f: a linear map of each f×f block of pixels)
/// is added to the output.
public final class Encoder: Module {
    public let conv_in: Conv2d
    public let down: [Level]
    public let mid: MidBlock
    public let norm_out: GroupNorm
    public let conv_out: Conv2d
    public let patch_in: Conv2d?

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
        let f = config.downsamplingFactor
        patch_in = config.patchShortcut
            ? Conv2d(inChannels: config.inChannels, outChannels: config.zChannels, kernelSize: f, stride: f, rng: &rng) : nil
        super.init()
    }

    public override var bypassMembers: Set<String> { ["patch_in"] }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = conv_in(x)
        for level in down { h = level(h) }
        h = mid(h)
        var out = conv_out(norm_out(h).silu())
        if let patch_in { out = out + patch_in(x) }
        return recordShapes(x, output: out)
    }
}

/// Decoder: conv_in from `z_channels`, the mid block, then levels from the coarsest up, each with
/// one ResnetBlock more than the encoder's and an Upsample, then GN → swish → conv_out. There is no
/// tanh: the output is raw, in the [-1, 1] image convention. `up[0]` is the finest level, as in the
/// reference's state dict. With `patchShortcut`, `patch_out` (3×3 on the latent grid, to C·f²
/// channels, read as each cell's f×f block of pixels: a "pixel shuffle") is added to the output.
public final class Decoder: Module {
    public let conv_in: Conv2d
    public let mid: MidBlock
    public let up: [Level]
    public let norm_out: GroupNorm
    public let conv_out: Conv2d
    public let patch_out: Conv2d?
    let factor: Int

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
        factor = config.downsamplingFactor
        patch_out = config.patchShortcut
            ? Conv2d(inChannels: config.zChannels, outChannels: config.outChannels * factor * factor, kernelSize: 3, padding: 1, rng: &rng) : nil
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

    public override var bypassMembers: Set<String> { ["patch_out"] }

    public func callAsFunction(_ z: Tensor) -> Tensor {
        var h = mid(conv_in(z))
        for level in up.reversed() { h = level(h) }
        var out = conv_out(norm_out(h).silu())
        if let patch_out {
            // [B, C·f·f, h, w] → [B, C, h, f, w, f] → [B, C, h·f, w·f]
            let p = patch_out(z), b = p.shape[0], hh = p.shape[2], ww = p.shape[3], f = factor
            let c = p.shape[1] / (f * f)
            out = out + p.reshaped([b, c, f, f, hh, ww]).permuted([0, 1, 4, 2, 5, 3]).reshaped([b, c, hh * f, ww * f])
        }
        return recordShapes(z, output: out)
    }
}
