import Testing
import Tensors
import TestSupport
@testable import NN

/// A small nested model exercising every discovery rule: plain children, arrays of modules,
/// optionals (present and absent), a bare parameter, a buffer, ignored `_` scratch and non-tensor
/// properties, and a BatchNorm with running statistics.
final class Block: Module {
    let norm1: GroupNorm
    let fc: Linear
    init(_ c: Int, rng: inout RandomGenerator) {
        norm1 = GroupNorm(groups: 2, channels: c)
        fc = Linear(inFeatures: c, outFeatures: c, rng: &rng)
        super.init()
    }
}

final class Nested: Module {
    let conv_in: Conv2d
    let blocks: [Block]
    let present: Linear?
    let absent: Linear?
    let scale: Tensor
    let _scratch: Tensor
    let width = 4
    let bn: BatchNorm2d

    init(rng: inout RandomGenerator) {
        conv_in = Conv2d(inChannels: 3, outChannels: 4, kernelSize: 3, padding: 1, rng: &rng)
        blocks = [Block(4, rng: &rng), Block(4, rng: &rng)]
        present = Linear(inFeatures: 4, outFeatures: 2, bias: false, rng: &rng)
        absent = nil
        scale = Tensor.ones([1, 4, 1, 1], requiresGrad: true)
        _scratch = Tensor.zeros([7], requiresGrad: true)
        bn = BatchNorm2d(4)
        super.init()
    }
}

class Base: Module {
    let a = Tensor.zeros([1], requiresGrad: true)
}

final class Derived: Base {
    let b = Tensor.zeros([2], requiresGrad: true)
}

/// Holds the same Linear twice (weight tying): it must be listed once.
final class Tied: Module {
    let first: Linear
    let again: Linear
    let list: [Module]
    init(rng: inout RandomGenerator) {
        first = Linear(inFeatures: 2, outFeatures: 2, rng: &rng)
        again = first
        list = [first, GELU()]
        super.init()
    }
}

