extension DiscriminatorConfig {
    /// Multiply–adds of one forward pass of the PatchGAN for one image of side `side` with
    /// `inChannels` channels: its convolutions (out pixels × Cout × Cin × 16), the 4×4 kernels of
    /// `NLayerDiscriminator` — `layers` stride-2 stages, then two stride-1 ones down to the logits.
    /// Norms and activations are left out, as in `AutoencoderConfig.multiplyAddsPerImage`.
    public func multiplyAddsPerImage(side: Int, inChannels: Int = 3) -> Double {
        var total = 0.0, side = side, cin = inChannels
        func conv(_ cout: Int, stride: Int) {
            side = (side + 2 - 4) / stride + 1
            total += Double(side * side) * Double(cout) * Double(cin) * 16
            cin = cout
        }
        conv(ndf, stride: 2)
        for n in 1..<max(layers, 1) { conv(ndf * min(1 << n, 8), stride: 2) }
        conv(ndf * min(1 << layers, 8), stride: 1)
        conv(1, stride: 1)
        return total
    }
}
