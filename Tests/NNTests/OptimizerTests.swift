import Foundation
import Testing
import Tensors
import TestSupport
@testable import NN

/// Optimizer steps against the update rules written out here in Double (independently of the code
/// under test), the schedule against its formula, and state saving against an uninterrupted run.
extension NNSuite {
    @Suite("Optimizers")
    struct OptimizerTests {
        /// Reference Adam/AdamW for one parameter vector over several steps, in Double.
        static func referenceAdam(p0: [Double], grads: [[Double]], lr: Double, b1: Double, b2: Double,
                                  eps: Double, l2: Double = 0, decoupled: Double = 0) -> [Double] {
            var p = p0
            var m = [Double](repeating: 0, count: p.count), v = m
            for (t, g0) in grads.enumerated() {
                let step = Double(t + 1)
                for i in p.indices {
                    let before = p[i]
                    p[i] = before * (1 - lr * decoupled)   // AdamW: decoupled decay
                    let g = g0[i] + l2 * before            // Adam: L2 in the gradient
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    let mHat = m[i] / (1 - pow(b1, step)), vHat = v[i] / (1 - pow(b2, step))
                    p[i] -= lr * mHat / (vHat.squareRoot() + eps)
                }
            }
            return p
        }

        /// Runs `optimizer` over `grads` on parameter `p`.
        static func run(_ optimizer: Optimizer, _ p: Tensor, _ grads: [[Float]]) {
            for g in grads {
                p.grad = Tensor(shape: p.shape, g)
                optimizer.step()
                optimizer.zeroGrad()
            }
        }

        static let p0: [Float] = [1, -2, 0.5, 3]
        static let grads: [[Float]] = [[0.5, -0.1, 0, 2], [-0.3, -0.2, 0.1, 1], [0.05, 0.4, -0.2, -1]]

        @Test("Adam matches its update rule over three steps (bias correction included)")
        func adam() {
            let p = Tensor(shape: [4], Self.p0, requiresGrad: true)
            let adam = Adam(parameters: [p], lr: 0.1, betas: (0.9, 0.999), eps: 1e-8)
            Self.run(adam, p, Self.grads)
            let expected = Self.referenceAdam(p0: Self.p0.map(Double.init), grads: Self.grads.map { $0.map(Double.init) },
                                              lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8)
            expectClose(p.scalars.map(Double.init), expected, rtol: 1e-5, atol: 1e-6)
            #expect(adam.stepCount == 3)
            // After one step each coordinate with g ≠ 0 moves by almost exactly lr against sign(g).
            let q = Tensor(shape: [1], [1], requiresGrad: true)
            Self.run(Adam(parameters: [q], lr: 0.01), q, [[123]])
            expectClose(q.item, 0.99, rtol: 1e-6)
        }

        @Test("Adam's weight decay is L2 added to the gradient")
        func adamL2() {
            let p = Tensor(shape: [4], Self.p0, requiresGrad: true)
            Self.run(Adam(parameters: [p], lr: 0.05, betas: (0.5, 0.9), eps: 1e-8, weightDecay: 0.1), p, Self.grads)
            let expected = Self.referenceAdam(p0: Self.p0.map(Double.init), grads: Self.grads.map { $0.map(Double.init) },
                                              lr: 0.05, b1: 0.5, b2: 0.9, eps: 1e-8, l2: 0.1)
            expectClose(p.scalars.map(Double.init), expected, rtol: 1e-5, atol: 1e-6)
        }

        @Test("AdamW decays the weights directly, then takes the Adam step")
        func adamW() {
            let p = Tensor(shape: [4], Self.p0, requiresGrad: true)
            Self.run(AdamW(parameters: [p], lr: 0.05, betas: (0.9, 0.95), eps: 1e-8, weightDecay: 0.2), p, Self.grads)
            let expected = Self.referenceAdam(p0: Self.p0.map(Double.init), grads: Self.grads.map { $0.map(Double.init) },
                                              lr: 0.05, b1: 0.9, b2: 0.95, eps: 1e-8, decoupled: 0.2)
            expectClose(p.scalars.map(Double.init), expected, rtol: 1e-5, atol: 1e-6)
        }