extension NNSuite {
    @Suite("Module")
    struct ModuleTests {
        @Test("parameter and buffer names follow declaration order, arrays and optionals")
        func names() {
            var rng = RandomGenerator(seed: 1)
            let m = Nested(rng: &rng)
            let block = ["norm1.weight", "norm1.bias", "fc.weight", "fc.bias"]
            let expected = ["conv_in.weight", "conv_in.bias"]
                + block.map { "blocks.0." + $0 } + block.map { "blocks.1." + $0 }
                + ["present.weight", "scale", "bn.weight", "bn.bias"]
            #expect(m.namedParameters().map(\.0) == expected)
            #expect(m.namedBuffers().map(\.0) == ["bn.running_mean", "bn.running_var"])
            #expect(m.stateDict().map(\.0) == Array(expected.prefix(12)) + ["bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"])
            #expect(m.namedChildren().map(\.0) == ["conv_in", "blocks.0", "blocks.1", "present", "bn"])
            #expect(m.namedModules().map(\.0) == ["", "conv_in", "blocks.0", "blocks.0.norm1", "blocks.0.fc",
                                                  "blocks.1", "blocks.1.norm1", "blocks.1.fc", "present", "bn"])
        }

        @Test("parameter count is the sum of the shapes, counted by hand")
        func counts() {
            var rng = RandomGenerator(seed: 1)
            let m = Nested(rng: &rng)
            let conv = 4 * 3 * 3 * 3 + 4
            let block = (4 + 4) + (4 * 4 + 4)
            let expected = conv + 2 * block + 4 * 2 + 4 + (4 + 4)
            #expect(m.parameterCount == expected)
            #expect(m.parameters().count == 14)
        }

        @Test("superclass properties come first; shared modules and tensors are listed once")
        func inheritanceAndSharing() {
            #expect(Derived().namedParameters().map(\.0) == ["a", "b"])
            var rng = RandomGenerator(seed: 2)
            let t = Tied(rng: &rng)
            #expect(t.namedParameters().map(\.0) == ["first.weight", "first.bias"])
            #expect(t.namedModules().map(\.0) == ["", "first", "list.1"])
            #expect(t.parameterCount == 6)
        }

        @Test("Sequential names its layers 0, 1, …")
        func sequentialNames() {
            var rng = RandomGenerator(seed: 3)
            final class Holder: Module {
                let mlp: Sequential
                init(rng: inout RandomGenerator) {
                    mlp = Sequential(Linear(inFeatures: 2, outFeatures: 8, rng: &rng), GELU(),
                                     Linear(inFeatures: 8, outFeatures: 2, rng: &rng))
                    super.init()
                }
            }
            let h = Holder(rng: &rng)
            #expect(h.namedParameters().map(\.0) == ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias"])
        }

        @Test("train() and eval() reach every module")
        func modes() {
            var rng = RandomGenerator(seed: 1)
            let m = Nested(rng: &rng)
            m.eval()
            #expect(m.namedModules().allSatisfy { !$0.1.isTraining })
            m.train()
            #expect(m.namedModules().allSatisfy { $0.1.isTraining })
        }

        @Test("zeroGrad clears every gradient")
        func zeroGrad() {
            var rng = RandomGenerator(seed: 1)
            let m = Nested(rng: &rng)
            for p in m.parameters() { p.grad = Tensor.ones(p.shape) }
            m.zeroGrad()
            #expect(m.parameters().allSatisfy { $0.grad == nil })
        }

        @Test("moduleTree mirrors the names, kinds and counts")
        func tree() {
            var rng = RandomGenerator(seed: 1)
            let m = Nested(rng: &rng)
            let tree = m.moduleTree()
            #expect(tree.kind == "Nested")
            #expect(tree.parameterCount == m.parameterCount)
            #expect(tree.children.map(\.name) == ["conv_in", "blocks", "present", "bn"])
            let blocks = tree.children[1]
            #expect(blocks.kind == "ModuleList")
            #expect(blocks.children.map(\.path) == ["blocks.0", "blocks.1"])
            #expect(blocks.children[0].children.map(\.path) == ["blocks.0.norm1", "blocks.0.fc"])
            #expect(blocks.children[0].children[1].kind == "Linear")
            #expect(blocks.children[0].children[1].details == "4→4")
            #expect(tree.children[0].details == "3→4, 3×3, padding 1")
            #expect(tree.tensors.map(\.name) == ["scale"])
            let bn = tree.children[3]
            #expect(bn.tensors.map(\.name) == ["weight", "bias", "running_mean", "running_var"])
            #expect(bn.tensors.map(\.isParameter) == [true, true, false, false])
            // Every node's count is its own tensors plus its children's.
            for node in tree.flattened {
                let own = node.tensors.filter(\.isParameter).reduce(0) { $0 + $1.shape.product }
                #expect(node.parameterCount == own + node.children.reduce(0) { $0 + $1.parameterCount })
            }
            #expect(tree.outline().contains("conv_in: Conv2d(3→4, 3×3, padding 1)  112 params"))
        }

        @Test("recordingShapes captures each layer's input and output shapes")
        func shapes() {
            var rng = RandomGenerator(seed: 4)
            let model = Sequential(Conv2d(inChannels: 3, outChannels: 8, kernelSize: 3, stride: 2, padding: 1, rng: &rng),
                                   SiLU(), GroupNorm(groups: 2, channels: 8))
            let unused = Linear(inFeatures: 2, outFeatures: 2, rng: &rng)
            let x = Tensor.zeros([2, 3, 8, 8])
            let (y, log) = model.recordingShapes { model(x) }
            #expect(y.shape == [2, 8, 4, 4])
            #expect(log[model.layers[0]]?.inputs == [[2, 3, 8, 8]])
            #expect(log[model.layers[0]]?.output == [2, 8, 4, 4])
            #expect(log[model]?.output == [2, 8, 4, 4])
            #expect(log[unused] == nil)
            #expect(log.count == 4)
            let tree = model.moduleTree(shapes: log)
            #expect(tree.outputShape == [2, 8, 4, 4])
            #expect(tree.children.map(\.outputShape) == [[2, 8, 4, 4], [2, 8, 4, 4], [2, 8, 4, 4]])
            // Outside a recording nothing is logged.
            #expect(ShapeRecorder.current == nil)
            _ = model(x)
            #expect(ShapeRecorder.current == nil)
        }

        @Test("loadStateDict copies values by name")
        func loadStateDict() throws {
            var rng = RandomGenerator(seed: 1)
            let source = Nested(rng: &rng), target = Nested(rng: &rng)
            source.bn.running_mean.copy(from: Tensor(shape: [4], [1, 2, 3, 4]))
            try target.loadStateDict(source.stateDict())
            for ((n1, a), (n2, b)) in zip(source.stateDict(), target.stateDict()) {
                #expect(n1 == n2)
                expectBitIdentical(b, a, Comment(rawValue: n1))
                #expect(a !== b)
            }
        }

        @Test("loadStateDict lists missing, unexpected and wrongly shaped tensors and changes nothing")
        func loadStateDictErrors() throws {
            var rng = RandomGenerator(seed: 1)
            let m = Nested(rng: &rng)
            var dict = Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.0, $0.1.clone()) })
            dict["conv_in.bias"] = nil
            dict["blocks.1.fc.bias"] = nil
            dict["decoder.extra"] = Tensor.zeros([1])
            dict["scale"] = Tensor.zeros([4])
            dict["present.weight"] = Tensor.zeros([2, 4])  // still loadable: values 0
            let before = m.present!.weight.scalars
            let error = try #require(throws: StateDictError.self) { try m.loadStateDict(dict) }
            #expect(error.missing == ["conv_in.bias", "blocks.1.fc.bias"])
            #expect(error.unexpected == ["decoder.extra"])
            #expect(error.wrongShapes == [.init(name: "scale", expected: [1, 4, 1, 1], found: [4])])
            for name in ["conv_in.bias", "blocks.1.fc.bias", "decoder.extra", "scale", "[1, 4, 1, 1]", "[4]"] {
                #expect(error.description.contains(name), "\(name) in \(error.description)")
            }
            #expect(m.present!.weight.scalars == before)

            // Without strict, names may be missing or extra, but shapes must still fit.
            dict["scale"] = Tensor.ones([1, 4, 1, 1])
            try m.loadStateDict(dict, strict: false)
            #expect(m.present!.weight.scalars == [Float](repeating: 0, count: 8))
            dict["scale"] = Tensor.ones([2])
            #expect(throws: StateDictError.self) { try m.loadStateDict(dict, strict: false) }
        }
    }
}
