import Foundation
import NN
import Taming
import Tensors
import TestSupport
import Testing

/// A smooth two-layer backbone (conv → SiLU, twice) for finite-difference checks: no ReLU kinks
/// that a probe could cross.
final class SmoothBackbone: Module, FeatureBackbone {
    let conv1: Conv2d
    let conv2: Conv2d

    init(rng: inout RandomGenerator) {
        conv1 = Conv2d(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, rng: &rng)
        conv2 = Conv2d(inChannels: 4, outChannels: 5, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
        super.init()
    }

    var featureChannels: [Int] { [4, 5] }

    func featureStacks(_ x: Tensor) -> [Tensor] {
        let a = conv1(x).silu()
        return [a, conv2(a).silu()]
    }
}

/// The image itself through a ReLU as the only feature map: positions whose three values are all
/// negative have an all-zero feature vector, where a careless unit normalisation gives NaN gradients.
final class RectifiedPixels: Module, FeatureBackbone {
    var featureChannels: [Int] { [3] }
    func featureStacks(_ x: Tensor) -> [Tensor] { [x.relu()] }
}

/// A unique temporary file path.
func temporaryFile(_ name: String) -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("perceptual-\(UUID().uuidString)-\(name)")
}

@Suite struct PerceptualLossTests {
    /// The in-book network, narrowed so that the tests stay fast.
    static func smallNetwork(seed: UInt64 = 1) -> FeatureNetwork {
        var rng = RandomGenerator(seed: seed)
        return FeatureNetwork(.init(widths: [4, 8, 8]), rng: &rng)
    }

