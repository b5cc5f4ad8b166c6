import NN
import Tensors

/// The building blocks of the VQGAN's encoder and decoder (the reference's
/// taming/modules/diffusionmodules/model.py), with its parameter names.

/// The reference's `Normalize`: GroupNorm with 32 groups and eps 1e-6. With fewer channels than
/// `maxGroups`, or a count it does not divide, it uses the largest group count that divides the
/// channels, so that the small models of this workbook still normalise in groups.
///
/// `maxGroups` (`AutoencoderConfig.normGroups`) is 32 in the reference. With 32 channels that
/// makes every channel its own group: each feature map is normalised per image, which erases its
/// mean — harmless on 256² scenes, but on a 32×32 patch of flat sky it erases the colour itself.
public func Normalize(_ channels: Int, maxGroups: Int = 32, rng: inout RandomGenerator) -> GroupNorm {
    var groups = max(1, min(maxGroups, channels))
    while channels % groups != 0 { groups -= 1 }
    return GroupNorm(groups: groups, channels: channels, eps: 1e-6)
}

/// GN → swish → conv3×3 → GN → swish → dropout → conv3×3, added to the input (through a 1×1
/// `nin_shortcut` when the channel count changes).
public final class ResnetBlock: Module {
    public let norm1: GroupNorm
    public let conv1: Conv2d
    public let norm2: GroupNorm
    public let conv2: Conv2d
    public let nin_shortcut: Conv2d?
    let dropout: Dropout

    public init(inChannels: Int, outChannels: Int, dropout p: Float = 0, normGroups: Int = 32,
                rng: inout RandomGenerator) {
        norm1 = Normalize(inChannels, maxGroups: normGroups, rng: &rng)
        conv1 = Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 3, padding: 1, rng: &rng)
        norm2 = Normalize(outChannels, maxGroups: normGroups, rng: &rng)
        conv2 = Conv2d(inChannels: outChannels, outChannels: outChannels, kernelSize: 3, padding: 1, rng: &rng)
        nin_shortcut = inChannels == outChannels ? nil
            : Conv2d(inChannels: inChannels, outChannels: outChannels, kernelSize: 1, rng: &rng)
        dropout = Dropout(p: p, seed: rng.next())
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {   // [B, Cin, H, W] → [B, Cout, H, W]
        var h = conv1(norm1(x).silu())
        h = conv2(dropout(norm2(h).silu()))
        return recordShapes(x, output: (nin_shortcut?(x) ?? x) + h)
    }
}

/// Single-head self-attention over all H·W positions: GN, 1×1 convs to q, k, v, softmax(q·kᵀ/√C)·v,
/// a 1×1 `proj_out`, and a residual add.
public final class AttnBlock: Module {
    public let norm: GroupNorm
    public let q: Conv2d
    public let k: Conv2d
    public let v: Conv2d
    public let proj_out: Conv2d

    public init(channels: Int, normGroups: Int = 32, rng: inout RandomGenerator) {
        norm = Normalize(channels, maxGroups: normGroups, rng: &rng)
        q = Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, rng: &rng)
        k = Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, rng: &rng)
        v = Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, rng: &rng)
        proj_out = Conv2d(inChannels: channels, outChannels: channels, kernelSize: 1, rng: &rng)
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {   // [B, C, H, W]
        let (b, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let hn = norm(x)
        // [B, C, H, W] → [B, H·W, C]: one token per position.
        func tokens(_ t: Tensor) -> Tensor { t.reshaped([b, c, h * w]).transposed(1, 2) }
        let o = scaledDotProductAttention(q: tokens(q(hn)), k: tokens(k(hn)), v: tokens(v(hn)))
        return recordShapes(x, output: x + proj_out(o.transposed(1, 2).reshaped([b, c, h, w])))
    }
}

/// Halves the resolution: zero-pad right and bottom by one, then a 3×3 convolution with stride 2
/// (the reference's asymmetric padding, folded into the convolution).
public final class Downsample: Module {
    public let conv: Conv2d
    public init(channels: Int, rng: inout RandomGenerator) {
        conv = Conv2d(inChannels: channels, outChannels: channels, kernelSize: 3, stride: 2,
                      padding: Padding(left: 0, right: 1, top: 0, bottom: 1), rng: &rng)
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: conv(x)) }   // → [B, C, H/2, W/2]
}

/// Doubles the resolution: nearest-neighbour ×2, then a 3×3 convolution.
public final class Upsample: Module {
    public let conv: Conv2d
    public init(channels: Int, rng: inout RandomGenerator) {
        conv = Conv2d(inChannels: channels, outChannels: channels, kernelSize: 3, padding: 1, rng: &rng)
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: conv(upsampleNearest2x(x))) }   // → [B, C, 2H, 2W]
}

/// The middle of both encoder and decoder: ResnetBlock → AttnBlock → ResnetBlock.
public final class MidBlock: Module {
    public let block_1: ResnetBlock
    public let attn_1: AttnBlock
    public let block_2: ResnetBlock
    public init(channels: Int, dropout: Float, normGroups: Int = 32, rng: inout RandomGenerator) {
        block_1 = ResnetBlock(inChannels: channels, outChannels: channels, dropout: dropout, normGroups: normGroups, rng: &rng)
        attn_1 = AttnBlock(channels: channels, normGroups: normGroups, rng: &rng)
        block_2 = ResnetBlock(inChannels: channels, outChannels: channels, dropout: dropout, normGroups: normGroups, rng: &rng)
        super.init()
    }
    public func callAsFunction(_ x: Tensor) -> Tensor { recordShapes(x, output: block_2(attn_1(block_1(x)))) }
}

/// One resolution level: its ResnetBlocks, the AttnBlocks that follow them (if any), and the
/// resampling at its end (Downsample in the encoder, Upsample in the decoder; none at the end).
public final class Level: Module {
    public let block: [ResnetBlock]
    public let attn: [AttnBlock]
    public let downsample: Downsample?
    public let upsample: Upsample?

    init(block: [ResnetBlock], attn: [AttnBlock], downsample: Downsample? = nil, upsample: Upsample? = nil) {
        self.block = block; self.attn = attn; self.downsample = downsample; self.upsample = upsample
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for (i, resnet) in block.enumerated() {
            h = resnet(h)
            if !attn.isEmpty { h = attn[i](h) }
        }
        if let downsample { h = downsample(h) }
        if let upsample { h = upsample(h) }
        return recordShapes(x, output: h)
    }
}
