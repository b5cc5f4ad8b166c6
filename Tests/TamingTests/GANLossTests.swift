import Foundation
import Taming
import Tensors
import TestSupport
import Testing

@Suite struct GANLossTests {
    static let real = Tensor(shape: [4], [0.5, 2, -1, 0])
    static let fake = Tensor(shape: [4], [-2, 0, 0.5, -0.5])

    /// relu(1 − D(x)) = (0.5, 0, 2, 1), mean 0.875; relu(1 + D(x̂)) = (0, 1, 1.5, 0.5), mean 0.75;
    /// the loss is half their sum, 0.8125.
    @Test func hingeValuesAndGradients() {
        #expect(GANLoss.hinge.discriminatorLoss(real: Self.real, fake: Self.fake).item == 0.8125)
        let r = Self.real.clone(), f = Self.fake.clone()
        r.requiresGrad = true; f.requiresGrad = true
        let g = GANLoss.hinge.discriminatorLoss(real: r, fake: f).gradients(with: [r, f])
        // −½·¼ where 1 − D(x) > 0; ½·¼ where 1 + D(x̂) > 0.
        #expect(g[0].scalars == [-0.125, 0, -0.125, -0.125])
        #expect(g[1].scalars == [0, 0.125, 0.125, 0.125])
    }

    @Test func vanillaValuesAgainstSoftplusInDouble() {
        func softplus(_ v: Double) -> Double { log1p(exp(v)) }
        let realTerm = Self.real.scalars.reduce(0.0) { $0 + softplus(-Double($1)) } / 4
        let fakeTerm = Self.fake.scalars.reduce(0.0) { $0 + softplus(Double($1)) } / 4
        let loss = GANLoss.vanilla.discriminatorLoss(real: Self.real, fake: Self.fake).item
        expectClose(Double(loss), 0.5 * (realTerm + fakeTerm), rtol: 1e-6, atol: 1e-7)
        // softplus stays finite and exact far from zero.
        let extreme = Taming.softplus(Tensor(shape: [3], [100, -100, 0])).scalars
        #expect(extreme[0] == 100)
        #expect(extreme[1] >= 0 && extreme[1] < 1e-30)
        expectClose(extreme[2], Float(log(2.0)), rtol: 1e-6)
    }

    @Test func generatorLossIsMinusTheMeanFakeLogit() {
        #expect(GANLoss.generatorLoss(fake: Self.fake).item == 0.5)
        #expect(GANLoss.generatorLoss(fake: Self.real).item == -0.375)
    }

    /// A tiny "decoder": h = tanh(x·W₀ᵀ), out = h·Wᵀ with W the last layer [2, 3].
    struct TinyDecoder {
        let x: Tensor        // [4, 3]
        let w0: Tensor       // [3, 3]
        let w: Tensor        // [2, 3], the last layer
        let target: Tensor   // [4, 2]
        let v: Tensor        // [4, 2], stands in for D(x̂)'s dependence on the output

        init(targetScale: Float = 1) {
            var rng = RandomGenerator(seed: 7)
            x = Tensor.normal([4, 3], rng: &rng)
            w0 = Tensor.normal([3, 3], std: 0.5, rng: &rng, requiresGrad: true)
            w = Tensor.normal([2, 3], std: 0.5, rng: &rng, requiresGrad: true)
            target = Tensor.normal([4, 2], std: targetScale, rng: &rng)
            v = Tensor.normal([4, 2], rng: &rng)
        }

        func hidden() -> Tensor { linear(x, weight: w0).tanh() }
        func output() -> Tensor { linear(hidden(), weight: w) }
        /// L_rec = mean (out − t)².
        func reconstructionLoss() -> Tensor { (output() - target).squared().mean() }
        /// L_G = −mean(v ⊙ out).
        func generatorLoss() -> Tensor { -(output() * v).mean() }

        /// Both gradients with respect to W in closed form, in Double, from the values alone:
        /// ∂L_rec/∂W[j, k] = (2/8)·Σᵢ (out[i, j] − t[i, j])·h[i, k] and ∂L_G/∂W[j, k] = −(1/8)·Σᵢ v[i, j]·h[i, k].
        func closedFormNorms() -> (rec: Double, gan: Double) {
            let h = withNoGrad { hidden() }, out = withNoGrad { output() }
            var rec = 0.0, gan = 0.0
            for j in 0..<2 {
                for k in 0..<3 {
                    var gr = 0.0, gg = 0.0
                    for i in 0..<4 {
                        gr += 2.0 / 8 * (Double(out[i, j]) - Double(target[i, j])) * Double(h[i, k])
                        gg += -1.0 / 8 * Double(v[i, j]) * Double(h[i, k])
                    }
                    rec += gr * gr; gan += gg * gg
                }
            }
            return (rec.squareRoot(), gan.squareRoot())
        }
    }

    @Test func adaptiveWeightEqualsTheFormula() {
        let model = TinyDecoder()
        let (recNorm, ganNorm) = model.closedFormNorms()
        let expected = recNorm / (ganNorm + 1e-4)
        // Each loss from its own graph, as the training step builds them.
        let lambda = adaptiveWeight(reconstructionLoss: model.reconstructionLoss(), generatorLoss: model.generatorLoss(),
                                    lastLayer: model.w, discriminatorWeight: 1)
        expectClose(Double(lambda), expected, rtol: 1e-5)
        #expect(expected > 0.01 && expected < 100, "a case inside the clamp range")
        // The discriminator weight scales it; one shared graph gives the same value.
        let out = model.output()
        let shared = adaptiveWeight(reconstructionLoss: (out - model.target).squared().mean(),
                                    generatorLoss: -(out * model.v).mean(), lastLayer: model.w, discriminatorWeight: 0.8)
        expectClose(Double(shared), 0.8 * expected, rtol: 1e-5)
        // λ is a plain number: computing it leaves every gradient untouched.
        #expect(model.w.grad == nil && model.w0.grad == nil)
    }

    @Test func adaptiveWeightIsClamped() {
        // A generator loss that does not reach W: ‖∇L_G‖ = 0, λ = ‖∇L_rec‖ / 1e-4 > 1e4 → 1e4.
        let model = TinyDecoder(targetScale: 100)
        let (recNorm, _) = model.closedFormNorms()
        #expect(recNorm / 1e-4 > 1e4)
        let blind = -model.hidden().mean()
        #expect(adaptiveWeight(reconstructionLoss: model.reconstructionLoss(), generatorLoss: blind,
                               lastLayer: model.w, discriminatorWeight: 0.8) == 1e4 * 0.8)
        // A reconstruction loss that does not reach W: λ = 0.
        #expect(adaptiveWeight(reconstructionLoss: model.hidden().squared().mean(), generatorLoss: model.generatorLoss(),
                               lastLayer: model.w) == 0)
    }
}
