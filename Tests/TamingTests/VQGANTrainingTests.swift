import Foundation
import NN
import Taming
import Tensors
import TestSupport
import Testing

/// The VQGAN step: λ as Eq. (7) says, the discriminator on detached reconstructions, the
/// disc_start gate, and the patch each logit judges.
@Suite struct VQGANTrainingTests {
    /// A tiny VQGAN for 8×8 images: f = 2 (a 4×4 code grid of 8 codes), a one-layer PatchGAN.
    static let config = AutoencoderConfig(channels: 8, channelMultipliers: [1, 2], resBlocksPerLevel: 1,
                                          attentionResolutions: [], zChannels: 4, embedDim: 4,
                                          codebookSize: 8, resolution: 8)
    static let discriminator = DiscriminatorConfig(ndf: 8, layers: 1)
    static let training = VQTrainingConfig(learningRate: 1e-3, batchSize: 4)

    static func model(seed: UInt64 = 3) -> VQGAN {
        var rng = RandomGenerator(seed: seed)
        return VQGAN(config, discriminator: discriminator, rng: &rng)
    }

    static func images(seed: UInt64 = 4) -> Tensor { seededUniform([4, 3, 8, 8], seed: seed) }

    /// A small frozen feature network for the perceptual term.
    static func perceptual() -> PerceptualLoss {
        var rng = RandomGenerator(seed: 5)
        return PerceptualLoss(backbone: FeatureNetwork(.init(widths: [4, 8]), rng: &rng))
    }

