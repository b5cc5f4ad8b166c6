import Testing
import Tensors
import TestSupport
@testable import NN

extension NNSuite {
    @Suite("Training")
    struct TrainingTests {
        @Test("a tiny MLP fits a fixed toy regression (loss falls by over 95 %)")
        func tinyMLP() {
            var rng = RandomGenerator(seed: 2024)
            let model = Sequential(Linear(inFeatures: 2, outFeatures: 32, rng: &rng), SiLU(),
                                   Linear(inFeatures: 32, outFeatures: 32, rng: &rng), SiLU(),
                                   Linear(inFeatures: 32, outFeatures: 1, rng: &rng))
            let x = seededUniform([64, 2], seed: 7, low: -1, high: 1)
            // y = x₀·x₁ + 0.5·x₀ − x₁²: smooth, nonlinear.
            let y = Tensor.make([64, 1]) { b in
                for i in 0..<64 {
                    let u = x[i, 0], v = x[i, 1]
                    b[i] = u * v + 0.5 * u - v * v
                }
            }
            let optimizer = Adam(namedParameters: model.namedParameters(), lr: 1e-2)
            let schedule = WarmupCosineSchedule(peak: 1e-2, minimum: 1e-3, warmupSteps: 10, totalSteps: 300)
            var first: Float = 0, last: Float = 0
            for step in 0..<300 {
                optimizer.lr = schedule(step)
                let loss = mseLoss(model(x), y)
                if step == 0 { first = loss.item }
                last = loss.item
                loss.backward()
                clipGradNorm(model.parameters(), maxNorm: 1)
                optimizer.step()
                optimizer.zeroGrad()
            }
            #expect(last < 0.05 * first, "loss \(first) → \(last)")
        }
    }
}
