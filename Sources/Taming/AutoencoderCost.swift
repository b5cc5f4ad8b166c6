extension AutoencoderConfig {
    /// Multiply–adds of one forward pass (encoder, quantiser search, decoder) for one image of side
    /// `resolution`: convolutions (out pixels × Cout × Cin × k²), the attention blocks' 1×1
    /// projections and their two (hw)×(hw) products, the patch shortcut's two convolutions when it
    /// is on, and the codebook search. Norms and activations are left out: they cost memory
    /// traffic, not arithmetic.
    ///
    /// A training step costs about three times this per image (the backward pass computes a
    /// gradient for the input and one for the weights of every product), so the ratio between two
    /// configurations predicts the ratio of their step times where convolutions dominate.
    public var multiplyAddsPerImage: Double {
        var total = 0.0
        func conv(_ cin: Int, _ cout: Int, _ side: Int, kernel: Int = 3) {
            total += Double(side * side) * Double(cout) * Double(cin) * Double(kernel * kernel)
        }
        func resnet(_ cin: Int, _ cout: Int, _ side: Int) {
            conv(cin, cout, side)
            conv(cout, cout, side)
            if cin != cout { conv(cin, cout, side, kernel: 1) }
        }
        func attention(_ c: Int, _ side: Int) {
            let positions = Double(side * side)
            total += 4 * positions * Double(c * c) + 2 * positions * positions * Double(c)
        }
        let ch = channels, mult = channelMultipliers
        // Encoder.
        var side = resolution, c = ch
        conv(inChannels, ch, side)
        for (i, m) in mult.enumerated() {
            for _ in 0..<resBlocksPerLevel {
                resnet(c, ch * m, side); c = ch * m
                if attentionResolutions.contains(side) { attention(c, side) }
            }
            if i != mult.count - 1 { side /= 2; conv(c, c, side) }
        }
        resnet(c, c, side); attention(c, side); resnet(c, c, side)
        conv(c, zChannels, side)
        let f = downsamplingFactor
        if patchShortcut { conv(inChannels, zChannels, side, kernel: f) }   // f×f, stride f
        // quant_conv, the nearest-code search, post_quant_conv.
        conv(zChannels, embedDim, side, kernel: 1)
        total += Double(side * side) * Double(codebookSize) * Double(embedDim)
        conv(embedDim, zChannels, side, kernel: 1)
        if patchShortcut { conv(zChannels, outChannels * f * f, side) }   // at the latent grid
        // Decoder.
        conv(zChannels, c, side)
        resnet(c, c, side); attention(c, side); resnet(c, c, side)
        for i in stride(from: mult.count - 1, through: 0, by: -1) {
            for _ in 0...resBlocksPerLevel {
                resnet(c, ch * mult[i], side); c = ch * mult[i]
                if attentionResolutions.contains(side) { attention(c, side) }
            }
            if i != 0 { side *= 2; conv(c, c, side) }
        }
        conv(c, outChannels, side)
        return total
    }
}