        @Test("SGD with momentum and Nesterov matches PyTorch's rule")
        func sgd() {
            let lr = 0.1, mu = 0.9, wd = 0.01
            for nesterov in [false, true] {
                let p = Tensor(shape: [4], Self.p0, requiresGrad: true)
                Self.run(SGD(parameters: [p], lr: Float(lr), momentum: Float(mu), weightDecay: Float(wd), nesterov: nesterov),
                         p, Self.grads)
                var q = Self.p0.map(Double.init), buf: [Double]? = nil
                for g0 in Self.grads {
                    let g = zip(g0, q).map { Double($0) + wd * $1 }
                    buf = buf.map { zip($0, g).map { mu * $0 + $1 } } ?? g   // PyTorch: the first buffer is g
                    let d = nesterov ? zip(g, buf!).map { $0 + mu * $1 } : buf!
                    q = zip(q, d).map { $0 - lr * $1 }
                }
                expectClose(p.scalars.map(Double.init), q, rtol: 1e-5, atol: 1e-6)
            }
            let plain = Tensor(shape: [2], [1, 1], requiresGrad: true)
            Self.run(SGD(parameters: [plain], lr: 0.5), plain, [[2, -4]])
            #expect(plain.scalars == [0, 3])
        }

        @Test("parameters without a gradient are left alone")
        func skipsMissingGradients() {
            let a = Tensor(shape: [2], [1, 2], requiresGrad: true), b = Tensor(shape: [2], [3, 4], requiresGrad: true)
            let adam = Adam(parameters: [a, b], lr: 0.1)
            a.grad = Tensor(shape: [2], [1, 1])
            adam.step()
            #expect(b.scalars == [3, 4])
            #expect(a.scalars != [1, 2])
        }

        @Test("weight decay applies only to the chosen group (Linear weights, as the GPT)")
        func weightDecayGroups() {
            final class Model: Module {
                let fc: Linear, ln: LayerNorm, pos_emb: Tensor
                init(rng: inout RandomGenerator) {
                    fc = Linear(inFeatures: 3, outFeatures: 2, rng: &rng)
                    ln = LayerNorm(2)
                    pos_emb = Tensor.ones([1, 2], requiresGrad: true)
                    super.init()
                }
            }
            var rng = RandomGenerator(seed: 5)
            let model = Model(rng: &rng)
            let groups = model.parameterGroups(weightDecay: 0.1) { name, owner in owner is Linear && name.hasSuffix(".weight") }
            #expect(groups[0].parameters.map(\.name) == ["fc.weight"])
            #expect(groups[1].parameters.map(\.name) == ["fc.bias", "ln.weight", "ln.bias", "pos_emb"])
            let before = model.stateDict().map { ($0.0, $0.1.scalars) }
            let opt = AdamW(groups: groups, lr: 0.5)
            // Zero gradients: the Adam part moves nothing, so only decay shows.
            for p in model.parameters() { p.grad = Tensor.zeros(p.shape) }
            opt.step()
            for ((name, old), (_, t)) in zip(before, model.stateDict()) {
                let factor: Float = name == "fc.weight" ? 1 - 0.5 * 0.1 : 1
                expectClose(t.scalars, old.map { $0 * factor }, rtol: 1e-6, atol: 0, Comment(rawValue: name))
            }
        }

        @Test("clipGradNorm scales all gradients by maxNorm / global norm, and returns the norm")
        func clipping() {
            let a = Tensor.zeros([2], requiresGrad: true), b = Tensor.zeros([1], requiresGrad: true)
            let c = Tensor.zeros([3], requiresGrad: true)   // no gradient: ignored
            a.grad = Tensor(shape: [2], [3, 4]); b.grad = Tensor(shape: [1], [12])
            let norm = clipGradNorm([a, b, c], maxNorm: 6.5)   // √(9 + 16 + 144) = 13
            expectClose(norm, 13)
            let k: Float = 6.5 / (13 + 1e-6)
            expectClose(a.grad!, [3 * k, 4 * k], rtol: 1e-6)
            expectClose(b.grad!, [12 * k], rtol: 1e-6)
            #expect(c.grad == nil)
            let unclipped = clipGradNorm([a, b], maxNorm: 100)
            expectClose(unclipped, 6.5, rtol: 1e-5)
            expectClose(a.grad!, [3 * k, 4 * k], rtol: 1e-6)
        }

