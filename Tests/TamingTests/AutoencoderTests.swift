import NN
import Taming
import Tensors
import TestSupport
import Testing

@Suite struct AutoencoderTests {
    /// The reference's ImageNet f16 VQGAN, counted against a PyTorch re-implementation
    /// (../shared/REFERENCE.md §1): encoder 29,298,176, decoder 42,449,795, total 72,141,699.
    @Test func referenceConfigHasTheReferenceNamesAndCounts() {
        var rng = RandomGenerator(seed: 0)
        let model = VQModel(.imagenetF16, rng: &rng)
        #expect(model.encoder.parameterCount == 29_298_176)
        #expect(model.decoder.parameterCount == 42_449_795)
        #expect(model.parameterCount == 72_141_699)
        let names = Set(model.namedParameters().map(\.0))
        for expected in ["encoder.down.0.block.0.norm1.weight", "encoder.down.0.block.1.conv2.bias",
                         "encoder.down.2.block.0.nin_shortcut.weight", "encoder.down.0.downsample.conv.weight",
                         "encoder.down.4.attn.1.proj_out.weight", "encoder.mid.attn_1.q.weight",
                         "encoder.mid.block_2.conv1.weight", "encoder.norm_out.weight", "encoder.conv_out.weight",
                         "quantize.embedding.weight", "quant_conv.weight", "post_quant_conv.bias",
                         "decoder.up.3.upsample.conv.weight", "decoder.up.4.attn.2.k.weight",
                         "decoder.up.0.block.2.conv1.weight", "decoder.conv_in.weight", "decoder.conv_out.weight"] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        #expect(!names.contains { $0.hasPrefix("decoder.up.0.upsample") })
        #expect(!names.contains { $0.hasPrefix("encoder.down.4.downsample") })
    }

    @Test(arguments: [([1, 2], 16, [8]), ([1, 2, 2], 32, [8]), ([1, 1, 2, 2], 32, [])])
    func shapesThroughTheAutoencoder(mult: [Int], resolution: Int, attention: [Int]) {
        var rng = RandomGenerator(seed: 1)
        let config = AutoencoderConfig(channels: 8, channelMultipliers: mult, resBlocksPerLevel: 1,
                                       attentionResolutions: attention, zChannels: 4, embedDim: 3,
                                       codebookSize: 16, resolution: resolution)
        let model = VQModel(config, rng: &rng)
        let x = Tensor.normal([2, 3, resolution, resolution], rng: &rng)
        let (xr, q) = model(x)
        let side = resolution / config.downsamplingFactor
        #expect(q.quantized.shape == [2, 3, side, side])
        #expect(q.indices.count == 2 * side * side)
        #expect(xr.shape == x.shape)
    }

    /// With the deep paths' last convolutions zeroed, only the patch shortcut is left: the encoder
    /// is one f×f, stride-f convolution, and the decoder puts channel c·f² + i·f + j of latent
    /// cell (y, x) at pixel (y·f + i, x·f + j) of colour c — checked by hand, loop by loop.
    @Test func patchShortcutIsALinearPathThroughPixelBlocks() {
        var rng = RandomGenerator(seed: 3)
        let config = AutoencoderConfig(channels: 4, channelMultipliers: [1, 2], resBlocksPerLevel: 1,
                                       attentionResolutions: [], zChannels: 5, embedDim: 5, codebookSize: 8,
                                       resolution: 8, normGroups: 1, patchShortcut: true)
        let model = VQModel(config, rng: &rng)
        let names = Set(model.namedParameters().map(\.0))
        #expect(names.isSuperset(of: ["encoder.patch_in.weight", "decoder.patch_out.weight", "decoder.patch_out.bias"]))
        #expect(model.decoder.patch_out?.weight.shape == [12, 5, 3, 3])
        for conv in [model.encoder.conv_out, model.decoder.conv_out] {
            conv.weight.copy(from: Tensor.zeros(conv.weight.shape))
            if let bias = conv.bias { bias.copy(from: Tensor.zeros(bias.shape)) }
        }
        let x = Tensor.normal([2, 3, 8, 8], rng: &rng)
        let encoded = withNoGrad { model.encoder(x) }.scalars   // [2, 5, 4, 4]
        let w = model.encoder.patch_in!.weight.scalars, b = model.encoder.patch_in!.bias!.scalars
        let xs = x.scalars
        for n in 0..<2 { for o in 0..<5 { for y in 0..<4 { for xx in 0..<4 {
            var sum = Double(b[o])
            for c in 0..<3 { for i in 0..<2 { for j in 0..<2 {
                sum += Double(w[((o * 3 + c) * 2 + i) * 2 + j]) * Double(xs[((n * 3 + c) * 8 + y * 2 + i) * 8 + xx * 2 + j])
            } } }
            #expect(abs(Double(encoded[((n * 5 + o) * 4 + y) * 4 + xx]) - sum) < 1e-4)
        } } } }
        let z = Tensor.normal([1, 5, 4, 4], rng: &rng)
        let cells = withNoGrad { model.decoder.patch_out!(z) }.scalars   // [1, 12, 4, 4]
        let pixels = withNoGrad { model.decoder(z) }.scalars              // [1, 3, 8, 8]
        for c in 0..<3 { for y in 0..<4 { for xx in 0..<4 { for i in 0..<2 { for j in 0..<2 {
            let cell = cells[((c * 4 + i * 2 + j) * 4 + y) * 4 + xx]
            #expect(abs(pixels[(c * 8 + y * 2 + i) * 8 + xx * 2 + j] - cell) < 1e-5)
        } } } } }
    }

