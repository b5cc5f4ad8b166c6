import Foundation
import NN
@testable import Taming
import Tensors
import TestSupport
import Testing

@Suite struct GPTTests {
    static let tiny = GPTConfig(vocabularySize: 11, blockSize: 12, layers: 2, heads: 2, embeddingDim: 16)

    static func randomTokens(_ b: Int, _ t: Int, vocabulary: Int = 11, seed: UInt64) -> [[Int]] {
        var rng = RandomGenerator(seed: seed)
        return (0..<b).map { _ in (0..<t).map { _ in rng.int(below: vocabulary) } }
    }

    /// A model whose position table and biases are not zero, so that tests see them work.
    static func model(_ config: GPTConfig = tiny, seed: UInt64 = 1) -> GPT {
        var rng = RandomGenerator(seed: seed)
        let model = GPT(config, rng: &rng)
        for (name, p) in model.namedParameters() where name == "pos_emb" || name.hasSuffix("bias") {
            p.copy(from: Tensor.normal(p.shape, std: 0.1, rng: &rng))
        }
        return model
    }

    // MARK: Names and configuration

    /// The reference's state-dict names (R: taming/modules/transformer/mingpt.py) and the count
    /// 12·C² + 13·C per block plus embeddings, final LN and head.
    @Test func parameterNamesAndCountMatchTheReference() {
        // The issue's benchmark model: "6.6 M parameters".
        #expect(GPTConfig(vocabularySize: 512, blockSize: 256, layers: 8, heads: 8, embeddingDim: 256)
            .parameterCount == 6_646_272)
        var rng = RandomGenerator(seed: 0)
        let config = GPTConfig(vocabularySize: 100, blockSize: 32, layers: 8, heads: 4, embeddingDim: 64)
        let model = GPT(config, rng: &rng)
        let names = model.namedParameters().map(\.0)
        for expected in ["tok_emb.weight", "pos_emb", "blocks.0.ln1.weight", "blocks.0.ln1.bias", "blocks.0.ln2.weight",
                         "blocks.0.attn.key.weight", "blocks.0.attn.key.bias", "blocks.0.attn.query.weight",
                         "blocks.0.attn.value.weight", "blocks.0.attn.proj.weight", "blocks.7.attn.proj.bias",
                         "blocks.0.mlp.0.weight", "blocks.0.mlp.0.bias", "blocks.0.mlp.2.weight",
                         "blocks.7.mlp.2.bias", "ln_f.weight", "ln_f.bias", "head.weight"] {
            #expect(names.contains(expected), "missing \(expected)")
        }
        #expect(!names.contains("head.bias"))
        #expect(!names.contains { $0.contains("drop") })
        #expect(names.count == 5 + 8 * 16)
        #expect(model.parameterCount == config.parameterCount)
        #expect(model.pos_emb.scalars.allSatisfy { $0 == 0 })
        #expect(model.blocks[0].attn.key.bias!.scalars.allSatisfy { $0 == 0 })
        let std = model.blocks[0].mlp[0].weightStd
        #expect(abs(std - 0.02) < 0.001, "Linear weights should be N(0, 0.02), std is \(std)")
    }

    /// minGPT decays the weights of Linear layers only.
    @Test func optimizerDecaysLinearWeightsOnly() {
        let model = Self.model()
        let optimizer = model.makeOptimizer(lr: 1e-3)
        #expect(optimizer.betas == (0.9, 0.95))
        let decayed = Set(optimizer.groups[0].parameters.map(\.name))
        let plain = Set(optimizer.groups[1].parameters.map(\.name))
        #expect(optimizer.groups[0].weightDecay == 0.01 && optimizer.groups[1].weightDecay == 0)
        #expect(decayed.contains("blocks.1.attn.query.weight") && decayed.contains("head.weight")
                && decayed.contains("blocks.0.mlp.2.weight"))
        #expect(decayed.allSatisfy { $0.hasSuffix(".weight") && !$0.contains("ln") && $0 != "tok_emb.weight" })
        #expect(plain.contains("tok_emb.weight") && plain.contains("pos_emb") && plain.contains("ln_f.weight")
                && plain.contains("blocks.0.attn.key.bias"))
        #expect(decayed.count + plain.count == model.namedParameters().count)
    }

    // MARK: The KV cache

    /// Feeding a sequence through the cache, a few positions and then one at a time, gives the
    /// same logits as one full forward pass (for batches that take each matrix-product path of
    /// the inference code: single rows, groups of four, and BLAS beyond 16 rows).
    @Test(arguments: [3, 5, 17])
    func cachedAndUncachedLogitsAgree(batch: Int) {
        let model = Self.model()
        model.eval()
        let tokens = Self.randomTokens(batch, 10, seed: 2)
        let full = withNoGrad { model(tokens) }                            // [B, 10, V]
        let caches = model.makeCaches()
        var pieces: [Tensor] = []
        withNoGrad {
            pieces.append(model(tokens.map { Array($0[0..<4]) }, caches: caches))
            for p in 4..<10 { pieces.append(model(tokens.map { [$0[p]] }, caches: caches)) }
        }
        #expect(caches.allSatisfy { $0.length == 10 })
        expectClose(concat(pieces, axis: 1), full, rtol: 1e-4, atol: 1e-5)
    }

    /// With a position period, position i reads row i mod p of the table — in the autodiff
    /// forward, the hand-written step (loss and every gradient, the table's rows summing the
    /// gradients of the positions that share them) and the cached inference alike; and it is a
    /// different model from the one without.
    @Test func positionPeriodSharesRowsEverywhere() {
        var config = Self.tiny
        config.positionPeriod = 4
        let fused = Self.model(config, seed: 3), reference = Self.model(config, seed: 3)
        let inputs = Self.randomTokens(2, 11, seed: 6), targets = Self.randomTokens(2, 11, seed: 7)
        let fusedLoss = fused.fusedLossAndGradients(inputs: inputs, targets: targets)
        let loss = reference.loss(inputs: inputs, targets: targets)
        loss.backward()
        expectClose(fusedLoss, loss.item, rtol: 1e-5)
        for ((name, p), (_, q)) in zip(fused.namedParameters(), reference.namedParameters()) {
            expectClose(p.grad!, q.grad!, rtol: 1e-3, atol: 2e-5, "gradient of \(name)")
        }
        // Rows 4 … of the table are never read, so they get no gradient.
        #expect(reference.pos_emb.grad!.slice(axis: 1, 4..<12).scalars.allSatisfy { $0 == 0 })
        reference.eval()
        let full = withNoGrad { reference(inputs) }
        let caches = reference.makeCaches()
        let pieces = withNoGrad {
            [reference(inputs.map { Array($0[0..<5]) }, caches: caches)]
                + (5..<11).map { p in reference(inputs.map { [$0[p]] }, caches: caches) }
        }
        expectClose(concat(pieces, axis: 1), full, rtol: 1e-4, atol: 1e-5)
        let unshared = Self.model(Self.tiny, seed: 3)
        unshared.eval()
        #expect(withNoGrad { unshared(inputs) }.scalars != full.scalars)
    }

    /// With the same generator, cached and recomputing generation draw the same tokens.
    @Test func cachedAndRecomputedGenerationAgree() {
        let model = Self.model()
        let sampler = TokenSampler(temperature: 1.3, topK: 6)
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        let cached = model.generate(prefix: [[1, 2], [3, 4]], count: 11, sampler: sampler, useCache: true, rng: &a)
        let recomputed = model.generate(prefix: [[1, 2], [3, 4]], count: 11, sampler: sampler, useCache: false, rng: &b)
        #expect(cached == recomputed)
        #expect(cached.allSatisfy { $0.count == 11 })
        #expect(model.isTraining, "generate restores training mode")
    }

    // MARK: Sampling

    @Test func samplerFilters() {
        let logits = Tensor(shape: [2, 5], [0, 3, 1, 2, -1,
                                            4, 4, 0, 0, 0])
        let topK = TokenSampler(topK: 2).filtered(logits).scalars
        #expect(topK[0...4].map(\.isFinite) == [false, true, false, true, false])
        #expect(topK[5...9].map(\.isFinite) == [true, true, false, false, false])
        // Nucleus: probabilities of row 0 are ≈ [.03, .64, .09, .23, .01]; p = 0.8 keeps 3 and 1.
        let topP = TokenSampler(topP: 0.8).filtered(logits).scalars
        #expect(topP[0...4].map(\.isFinite) == [false, true, false, true, false])
        let limited = TokenSampler(tokenLimit: 3).filtered(logits).scalars
        #expect(limited[3].isInfinite && limited[4].isInfinite && limited[8] == -.infinity && limited[1] == 3)
        // Temperature scales the logits before filtering.
        expectClose(TokenSampler(temperature: 2).filtered(logits), logits * 0.5)
        var rng = RandomGenerator(seed: 1)
        #expect(TokenSampler.greedy(logits, rng: &rng) == [1, 0])
        #expect(TokenSampler(greedy: true, tokenLimit: 1)(logits, rng: &rng) == [0, 0])
        // Top-k 1 is greedy.
        #expect((0..<20).allSatisfy { _ in TokenSampler(topK: 1)(logits, rng: &rng)[0] == 1 })
    }

    /// Draws follow softmax(logits / T): logits [0, ln 3] give probabilities ¼ and ¾.
    @Test func samplerDrawsFromTheSoftmax() {
        var rng = RandomGenerator(seed: 3)
        let logits = Tensor(shape: [1, 2], [0, Float(log(3.0))])
        let draws = (0..<4000).map { _ in TokenSampler()(logits, rng: &rng)[0] }
        let ones = Double(draws.filter { $0 == 1 }.count) / 4000
        #expect(abs(ones - 0.75) < 0.03)
        // At temperature 2 the logits halve: probabilities 1 : √3.
        let hot = (0..<4000).map { _ in TokenSampler(temperature: 2)(logits, rng: &rng)[0] }
        let expected = 3.0.squareRoot() / (1 + 3.0.squareRoot())
        #expect(abs(Double(hot.filter { $0 == 1 }.count) / 4000 - expected) < 0.03)
    }

    @Test func pkeepCorruptsOnlyInputsAfterThePrefix() {
        var rng = RandomGenerator(seed: 4)
        let tokens = [[Int]](repeating: [Int](repeating: 7, count: 400), count: 2)
        #expect(corruptTokens(tokens, pkeep: 1, vocabularySize: 11, rng: &rng) == tokens)
        let corrupted = corruptTokens(tokens, pkeep: 0.5, vocabularySize: 11, from: 3, rng: &rng)
        #expect(corrupted.allSatisfy { Array($0.prefix(3)) == [7, 7, 7] })
        let changed = corrupted.flatMap { $0.dropFirst(3) }.filter { $0 != 7 }.count
        // Replaced with probability ½, and a replacement is 7 again with probability 1/11.
        let expected = 2 * 397 * 0.5 * 10 / 11
        #expect(abs(Double(changed) - expected) < 60)
        #expect(corrupted.allSatisfy { $0.allSatisfy { (0..<11).contains($0) } })
    }

    // MARK: Training

    /// The hand-written step and the autodiff model give the same loss and gradients, for short
    /// sequences and for ones long enough to split the attention into several row blocks.
    @Test(arguments: [9, 140])
    func fusedStepMatchesAutodiff(length: Int) {
        var config = Self.tiny
        config.blockSize = max(config.blockSize, length)
        let fused = Self.model(config, seed: 3), reference = Self.model(config, seed: 3)
        let inputs = Self.randomTokens(2, length, seed: 6), targets = Self.randomTokens(2, length, seed: 7)
        let fusedLoss = fused.fusedLossAndGradients(inputs: inputs, targets: targets)
        let loss = reference.loss(inputs: inputs, targets: targets)
        loss.backward()
        expectClose(fusedLoss, loss.item, rtol: 1e-5)
        for ((name, p), (_, q)) in zip(fused.namedParameters(), reference.namedParameters()) {
            guard let g = p.grad, let h = q.grad else {
                Issue.record("no gradient for \(name)")
                continue
            }
            expectClose(g, h, rtol: 1e-3, atol: 2e-5, "gradient of \(name)")
        }
        // A second call accumulates, as backward() does.
        let before = fused.head.weight.grad!.scalars
        _ = fused.fusedLossAndGradients(inputs: inputs, targets: targets)
        expectClose(fused.head.weight.grad!.scalars, before.map { 2 * $0 }, rtol: 1e-4, atol: 1e-6)
    }

    /// The attention written out step by step (used when attention dropout is on) is the fused
    /// kernel's maths.
    @Test func explicitAttentionMatchesTheKernel() {
        let attention = Self.model().blocks[0].attn
        let q = seededNormal([2, 2, 5, 8], seed: 8), k = seededNormal([2, 2, 5, 8], seed: 9)
        let v = seededNormal([2, 2, 5, 8], seed: 10)
        expectClose(attention.explicitAttention(q: q, k: k, v: v),
                    scaledDotProductAttention(q: q, k: k, v: v, causal: true), rtol: 1e-5, atol: 1e-6)
    }

    /// Dropout switches to the autodiff path and still trains; in evaluation mode it is off.
    @Test func dropoutIsActiveOnlyInTraining() {
        var config = Self.tiny
        config.dropout = 0.5
        let model = Self.model(config)
        let tokens = Self.randomTokens(2, 8, seed: 11)
        model.eval()
        let a = withNoGrad { model(tokens) }, b = withNoGrad { model(tokens) }
        expectClose(a, b, rtol: 0, atol: 0)
        model.train()
        let c = withNoGrad { model(tokens) }
        #expect(c.scalars != a.scalars)
        var rng = RandomGenerator(seed: 1)
        let loss = model.accumulateGradients(sequences: Self.randomTokens(2, 9, seed: 12), rng: &rng)
        #expect(loss.isFinite && model.head.weight.grad != nil)
    }

    /// A few AdamW steps on a fixed batch lower the loss a lot, through either path.
    @Test(arguments: [true, false])
    func aFewStepsLowerTheLoss(fused: Bool) {
        let model = Self.model(seed: 4)
        let optimizer = model.makeOptimizer(lr: 1e-2)
        let batch = Self.randomTokens(4, 13, seed: 13)
        var rng = RandomGenerator(seed: 2)
        var losses: [Float] = []
        for _ in 0..<40 {
            losses.append(model.accumulateGradients(sequences: batch, fused: fused, rng: &rng))
            optimizer.step()
            optimizer.zeroGrad()
        }
        #expect(losses[0] > 2 && losses.last! < 0.5 * losses[0], "losses \(losses.first!) → \(losses.last!)")
    }

    @Test func evaluateIsTheMeanLoss() {
        let model = Self.model(seed: 5)
        let sequences = Self.randomTokens(5, 13, seed: 14)
        let whole = Double(withNoGrad { model.loss(sequences: sequences).item })
        #expect(abs(model.evaluate(sequences: sequences, batchSize: 2) - whole) < 1e-4)
    }
}