    @Test func distanceToItselfIsZeroAndOtherwisePositiveAndSymmetric() {
        let loss = PerceptualLoss(backbone: Self.smallNetwork())
        let x = seededUniform([3, 3, 16, 16], seed: 2), y = seededUniform([3, 3, 16, 16], seed: 3)
        let same = loss.distances(x, x)
        #expect(same.shape == [3])
        #expect(same.scalars == [0, 0, 0])
        let dxy = loss.distances(x, y), dyx = loss.distances(y, x)
        expectClose(dxy, dyx, rtol: 1e-6, atol: 1e-7)
        #expect(dxy.scalars.allSatisfy { $0 > 0 })
        // A small change is closer than an unrelated picture.
        let nudged = x + seededUniform([3, 3, 16, 16], seed: 4, low: -0.05, high: 0.05)
        let near = loss.distances(x, nudged)
        for i in 0..<3 { #expect(near[i] > 0 && near[i] < dxy[i]) }
        // The mean is the training loss; meanDistance is the batched metric.
        expectClose(loss(x, y).item, dxy.scalars.reduce(0, +) / 3, rtol: 1e-6)
        expectClose(loss.meanDistance(x, y, batchSize: 2), Double(dxy.scalars.reduce(0, +) / 3), rtol: 1e-5, atol: 1e-7)
    }

    /// Each layer's term with weights 1 is the mean over positions of ‖â − b̂‖² = 2 − 2cos: here
    /// computed directly from the feature maps, position by position, in Double.
    @Test func matchesTheFormulaComputedByHand() {
        var rng = RandomGenerator(seed: 5)
        let backbone = SmoothBackbone(rng: &rng)
        let weights = [Tensor.uniform([1, 4, 1, 1], low: 0, high: 1, rng: &rng),
                       Tensor.uniform([1, 5, 1, 1], low: 0, high: 1, rng: &rng)]
        let x = seededUniform([2, 3, 6, 6], seed: 6), y = seededUniform([2, 3, 6, 6], seed: 7)
        let fx = backbone.featureStacks(x), fy = backbone.featureStacks(y)
        var expected = [Double](repeating: 0, count: 2)
        for l in 0..<2 {
            let (c, h, w) = (fx[l].shape[1], fx[l].shape[2], fx[l].shape[3])
            for b in 0..<2 {
                var layer = 0.0
                for i in 0..<h {
                    for j in 0..<w {
                        let a = (0..<c).map { Double(fx[l][b, $0, i, j]) }, e = (0..<c).map { Double(fy[l][b, $0, i, j]) }
                        let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot() + 1e-10
                        let ne = e.reduce(0) { $0 + $1 * $1 }.squareRoot() + 1e-10
                        for k in 0..<c {
                            let d = a[k] / na - e[k] / ne
                            layer += Double(weights[l][0, k, 0, 0]) * d * d
                        }
                    }
                }
                expected[b] += layer / Double(h * w)
            }
        }
        let loss = PerceptualLoss(backbone: backbone, linearWeights: weights)
        expectClose(loss.distances(x, y).scalars.map(Double.init), expected, rtol: 1e-4, atol: 1e-6)
    }

    @Test func gradientsReachTheInputByFiniteDifferences() {
        var rng = RandomGenerator(seed: 8)
        let loss = PerceptualLoss(backbone: SmoothBackbone(rng: &rng))
        let y = seededUniform([2, 3, 6, 6], seed: 9)
        gradientCheck(inputs: [seededUniform([2, 3, 6, 6], seed: 10)], rtol: 2e-2, atol: 2e-3) {
            loss.distances($0[0], y)
        }
        // The in-book network itself, ReLUs and all: the probes (±1e-3) cross no kink here.
        let net = PerceptualLoss(backbone: Self.smallNetwork(seed: 11))
        let y2 = seededUniform([1, 3, 8, 8], seed: 12)
        gradientCheck(inputs: [seededUniform([1, 3, 8, 8], seed: 13)], rtol: 3e-2, atol: 3e-3, step: 1e-3) {
            net.distances($0[0], y2)
        }
    }

    @Test func theNetworkIsFrozenWhileGradientsFlowThroughIt() throws {
        let network = Self.smallNetwork()
        #expect(!network.namedParameters().isEmpty)
        let names = network.stateDict().map(\.0)
        let loss = PerceptualLoss(backbone: network)
        #expect(loss.namedParameters().isEmpty)
        #expect(network.namedParameters().isEmpty)
        // The loss module sees the network (LPIPS's `net`) and its weights as frozen buffers.
        let buffers = loss.namedBuffers().map(\.0)
        #expect(buffers.contains("net.stages.0.0.weight") && buffers.contains("lin.2"))
        #expect(network.stateDict().map(\.0) == names, "freezing keeps every name for checkpoints")
        // A generator in front: its weights get gradients through the loss, the network's none.
        var rng = RandomGenerator(seed: 14)
        let generator = Conv2d(inChannels: 3, outChannels: 3, kernelSize: 3, padding: 1, rng: &rng)
        let x = seededUniform([2, 3, 8, 8], seed: 15), target = seededUniform([2, 3, 8, 8], seed: 16)
        let d = loss(generator(x), target)
        d.backward()
        let g = try #require(generator.weight.grad)
        #expect(g.scalars.contains { $0 != 0 })
        for (name, t) in network.stateDict() { #expect(t.grad == nil, "\(name) received a gradient") }
        for w in loss.lin { #expect(w.grad == nil) }
    }

    @Test func zeroFeatureVectorsGiveFiniteGradients() {
        let loss = PerceptualLoss(backbone: RectifiedPixels())
        // Left half all negative: no feature at all there, in both images.
        let x = Tensor.make([1, 3, 4, 4]) { b in for i in b.indices { b[i] = (i % 4) < 2 ? -0.5 : Float(i % 7) * 0.1 + 0.1 } }
        let y = Tensor.make([1, 3, 4, 4]) { b in for i in b.indices { b[i] = (i % 4) < 2 ? -0.3 : Float(i % 5) * 0.1 + 0.2 } }
        for (a, b) in [(x, y), (x, x)] {
            let leaf = a.clone()
            leaf.requiresGrad = true
            let g = loss(leaf, b).gradients(with: [leaf])[0]
            #expect(g.scalars.allSatisfy { $0.isFinite })
        }
        #expect(loss(x, x).item == 0)
        #expect(loss(x, y).item > 0)
    }

    // MARK: VGG16 in torchvision's layout

    /// The names torchvision's `vgg16().features` gives its convolutions.
    static let torchvisionNames: [String] = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]
        .flatMap { ["features.\($0).weight", "features.\($0).bias"] }

    /// Random values for a tensor of any size, cheaply: a block of 4,096 seeded N(0, σ²) values
    /// repeated (a debug build draws 14.7 M random numbers slowly).
    static func tiledRandom(_ shape: [Int], std: Float, rng: inout RandomGenerator) -> Tensor {
        let block = Tensor.normal([4096], std: std, rng: &rng)
        return Tensor.make(shape) { out in
            block.withUnsafeBufferPointer { b in
                var start = 0
                while start < out.count {
                    let n = min(4096, out.count - start)
                    (out.baseAddress! + start).update(from: b.baseAddress!, count: n)
                    start += n
                }
            }
        }
    }

    @Test func randomVGG16WeightsInTorchvisionLayoutLoadAndRun() throws {
        #expect(VGG16Features.parameterShapes.map(\.name) == Self.torchvisionNames)
        // He-scaled random weights in torchvision's names; a whole vgg16().state_dict() also holds
        // the classifier, which is ignored.
        var rng = RandomGenerator(seed: 20)
        let weights = VGG16Features.parameterShapes.map { name, shape in
            (name, Self.tiledRandom(shape, std: shape.count == 4 ? (2 / Float(shape[1] * 9)).squareRoot() : 0.01, rng: &rng))
        }
        let url = temporaryFile("vgg16.safetensors"), linURL = temporaryFile("lin.safetensors")
        defer { for u in [url, linURL] { try? FileManager.default.removeItem(at: u) } }
        try SafeTensors.write(weights + [("classifier.0.weight", Tensor.zeros([4, 2]))], to: url)
        // LPIPS's lin weights in a second file.
        let lin = [64, 128, 256, 512, 512].enumerated().map { l, c in
            ("lin\(l).model.1.weight", Tensor.uniform([1, c, 1, 1], low: 0, high: 0.1, rng: &rng))
        }
        try SafeTensors.write(lin, to: linURL)

        let lpips = try PerceptualLoss.vgg16(weights: url, linearWeights: linURL)
        let vgg = try #require(lpips.net as? VGG16Features)
        let state = vgg.stateDict()
        #expect(state.map(\.0) == Self.torchvisionNames)
        #expect(state.map(\.1.shape) == VGG16Features.parameterShapes.map(\.shape))
        #expect(state.reduce(0) { $0 + $1.1.count } == 14_714_688)   // torchvision's vgg16().features
        expectBitIdentical(state[25].1, weights[25].1)
        for (w, (_, saved)) in zip(lpips.lin, lin) { expectBitIdentical(w, saved) }

        let x = seededUniform([1, 3, 16, 16], seed: 21)
        let stacks = vgg.featureStacks(x)
        #expect(stacks.map(\.shape) == [[1, 64, 16, 16], [1, 128, 8, 8], [1, 256, 4, 4], [1, 512, 2, 2], [1, 512, 1, 1]])
        // relu1_2 by hand: LPIPS's scaling, then conv → ReLU → conv → ReLU with the saved weights.
        let scaled = (x - Tensor(shape: [1, 3, 1, 1], [-0.030, -0.088, -0.188])) / Tensor(shape: [1, 3, 1, 1], [0.458, 0.448, 0.450])
        let relu1 = conv2d(scaled, weight: weights[0].1, bias: weights[1].1, padding: 1).relu()
        let relu1_2 = conv2d(relu1, weight: weights[2].1, bias: weights[3].1, padding: 1).relu()
        expectBitIdentical(stacks[0], relu1_2)
        // relu2_2 starts with a 2×2 max-pool.
        let pooled = maxPool2d(relu1_2, kernel: 2, stride: 2)
        let relu2 = conv2d(pooled, weight: weights[4].1, bias: weights[5].1, padding: 1).relu()
        expectBitIdentical(stacks[1], conv2d(relu2, weight: weights[6].1, bias: weights[7].1, padding: 1).relu())

        let y = seededUniform([1, 3, 16, 16], seed: 22)
        #expect(lpips.distances(x, x).scalars == [0])
        #expect(lpips.distances(x, y).item > 0)
        expectClose(lpips.distances(y, x).item, lpips.distances(x, y).item, rtol: 1e-6)
        #expect(lpips.namedParameters().isEmpty)
        // Without lin weights, every weight is 1 (LPIPS's baseline); gradients reach the input.
        let baseline = PerceptualLoss(backbone: vgg)
        #expect(baseline.lin.allSatisfy { $0.scalars.allSatisfy { $0 == 1 } })
        let leaf = y.clone()
        leaf.requiresGrad = true
        let g = baseline(leaf, x).gradients(with: [leaf])[0]
        #expect(g.scalars.contains { $0 != 0 } && g.scalars.allSatisfy { $0.isFinite })
        // Sizes: multiples of 16 only.
        try lpips.checkImageSize(height: 32, width: 48)
        #expect(throws: PerceptualError.self) { try lpips.checkImageSize(height: 24, width: 32) }
        #expect(throws: PerceptualError.self) { try lpips.checkImageSize(height: 0, width: 0) }
        try PerceptualLoss(backbone: Self.smallNetwork()).checkImageSize(height: 9, width: 7)
    }

    /// The first VGG block only: small files for the error cases.
    static func firstBlock() -> [(String, Tensor)] {
        var rng = RandomGenerator(seed: 23)
        return [("features.0.weight", Tensor.normal([64, 3, 3, 3], rng: &rng)), ("features.0.bias", Tensor.zeros([64])),
                ("features.2.weight", Tensor.normal([64, 64, 3, 3], rng: &rng)), ("features.2.bias", Tensor.zeros([64]))]
    }

    func loadError(_ tensors: [(String, Tensor)]) throws -> String {
        let url = temporaryFile("bad-vgg16.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(tensors, to: url)
        do {
            _ = try VGG16Features.load(from: url)
        } catch let error as SafeTensorsError {
            #expect(error.file == url.path)
            return error.description
        }
        Issue.record("loading \(tensors.map(\.0)) should have failed")
        return ""
    }

    /// The folder that Scripts/lpips-crosscheck.py filled, when the environment names one.
    static let lpipsCheckFolder = ProcessInfo.processInfo.environment["LPIPS_CHECK_DIR"]

    /// Opt-in (it needs PyTorch to make its fixtures): `--vgg16` and `--lpips` files made from
    /// the lpips package give that package's distances, with and without the learned weights.
    @Test(.enabled(if: lpipsCheckFolder != nil, "set LPIPS_CHECK_DIR to a folder made by Scripts/lpips-crosscheck.py"))
    func matchesTheLPIPSPackage() throws {
        let folder = URL(fileURLWithPath: try #require(Self.lpipsCheckFolder))
        let pairs = try SafeTensors.read(from: folder.appendingPathComponent("pairs.safetensors"))
        let x = try #require(pairs["x"]), y = try #require(pairs["y"])
        let expected = try JSONDecoder().decode([String: [Float]].self,
                                                from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
        let weights = folder.appendingPathComponent("vgg16-features.safetensors")
        let learned = try PerceptualLoss.vgg16(weights: weights,
                                               linearWeights: folder.appendingPathComponent("lpips-vgg-lin.safetensors"))
        let baseline = try PerceptualLoss.vgg16(weights: weights)
        for (loss, key) in [(learned, "lpips"), (baseline, "baseline")] {
            let ours = withNoGrad { loss.distances(x, y).scalars }
            let theirs = try #require(expected[key])
            #expect(ours.count == theirs.count)
            for (a, b) in zip(ours, theirs) {
                #expect(abs(a - b) <= 1e-5 + 1e-4 * abs(b), "\(key): ours \(ours), the lpips package's \(theirs)")
            }
        }
    }

    @Test func missingOrMisshapenVGG16TensorsAreNamed() throws {
        let missing = try loadError(Self.firstBlock())
        #expect(missing.contains("missing features.5.weight, features.5.bias"))
        #expect(missing.contains("features.28.bias"))
        #expect(!missing.contains("features.0.weight"))

        var wrong = Self.firstBlock()
        wrong[2] = ("features.2.weight", Tensor.zeros([64, 64, 1, 1]))
        let message = try loadError(wrong)
        #expect(message.contains("features.2.weight is [64, 64, 1, 1], expected [64, 64, 3, 3]"))

        // VGG16 with batch norm puts its second convolution at index 3.
        let batchNorm = [Self.firstBlock()[0], ("features.1.weight", Tensor.ones([64])), ("features.3.weight", Tensor.zeros([64, 64, 3, 3]))]
        #expect(try loadError(batchNorm).contains("batch norm"))

        let nowhere = temporaryFile("absent.safetensors")
        #expect(throws: SafeTensorsError.self) { try VGG16Features.load(from: nowhere) }
    }

    @Test func missingMisshapenOrNegativeLinWeightsAreNamed() throws {
        let channels = [64, 128, 256, 512, 512]
        func attempt(_ tensors: [(String, Tensor)]) throws -> String {
            let url = temporaryFile("lin.safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try SafeTensors.write(tensors, to: url)
            do {
                _ = try PerceptualLoss.loadLinearWeights(from: url, channels: channels)
            } catch let error as SafeTensorsError {
                return error.description
            }
            Issue.record("loading \(tensors.map(\.0)) should have failed")
            return ""
        }
        var good = channels.enumerated().map { l, c in ("lin\(l).model.1.weight", Tensor.ones([1, c, 1, 1])) }
        let url = temporaryFile("lin-good.safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try SafeTensors.write(good, to: url)
        #expect(try PerceptualLoss.loadLinearWeights(from: url, channels: channels).map(\.shape) == channels.map { [1, $0, 1, 1] })

        let missing = try attempt(good.filter { $0.0 != "lin3.model.1.weight" })
        #expect(missing.contains("missing lin3.model.1.weight"))
        good[1] = ("lin1.model.1.weight", Tensor.ones([128]))
        #expect(try attempt(good).contains("lin1.model.1.weight is [128], expected [1, 128, 1, 1]"))
        good[1] = ("lin1.model.1.weight", Tensor.ones([1, 128, 1, 1]))
        let negative = Tensor.ones([1, 64, 1, 1])
        negative[0, 7, 0, 0] = -0.5
        good[0] = ("lin0.model.1.weight", negative)
        let message = try attempt(good)
        #expect(message.contains("lin0.model.1.weight") && message.contains("channel 7"))
        // Through `vgg16(weights:linearWeights:)`, the lin file is checked first.
        let badLin = temporaryFile("lin-bad.safetensors")
        defer { try? FileManager.default.removeItem(at: badLin) }
        try SafeTensors.write(good, to: badLin)
        do {
            _ = try PerceptualLoss.vgg16(weights: temporaryFile("no-such-vgg16.safetensors"), linearWeights: badLin)
            Issue.record("a negative lin weight should have been refused")
        } catch let error as SafeTensorsError {
            #expect(error.file == badLin.path)
        }
    }
}