    static func snapshot(_ module: Module) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: module.stateDict().map { ($0.0, $0.1.scalars) })
    }

    static func norm(_ t: Tensor?) -> Double {
        (t?.scalars ?? []).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
    }

    @Test func checkpointNamesAreTheReferences() {
        let m = Self.model()
        let names = Set(m.stateDict().map(\.0))
        for name in ["encoder.conv_in.weight", "quantize.embedding.weight", "quant_conv.weight",
                     "decoder.conv_out.weight", "loss.discriminator.main.0.weight", "loss.discriminator.main.3.running_mean"] {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(m.parameterCount == m.autoencoder.parameterCount + m.discriminator.parameterCount)
    }

    /// λ logged by the step equals w_d·‖∇_W L_rec‖ / (‖∇_W L_G‖ + 1e-4) with both norms taken from
    /// plain `backward()` calls on an identical copy of the model.
    @Test func adaptiveWeightEqualsTheFormula() throws {
        let x = Self.images(), perceptual = Self.perceptual()
        let trained = Self.model()
        let trainer = VQGANTrainer(model: trained, training: Self.training, loss: VQGANLossConfig(discriminatorStart: 0),
                                   perceptual: perceptual, seed: 9)
        let losses = trainer.step(x, step: 0)
        let lambda = try #require(losses.adaptiveWeight, "the GAN is on from step 0")

        let copy = Self.model()
        let (reconstruction, _) = copy.autoencoder(x)
        let rec = l1Loss(reconstruction, x) + perceptual(x, reconstruction)
        let g = -copy.discriminator(reconstruction).mean()
        let w = copy.autoencoder.decoder.conv_out.weight
        copy.zeroGrad(); rec.backward()
        let recNorm = Self.norm(w.grad)
        copy.zeroGrad(); g.backward()
        let ganNorm = Self.norm(w.grad)
        #expect(recNorm > 0 && ganNorm > 0)
        let expected = 0.8 * min(max(recNorm / (ganNorm + 1e-4), 0), 1e4)
        expectClose(Double(lambda), expected, rtol: 1e-4)
        expectClose(Double(losses.generator ?? .nan), Double(g.item), rtol: 1e-5)
        expectClose(Double(losses.reconstruction + losses.perceptual), Double(rec.item), rtol: 1e-5)
    }

    /// The step's gradients for the autoencoder, taken through x̂, are those of the literal loss
    /// L_rec + λ·L_G + L_VQ backpropagated in one pass on an identical copy.
    @Test func theAutoencodersGradientsAreThoseOfTheWholeLoss() throws {
        let x = Self.images(), perceptual = Self.perceptual()
        let trained = Self.model()
        let trainer = VQGANTrainer(model: trained, training: Self.training, loss: VQGANLossConfig(discriminatorStart: 0),
                                   perceptual: perceptual, seed: 9)
        let (losses, _) = trainer.autoencoderStep(x, step: 0)
        let lambda = try #require(losses.adaptiveWeight)

        let copy = Self.model()
        let (reconstruction, q) = copy.autoencoder(x)
        let total = l1Loss(reconstruction, x) + perceptual(x, reconstruction)
            + (-copy.discriminator(reconstruction).mean()) * lambda + q.loss
        copy.zeroGrad()
        total.backward()
        let expected = Dictionary(uniqueKeysWithValues: copy.autoencoder.namedParameters().map { ($0.0, $0.1.grad) })
        for (name, p) in trained.autoencoder.namedParameters() {
            let g = try #require(p.grad, "\(name) has no gradient")
            let e = try #require(expected[name] ?? nil, "\(name) has no reference gradient")
            expectClose(g, e, rtol: 1e-3, atol: 1e-6)
        }
    }

    /// The discriminator's step trains D alone: reconstructions that still carry the
    /// autoencoder's graph give the autoencoder no gradient and leave its weights as they were.
    @Test func theDiscriminatorSeesDetachedReconstructions() {
        let m = Self.model(), x = Self.images()
        let trainer = VQGANTrainer(model: m, training: Self.training, loss: VQGANLossConfig(discriminatorStart: 0),
                                   perceptual: nil, seed: 9)
        let (_, reconstruction) = trainer.autoencoderStep(x, step: 0)
        #expect(reconstruction.requiresGrad, "the reconstruction is still attached to the autoencoder")
        m.autoencoder.zeroGrad()
        let autoencoderBefore = Self.snapshot(m.autoencoder), discriminatorBefore = Self.snapshot(m.discriminator)
        let d = trainer.discriminatorStep(real: x, fake: reconstruction)
        #expect(d.loss.isFinite && d.loss > 0)
        #expect(m.autoencoder.parameters().allSatisfy { $0.grad == nil }, "a gradient reached the autoencoder")
        #expect(Self.snapshot(m.autoencoder) == autoencoderBefore)
        #expect(m.discriminator.parameters().allSatisfy { $0.grad != nil })
        #expect(Self.snapshot(m.discriminator) != discriminatorBefore)
    }

    /// Before disc_start a VQGAN step without a perceptual term is exactly a VQ-VAE step: no GAN
    /// term in the autoencoder's loss, and the discriminator neither run nor updated. From
    /// disc_start on, both change.
    @Test func discStartGatesBothTerms() {
        let x = Self.images()
        let gan = Self.model()
        let trainer = VQGANTrainer(model: gan, training: Self.training, loss: VQGANLossConfig(discriminatorStart: 2),
                                   perceptual: nil, seed: 9)
        let plain = Self.model().autoencoder
        let vqTrainer = VQTrainer(model: plain, config: Self.training, seed: 9)
        let discriminatorBefore = Self.snapshot(gan.discriminator)
        for step in 0..<2 {
            let losses = trainer.step(x, step: step)
            let reference = vqTrainer.step(x, step: step)
            #expect(!trainer.discriminatorIsOn(at: step))
            #expect(losses.generator == nil && losses.adaptiveWeight == nil && losses.discriminator == nil)
            #expect(losses.reconstruction == reference.reconstruction)
            #expect(Self.snapshot(gan.autoencoder) == Self.snapshot(plain), "step \(step) differs from a VQ-VAE step")
            #expect(Self.snapshot(gan.discriminator) == discriminatorBefore, "D changed before disc_start")
        }
        let on = trainer.step(x, step: 2)
        _ = vqTrainer.step(x, step: 2)
        #expect(trainer.discriminatorIsOn(at: 2))
        #expect(on.generator != nil && on.adaptiveWeight != nil && on.discriminator != nil)
        #expect(Self.snapshot(gan.autoencoder) != Self.snapshot(plain), "the GAN term changed nothing")
        #expect(Self.snapshot(gan.discriminator) != discriminatorBefore, "D was not trained after disc_start")
    }

    /// The learning-rate schedule moves both optimizers by the same factor.
    @Test func bothLearningRatesFollowTheSchedule() {
        let trainer = VQGANTrainer(model: Self.model(), training: Self.training,
                                   loss: VQGANLossConfig(discriminatorLearningRate: 4e-4), perceptual: nil, seed: 9)
        trainer.scheduleLearningRate(progress: 1)
        expectClose(trainer.autoencoder.optimizer.lr, 1e-4, rtol: 1e-5)
        expectClose(trainer.discriminatorOptimizer.lr, 4e-5, rtol: 1e-5)
    }

    @Test func receptiveFieldsOfTheReferenceAndSmallerDiscriminators() {
        var rng = RandomGenerator(seed: 1)
        let sizes = (1...3).map { NLayerDiscriminator(ndf: 4, layers: $0, rng: &rng).receptiveField }
        #expect(sizes.map(\.size) == [16, 34, 70])
        #expect(sizes.map(\.stride) == [2, 4, 8])
        #expect(sizes.map(\.offset) == [-5, -11, -23])
    }

    /// The window `receptiveField` gives for one logit is exactly where its gradient with respect
    /// to the image is nonzero (in evaluation mode, where BatchNorm does not mix positions).
    @Test func receptiveFieldIsWhereTheGradientIs() {
        var rng = RandomGenerator(seed: 2)
        let d = NLayerDiscriminator(ndf: 4, layers: 2, rng: &rng)
        d.eval()
        let side = 48
        let x = seededUniform([1, 3, side, side], seed: 6)
        x.requiresGrad = true
        let logits = d(x)                                   // [1, 1, 10, 10]
        let (i, j) = (3, 7)
        let one = logits.crop(top: i, left: j, height: 1, width: 1).sum()
        let g = one.gradients(with: [x])[0]
        var rows = Set<Int>(), cols = Set<Int>()
        for c in 0..<3 { for y in 0..<side { for z in 0..<side where g[0, c, y, z] != 0 { rows.insert(y); cols.insert(z) } } }
        let field = d.receptiveField
        let clip = { (r: ClosedRange<Int>) in max(r.lowerBound, 0)...min(r.upperBound, side - 1) }
        #expect(rows.min()! == clip(field.window(i)).lowerBound && rows.max()! == clip(field.window(i)).upperBound)
        #expect(cols.min()! == clip(field.window(j)).lowerBound && cols.max()! == clip(field.window(j)).upperBound)
    }
}