@Suite struct PixelPaletteTests {
    /// Pictures made of three colours give back exactly those colours, sorted dark to light, and
    /// pixels → indices → pixels is the identity on them.
    @Test func fitsAndRoundTrips() {
        let colours: [[Float]] = [[0.9, 0.8, 0.7], [-0.8, -0.9, -0.7], [0.1, -0.2, 0.6]]
        var rng = RandomGenerator(seed: 1)
        let images = Tensor.make([4, 3, 5, 6]) { out in
            for n in 0..<4 {
                for p in 0..<30 {
                    let colour = colours[rng.int(below: 3)]
                    for c in 0..<3 { out[(n * 3 + c) * 30 + p] = colour[c] }
                }
            }
        }
        let palette = PixelPalette.fit(images: images, count: 3, rng: &rng)
        #expect(palette.count == 3)
        expectClose(palette.colors, [-0.8, -0.9, -0.7, 0.1, -0.2, 0.6, 0.9, 0.8, 0.7], atol: 1e-6)
        let indices = palette.indices(of: images)
        #expect(indices.count == 4 && indices.allSatisfy { $0.count == 30 })
        expectClose(palette.images(from: indices, height: 5, width: 6), images, atol: 1e-6)
        // Raster order: index p is row p / W, column p % W.
        let first = images.slice(axis: 0, 0..<1)
        let pixel = (0..<3).map { first[0, $0, 2, 4] }
        expectClose(Array(palette.colors[(3 * indices[0][2 * 6 + 4])...].prefix(3)), pixel, atol: 1e-6)
        // Quantising a quantised picture changes nothing; the fingerprint names the colours.
        expectClose(palette.quantized(images), images, atol: 1e-6)
        #expect(palette.fingerprint == PixelPalette(colors: palette.colors).fingerprint)
        #expect(palette.fingerprint != PixelPalette(colors: palette.colors.map { $0 * 0.5 }).fingerprint)
    }

    @Test func nearestColourWins() {
        let palette = PixelPalette(colors: [1, 1, 1, -1, -1, -1])   // sorted: black, white
        #expect(palette.colors == [-1, -1, -1, 1, 1, 1])
        let image = Tensor(shape: [1, 3, 1, 3], [0.2, -0.3, 0.9,  0.1, -0.2, 0.8,  0.3, -0.4, 1])
        #expect(palette.indices(of: image) == [[1, 0, 1]])
    }
}

extension Module {
    /// The standard deviation of a module's `weight` (for initialisation checks).
    var weightStd: Float {
        guard let w = namedParameters().first(where: { $0.0 == "weight" })?.1 else { return .nan }
        let values = w.scalars
        let mean = values.reduce(0, +) / Float(values.count)
        return (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(values.count)).squareRoot()
    }
}