    /// The straight-through estimator hands the decoder's gradient to the encoder unchanged, the
    /// codebook term moves only the codebook, and the commitment term only the encoder.
    @Test func straightThroughAndLossSides() {
        var rng = RandomGenerator(seed: 2)
        let vq = VectorQuantizer(size: 5, dimension: 3, rng: &rng)
        let z = Tensor.normal([1, 3, 2, 2], rng: &rng, requiresGrad: true)
        let out = vq(z)
        // d(sum(z_q · R))/dz = R: the lookup is skipped.
        let r = Tensor.normal(out.quantized.shape, rng: &rng)
        let gz = (out.quantized * r).sum().gradients(with: [z, vq.embedding.weight])
        expectClose(gz[0], r, atol: 1e-6)
        #expect(gz[1].scalars.allSatisfy { $0 == 0 })
        // The loss reaches both sides; the codebook term alone only the codebook.
        let lossGrads = out.loss.gradients(with: [z, vq.embedding.weight])
        #expect(lossGrads[0].scalars.contains { $0 != 0 } && lossGrads[1].scalars.contains { $0 != 0 })
        let flat = z.permuted([0, 2, 3, 1]).reshaped([4, 3])
        let zq = vq.embedding(out.indices)
        let codebookOnly = mseLoss(zq, flat.detached()).gradients(with: [z, vq.embedding.weight])
        #expect(codebookOnly[0].scalars.allSatisfy { $0 == 0 })
        let commitOnly = mseLoss(flat, zq.detached()).gradients(with: [z, vq.embedding.weight])
        #expect(commitOnly[1].scalars.allSatisfy { $0 == 0 })
    }

    /// β weights the commitment term by default and the codebook term with `legacy`.
    @Test func betaPlacement() {
        var rng = RandomGenerator(seed: 3)
        let z = Tensor.normal([1, 2, 2, 2], rng: &rng)
        var r1 = RandomGenerator(seed: 9), r2 = RandomGenerator(seed: 9)
        let modern = VectorQuantizer(size: 4, dimension: 2, beta: 0.25, rng: &r1)(z)
        let legacy = VectorQuantizer(size: 4, dimension: 2, beta: 0.25, legacy: true, rng: &r2)(z)
        // Both terms are equal in value (‖z − z_q‖²), so the two totals are both 1.25 × that.
        #expect(abs(modern.codebookLoss - modern.commitmentLoss) < 1e-6)
        #expect(abs(modern.loss.item - 1.25 * modern.codebookLoss) < 1e-5)
        #expect(abs(legacy.loss.item - 1.25 * legacy.codebookLoss) < 1e-5)
        let g1 = modern.loss.gradients(with: [z])[0]
        _ = g1
    }

    @Test func nearestCodesAreNearest() {
        var rng = RandomGenerator(seed: 4)
        let vq = VectorQuantizer(size: 7, dimension: 4, rng: &rng)
        vq.embedding.weight.copy(from: Tensor.normal([7, 4], rng: &rng))
        let x = Tensor.normal([20, 4], rng: &rng)
        let chosen = vq.nearestCodes(x)
        let e = vq.embedding.weight
        for i in 0..<20 {
            let d = (0..<7).map { k in (0..<4).reduce(Float(0)) { $0 + (x[i, $1] - e[k, $1]) * (x[i, $1] - e[k, $1]) } }
            #expect(chosen[i] == d.indices.min { d[$0] < d[$1] }!)
        }
    }

    @Test func usageAndPerplexity() {
        let u = CodebookUsage(indices: [0, 0, 1, 1], codebookSize: 4)
        #expect(u.usage == 0.5)
        #expect(abs(u.perplexity - 2) < 1e-12)
    }

    /// A few dozen steps of Adam on a tiny autoencoder lower the reconstruction loss.
    @Test func trainingLowersTheLoss() {
        var rng = RandomGenerator(seed: 5)
        let config = AutoencoderConfig(channels: 8, channelMultipliers: [1, 2], resBlocksPerLevel: 1,
                                       attentionResolutions: [], zChannels: 4, embedDim: 4,
                                       codebookSize: 8, resolution: 8)
        let model = VQModel(config, rng: &rng)
        let x = Tensor.uniform([4, 3, 8, 8], low: -1, high: 1, rng: &rng)
        let opt = Adam(parameters: model.parameters(), lr: 3e-3, betas: (0.5, 0.9))
        var first: Float = 0, last: Float = 0
        for step in 0..<40 {
            let (xr, q) = model(x)
            let loss = l1Loss(xr, x) + q.loss
            if step == 0 { first = loss.item }
            last = loss.item
            model.zeroGrad()
            loss.backward()
            opt.step()
        }
        #expect(last < 0.7 * first, "loss \(first) → \(last)")
    }
}
