import Foundation
import NN
@testable import Taming
import Tensors
import TestSupport
import Testing

@Suite struct TwoStageModelTests {
    /// A tiny first stage for 8×8 pictures: f = 2, a 4×4 grid of codes out of 8.
    static let autoencoder = AutoencoderConfig(channels: 8, channelMultipliers: [1, 2], resBlocksPerLevel: 1,
                                               attentionResolutions: [4], zChannels: 4, embedDim: 4,
                                               codebookSize: 8, resolution: 8)

    static func firstStage(order: CodeOrder = .raster, seed: UInt64 = 1) -> CodeTokenizer {
        var rng = RandomGenerator(seed: seed)
        return CodeTokenizer(autoencoder: VQModel(autoencoder, rng: &rng), order: order)
    }

    static func pictures(_ count: Int, side: Int = 8, seed: UInt64 = 2) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        return Tensor.uniform([count, 3, side, side], low: -1, high: 1, rng: &rng)
    }

    /// A two-stage model over 16 codes with a prefix of `prefix` conditioning tokens from 3
    /// values (or the start token), its position table and biases made non-zero.
    static func model(prefix: Int? = nil, order: CodeOrder = .raster, seed: UInt64 = 3) -> TwoStageModel {
        let layout = prefix.map { TokenLayout(codebookSize: 8, conditioningValues: 3, prefixLength: $0, imageLength: 16) }
            ?? .unconditional(codebookSize: 8, imageLength: 16)
        var rng = RandomGenerator(seed: seed)
        let gpt = GPT(TwoStageModel.transformerConfig(layout: layout, layers: 2, heads: 2, embeddingDim: 16), rng: &rng)
        for (name, p) in gpt.namedParameters() where name == "pos_emb" || name.hasSuffix("bias") {
            p.copy(from: Tensor.normal(p.shape, std: 0.1, rng: &rng))
        }
        return TwoStageModel(firstStage: firstStage(order: order), transformer: gpt, layout: layout, grid: (4, 4))
    }

    static func randomSequences(_ model: TwoStageModel, count: Int, seed: UInt64) -> [[Int]] {
        var rng = RandomGenerator(seed: seed)
        let layout = model.layout
        let codes = (0..<count).map { _ in (0..<layout.imageLength).map { _ in rng.int(below: layout.codebookSize) } }
        let conditioning = layout.conditioningValues == 1 ? nil
            : (0..<count).map { _ in (0..<layout.prefixLength).map { _ in rng.int(below: layout.conditioningValues) } }
        return model.sequences(codes: codes, conditioning: conditioning)
    }

    // MARK: The first stage

    /// Encoding gives the quantiser's own indices (in raster order), and decoding them gives the
    /// autoencoder's reconstruction — in every order.
    @Test(arguments: CodeOrder.all)
    func tokeniseThenDecodeIsTheReconstruction(order: CodeOrder) {
        let tokenizer = Self.firstStage(order: order)
        let x = Self.pictures(5)
        let sequences = tokenizer.encode(x, batchSize: 2)                 // batches of 2, 2 and 1
        #expect(sequences.count == 5 && sequences.allSatisfy { $0.count == 16 })
        #expect(sequences.allSatisfy { $0.allSatisfy { (0..<8).contains($0) } })
        let reference = tokenizer.autoencoder.reconstruct(x)
        let raster = sequences.flatMap { order.raster(fromSequence: $0, height: 4, width: 4) }
        #expect(raster == reference.indices)
        expectClose(tokenizer.decode(sequences, height: 4, width: 4, batchSize: 3), reference.images, rtol: 1e-5, atol: 1e-5)
        expectClose(tokenizer.reconstruct(x), reference.images, rtol: 1e-5, atol: 1e-5)
        #expect(tokenizer.autoencoder.isTraining, "the tokenizer restores the autoencoder's mode")
    }

    /// A convolutional first stage trained on one size encodes another: 16×16 pictures are an
    /// 8×8 grid at f = 2.
    @Test func largerPicturesGiveLargerGrids() {
        let tokenizer = Self.firstStage()
        #expect(tokenizer.grid(imageHeight: 16, imageWidth: 12)! == (8, 6))
        #expect(tokenizer.grid(imageHeight: 15, imageWidth: 16) == nil)
        let codes = tokenizer.encode(Self.pictures(2, side: 16))
        #expect(codes.allSatisfy { $0.count == 64 })
        #expect(tokenizer.decode(codes, height: 8, width: 8).shape == [2, 3, 16, 16])
    }

    // MARK: Layout

    @Test func layoutOffsetsConditioningTokensPastTheCodes() {
        let layout = TokenLayout(codebookSize: 8, conditioningValues: 3, prefixLength: 2, imageLength: 4)
        #expect(layout.vocabularySize == 11 && layout.blockSize == 5)
        #expect(layout.sequence(codes: [7, 0, 1, 2], conditioning: [2, 0]) == [10, 8, 7, 0, 1, 2])
        #expect(layout.codes(of: [10, 8, 7, 0, 1, 2]) == [7, 0, 1, 2])
        let plain = TokenLayout.unconditional(codebookSize: 8, imageLength: 4)
        #expect(plain.startToken == 8 && plain.vocabularySize == 9 && plain.blockSize == 4)
        #expect(plain.sequence(codes: [1, 2, 3, 4]) == [8, 1, 2, 3, 4])
    }

    // MARK: The loss

    /// The loss is the cross-entropy of the N code predictions alone, averaged over them: the
    /// P − 1 predictions of conditioning tokens do not count.
    @Test(arguments: [1, 3])
    func lossCountsImageTokensOnly(prefix: Int) {
        let model = Self.model(prefix: prefix == 1 ? nil : prefix)
        let sequences = Self.randomSequences(model, count: 3, seed: 4)
        var rng = RandomGenerator(seed: 0)
        let loss = model.loss(sequences: sequences, rng: &rng).item
        let logits = withNoGrad { model.transformer(sequences.map { Array($0.dropLast()) }) }  // [B, T, V]
        let (t, v) = (logits.shape[1], logits.shape[2])
        var total = 0.0
        logits.withUnsafeBufferPointer { p in
            for (i, s) in sequences.enumerated() {
                for position in (prefix - 1)..<t {
                    let row = Array(p[((i * t + position) * v)..<((i * t + position + 1) * v)]).map(Double.init)
                    let m = row.max()!
                    total += log(row.map { exp($0 - m) }.reduce(0, +)) + m - row[s[position + 1]]
                }
            }
        }
        expectClose(Double(loss), total / Double(3 * 16), rtol: 1e-5, atol: 1e-6)
        if prefix == 1 {
            expectClose(loss, model.transformer.loss(sequences: sequences).item, rtol: 1e-6)
        }
    }

    /// The fused step with the prefix rows taken out gives the autodiff model's loss and
    /// gradients.
    @Test(arguments: [1, 4])
    func fusedStepMatchesTheAutodiffLoss(prefix: Int) {
        let fused = Self.model(prefix: prefix == 1 ? nil : prefix), reference = Self.model(prefix: prefix == 1 ? nil : prefix)
        let sequences = Self.randomSequences(fused, count: 2, seed: 5)
        var a = RandomGenerator(seed: 0), b = RandomGenerator(seed: 0)
        let fusedLoss = fused.accumulateGradients(sequences: sequences, rng: &a)
        let referenceLoss = reference.accumulateGradients(sequences: sequences, fused: false, rng: &b)
        expectClose(fusedLoss, referenceLoss, rtol: 1e-5)
        for ((name, p), (_, q)) in zip(fused.transformer.namedParameters(), reference.transformer.namedParameters()) {
            guard let g = p.grad, let h = q.grad else {
                Issue.record("no gradient for \(name)")
                continue
            }
            expectClose(g, h, rtol: 1e-3, atol: 2e-5, "gradient of \(name)")
        }
    }

    /// pkeep corrupts input codes only: never the prefix, never the targets, and only into codes.
    @Test func pkeepCorruptsInputCodesOnly() {
        let model = Self.model(prefix: 3)
        model.pkeep = 0.3
        let sequences = Self.randomSequences(model, count: 20, seed: 6)
        var rng = RandomGenerator(seed: 1)
        let (inputs, targets) = model.inputsAndTargets(sequences, rng: &rng)
        #expect(zip(inputs, sequences).allSatisfy { Array($0.prefix(3)) == Array($1.prefix(3)) })
        #expect(inputs.allSatisfy { $0.dropFirst(3).allSatisfy { $0 < 8 } })
        let changed = zip(inputs, sequences).map { zip($0.dropFirst(3), $1.dropFirst(3)).filter { $0 != $1 }.count }.reduce(0, +)
        // About (1 − 0.3)·(7/8) of 20·13 input codes change.
        #expect(changed > 120 && changed < 200, "\(changed) codes changed")
        #expect(zip(targets, sequences).allSatisfy { t, s in t.prefix(2).allSatisfy { $0 == -1 } && Array(t.dropFirst(2)) == Array(s.dropFirst(3)) })
    }

    /// A few AdamW steps on one batch lower the loss.
    @Test func trainingLowersTheLoss() {
        let model = Self.model()
        let optimizer = model.transformer.makeOptimizer(lr: 1e-2)
        let sequences = Self.randomSequences(model, count: 4, seed: 7)
        var rng = RandomGenerator(seed: 2)
        var losses: [Float] = []
        for _ in 0..<30 {
            losses.append(model.accumulateGradients(sequences: sequences, rng: &rng))
            optimizer.step()
            optimizer.zeroGrad()
        }
        #expect(losses.last! < 0.5 * losses.first!, "losses \(losses.first!) → \(losses.last!)")
    }

    // MARK: Likelihood

    /// The held-out likelihood is the loss, in bits, summed over a picture's codes and spread
    /// over its pixels; it agrees with the fused evaluation when the prefix is one token.
    @Test(arguments: [1, 3])
    func likelihoodIsTheLossInBits(prefix: Int) {
        let model = Self.model(prefix: prefix == 1 ? nil : prefix)
        let sequences = Self.randomSequences(model, count: 5, seed: 8)
        var rng = RandomGenerator(seed: 0)
        let nats = Double(model.loss(sequences: sequences, rng: &rng).item)
        let likelihood = model.likelihood(sequences: sequences, batchSize: 2)
        #expect(likelihood.natsPerPosition.count == 16 && likelihood.sequences == 5)
        expectClose(likelihood.natsPerToken, nats, rtol: 1e-5, atol: 1e-6)
        expectClose(likelihood.bitsPerImage, 16 * nats / log(2), rtol: 1e-5, atol: 1e-6)
        #expect(likelihood.pixelsPerImage == 64)
        expectClose(likelihood.bitsPerPixel, likelihood.bitsPerImage / 64, rtol: 1e-12)
        if prefix == 1 {
            expectClose(likelihood.natsPerToken, model.transformer.evaluate(sequences: sequences), rtol: 1e-5, atol: 1e-6)
        }
        #expect(model.transformer.isTraining)
    }

    // MARK: Sampling

    /// Cached and recomputing sampling draw the same codes, never a conditioning token, and
    /// keep the codes they were given.
    @Test(arguments: [1, 3])
    func sampledCodesAgreeWithAndWithoutTheCache(prefix: Int) {
        let model = Self.model(prefix: prefix == 1 ? nil : prefix)
        let conditioning: [[Int]]? = prefix == 1 ? nil : [[0, 1, 2], [2, 2, 0]]
        let given = [[1, 2, 3, 4, 5], [7, 7, 0, 0, 6]]
        let sampler = TokenSampler(temperature: 1.5)
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let cached = model.sampleCodes(count: 2, conditioning: conditioning, given: given, sampler: sampler, rng: &a)
        let recomputed = model.sampleCodes(count: 2, conditioning: conditioning, given: given, sampler: sampler,
                                           useCache: false, rng: &b)
        #expect(cached == recomputed)
        #expect(cached.allSatisfy { $0.count == 16 && $0.allSatisfy { (0..<8).contains($0) } })
        #expect(zip(cached, given).allSatisfy { Array($0.prefix(5)) == $1 })
        var c = RandomGenerator(seed: 10)
        let fresh = model.sampleCodes(count: 3, conditioning: prefix == 1 ? nil : [[0, 0, 0], [1, 1, 1], [2, 2, 2]],
                                      sampler: TokenSampler(temperature: 3), rng: &c)
        #expect(fresh.count == 3 && fresh.allSatisfy { $0.count == 16 && $0.allSatisfy { $0 < 8 } })
    }

    /// Sampled codes decode through the codebook and the decoder, in the model's order.
    @Test func samplesDecodeToPictures() {
        let model = Self.model(order: .spiralIn)
        var rng = RandomGenerator(seed: 11)
        let codes = model.sampleCodes(count: 2, sampler: TokenSampler(topK: 3), rng: &rng)
        let pictures = model.decode(codes)
        #expect(pictures.shape == [2, 3, 8, 8])
        let raster = codes.flatMap { CodeOrder.spiralIn.raster(fromSequence: $0, height: 4, width: 4) }
        let direct = withNoGrad { model.firstStage.autoencoder.decode(indices: raster, gridShape: [2, 4, 4]) }
        expectClose(pictures, direct, rtol: 1e-5, atol: 1e-6)
    }
}