        @Test("warm-up then cosine schedule")
        func schedule() {
            let s = WarmupCosineSchedule(peak: 1, minimum: 0.1, warmupSteps: 10, totalSteps: 110)
            expectClose(s(0), 0.1)
            expectClose(s(4), 0.5)
            expectClose(s(9), 1)
            expectClose(s(10), 1)
            expectClose(s(60), Float(0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * 0.5))))
            expectClose(s(35), Float(0.1 + 0.9 * 0.5 * (1 + cos(Double.pi * 0.25))), rtol: 1e-6)
            expectClose(s(110), 0.1)
            expectClose(s(1000), 0.1)
            let noWarmup = WarmupCosineSchedule(peak: 2, warmupSteps: 0, totalSteps: 4)
            #expect(noWarmup(0) == 2)
            expectClose(noWarmup(2), 1, rtol: 1e-6)
        }

        @Test("optimizer state names and shapes")
        func stateNames() {
            var rng = RandomGenerator(seed: 1)
            let l = Linear(inFeatures: 2, outFeatures: 3, rng: &rng)
            let adam = Adam(namedParameters: l.namedParameters())
            #expect(adam.stateDict().map(\.0) == ["step", "weight.exp_avg", "weight.exp_avg_sq", "bias.exp_avg", "bias.exp_avg_sq"])
            #expect(adam.stateDict().map(\.1.shape) == [[], [3, 2], [3, 2], [3], [3]])
            #expect(SGD(parameters: l.parameters(), lr: 1, momentum: 0.9).stateDict().map(\.0)
                    == ["step", "0.momentum_buffer", "1.momentum_buffer"])
            #expect(SGD(parameters: l.parameters(), lr: 1).stateDict().map(\.0) == ["step"])
        }

        @Test("restoring optimizer state continues bit for bit like an uninterrupted run")
        func stateRoundTrip() throws {
            func makeModel() -> Sequential {
                var rng = RandomGenerator(seed: 42)
                return Sequential(Linear(inFeatures: 3, outFeatures: 5, rng: &rng), SiLU(),
                                  Linear(inFeatures: 5, outFeatures: 1, rng: &rng))
            }
            let x = seededNormal([8, 3], seed: 1), y = seededNormal([8, 1], seed: 2)
            func train(_ model: Sequential, _ opt: Optimizer, steps: Int) {
                for _ in 0..<steps {
                    mseLoss(model(x), y).backward()
                    opt.step()
                    opt.zeroGrad()
                }
            }
            for make in [{ (m: Module) -> Optimizer in AdamW(namedParameters: m.namedParameters(), lr: 0.01) },
                         { (m: Module) -> Optimizer in SGD(namedParameters: m.namedParameters(), lr: 0.1, momentum: 0.9) }] {
                let a = makeModel(), optA = make(a)
                train(a, optA, steps: 5)
                // Save after 3 steps in a second run, restore into fresh objects, take 2 more.
                let b = makeModel(), optB = make(b)
                train(b, optB, steps: 3)
                let data = try SafeTensors.encode(Checkpoint.tensors(model: b, optimizers: ["opt": optB]))
                let c = makeModel(), optC = make(c)
                train(c, optC, steps: 1)   // disturb it: restoring must overwrite everything
                try Checkpoint.restore(try SafeTensors.decode(data).dictionary, into: c, optimizers: ["opt": optC],
                                       source: "test")
                #expect(optC.stepCount == 3)
                train(c, optC, steps: 2)
                for ((name, ta), (_, tc)) in zip(a.stateDict(), c.stateDict()) { expectBitIdentical(tc, ta, Comment(rawValue: name)) }
            }
        }

        @Test("loading mismatched optimizer state throws and changes nothing")
        func stateErrors() throws {
            let p = Tensor.zeros([2], requiresGrad: true)
            let adam = Adam(namedParameters: [("w", p)])
            var state = Dictionary(uniqueKeysWithValues: adam.stateDict().map { ($0.0, $0.1) })
            state["w.exp_avg"] = Tensor.zeros([3])
            state["w.exp_avg_sq"] = nil
            state["v.exp_avg"] = Tensor.zeros([2])
            let e = try #require(throws: StateDictError.self) { try adam.loadStateDict(state) }
            #expect(e.missing == ["w.exp_avg_sq"] && e.unexpected == ["v.exp_avg"] && e.wrongShapes.map(\.name) == ["w.exp_avg"])
            let good = Dictionary(uniqueKeysWithValues: adam.stateDict().map { ($0.0, $0.1.clone()) })
            var fractional = good
            fractional["step"] = Tensor(2.5)
            #expect(throws: StateDictError.self) { try adam.loadStateDict(fractional) }
            #expect(adam.stepCount == 0)
            var restored = good
            restored["step"] = Tensor(7)
            try adam.loadStateDict(restored)
            #expect(adam.stepCount == 7)
        }
    }
}
