import Foundation
import NN
import Taming
import Tensors
import Workbook

/// The training loops the later chapters share, each loading its model from the cache when a
/// finished one is there. Every step's data and randomness come from the seed and the step
/// alone, so that a resumed run sees what an uninterrupted one would.
public enum StageTraining {
    /// A first stage with chapter 02's recipe: `recipe.autoencoder` trained by `VQTrainer` with
    /// `training` for `steps` steps on `images(step)` (a batch [B, 3, H, W] in [−1, 1]). The
    /// model is initialised from `seed`, the trainer from `seed` + 1.
    public static func firstStage(_ name: String, cache: CheckpointCache, recipe: VQRecipe, training: VQTrainingConfig,
                                  steps: Int, seed: UInt64, images: (Int) -> Tensor) throws -> VQModel {
        try cache.loadOrTrain(name, budget: .steps(steps), make: { () -> VQModel in
            var rng = RandomGenerator(seed: seed)
            return VQModel(recipe.autoencoder, rng: &rng)
        }) { model, session in
            let trainer = VQTrainer(model: model, config: training, seed: seed &+ 1)
            try session.include(trainer.optimizer, as: "ae")
            if session.isResuming { trainer.resume() }
            try session.run { step in
                trainer.scheduleLearningRate(progress: session.fractionSpent(step: step))
                let losses = trainer.step(images(step), step: step)
                try guardFinite(losses.reconstruction, step: step)
                return ["rec": losses.reconstruction, "usage": losses.batchUsage]
            }
        }
    }

    /// A transformer over `firstStage`'s codes with chapter 04's recipe: AdamW at `learningRate`,
    /// a warm-up over a twentieth of `plannedSteps` and a cosine decay to a tenth, gradients
    /// clipped at norm 1, the loss on image codes only. `batch` draws a step's sequences with the
    /// step's generator (seeded `seed` + 1000 + step; the same generator then drives the step),
    /// and the GPT is initialised from `seed` + 2. Returns the model and its training seconds
    /// (nil when it was loaded).
    public static func transformer(_ name: String, cache: CheckpointCache, config: GPTConfig, firstStage: CodeTokenizer,
                                   layout: TokenLayout, grid: (height: Int, width: Int), budget: TrainingBudget,
                                   plannedSteps: Int, learningRate: Float, seed: UInt64,
                                   batch: (inout RandomGenerator) -> [[Int]]) throws -> (model: TwoStageModel, seconds: Double?) {
        var seconds: Double? = nil
        let gpt = try cache.loadOrTrain(name, budget: budget, make: { () -> GPT in
            var rng = RandomGenerator(seed: seed &+ 2)
            return GPT(config, rng: &rng)
        }) { gpt, session in
            let model = TwoStageModel(firstStage: firstStage, transformer: gpt, layout: layout, grid: grid)
            let optimizer = gpt.makeOptimizer(lr: learningRate)
            try session.include(optimizer, as: "gpt")
            let schedule = WarmupCosineSchedule(peak: learningRate, minimum: learningRate / 10,
                                                warmupSteps: plannedSteps / 20, totalSteps: plannedSteps)
            let report = try session.run { step in
                var rng = RandomGenerator(seed: seed &+ 1000 &+ UInt64(step))
                let sequences = batch(&rng)
                optimizer.lr = schedule(Int(session.fractionSpent(step: step) * Double(plannedSteps)))
                let nats = model.accumulateGradients(sequences: sequences, rng: &rng)
                try guardFinite(nats, step: step)
                clipGradNorm(gpt.parameters(), maxNorm: 1)
                optimizer.step()
                optimizer.zeroGrad()
                return ["bits": nats / Float(M_LN2)]
            }
            seconds = session.start.seconds + report.seconds
        }
        return (TwoStageModel(firstStage: firstStage, transformer: gpt, layout: layout, grid: grid), seconds)
    }
}
