import Foundation
import Testing
import Tensors
import TestSupport
@testable import NN

extension NNSuite {
    @Suite("Checkpoint")
    struct CheckpointTests {
        static func model(seed: UInt64, width: Int = 4) -> Sequential {
            var rng = RandomGenerator(seed: seed)
            return Sequential(Conv2d(inChannels: 2, outChannels: width, kernelSize: 3, padding: 1, rng: &rng),
                              BatchNorm2d(width), LeakyReLU(0.2))
        }

        @Test("model, optimizers and metadata round-trip through one file")
        func roundTrip() throws {
            let dir = try SafeTensorsTests.folder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let url = dir.appendingPathComponent("ckpt.safetensors")
            let a = Self.model(seed: 1)
            let adam = Adam(namedParameters: a.namedParameters(), lr: 0.1)
            let sgd = SGD(namedParameters: a.namedParameters(), lr: 0.1, momentum: 0.5)
            _ = a(seededNormal([2, 2, 3, 3], seed: 3))   // moves BatchNorm's running statistics
            for p in a.parameters() { p.grad = seededNormal(p.shape, seed: 4) }
            adam.step(); sgd.step()
            try Checkpoint.save(to: url, model: a, optimizers: ["ae": adam, "disc": sgd],
                                metadata: ["step": "1", "seed": "1"])
            let names = try SafeTensors.read(from: url).names
            #expect(names.contains("model.0.weight") && names.contains("model.1.running_var"))
            #expect(names.contains("optim.ae.step") && names.contains("optim.ae.0.weight.exp_avg_sq"))
            #expect(names.contains("optim.disc.1.bias.momentum_buffer"))

            let b = Self.model(seed: 2)
            let adamB = Adam(namedParameters: b.namedParameters(), lr: 0.1)
            let sgdB = SGD(namedParameters: b.namedParameters(), lr: 0.1, momentum: 0.5)
            let metadata = try Checkpoint.load(from: url, into: b, optimizers: ["ae": adamB, "disc": sgdB])
            #expect(metadata == ["step": "1", "seed": "1"])
            for ((n, x), (_, y)) in zip(Checkpoint.tensors(model: a, optimizers: ["ae": adam, "disc": sgd]),
                                         Checkpoint.tensors(model: b, optimizers: ["ae": adamB, "disc": sgdB])) {
                expectBitIdentical(y, x, Comment(rawValue: n))
            }
            // The model alone, ignoring the optimizer state.
            let c = Self.model(seed: 3)
            try Checkpoint.loadModel(from: url, into: c)
            expectBitIdentical(c.stateDict()[0].1, a.stateDict()[0].1)
        }

        @Test("a checkpoint that does not fit names the file and every problem, and changes nothing")
        func mismatch() throws {
            let dir = try SafeTensorsTests.folder()
            defer { try? FileManager.default.removeItem(at: dir) }
            let url = dir.appendingPathComponent("ckpt.safetensors")
            let a = Self.model(seed: 1)
            try Checkpoint.save(to: url, model: a, optimizers: ["ae": Adam(namedParameters: a.namedParameters())])
            let wider = Self.model(seed: 2, width: 5)
            let opt = Adam(namedParameters: wider.namedParameters())
            let before = wider.stateDict().map { $0.1.scalars }
            let error = try #require(throws: SafeTensorsError.self) {
                try Checkpoint.load(from: url, into: wider, optimizers: ["ae": opt])
            }
            #expect(error.file == url.path)
            #expect(error.problem.contains("0.weight is [4, 2, 3, 3], expected [5, 2, 3, 3]"))
            #expect(error.problem.contains("optimizer \"ae\""))
            #expect(wider.stateDict().map { $0.1.scalars } == before)
            // Optimizer state in the file that nobody asked for is unexpected (loadModel skips it).
            let same = Self.model(seed: 3)
            let extra = try #require(throws: SafeTensorsError.self) { try Checkpoint.load(from: url, into: same) }
            #expect(extra.problem.contains("unexpected optim.ae.0.bias.exp_avg") && extra.problem.contains("optim.ae.step"))
            // An optimizer whose state is absent from the file is missing.
            let missing = try #require(throws: SafeTensorsError.self) {
                try Checkpoint.load(from: url, into: same, optimizers: ["ae": Adam(namedParameters: same.namedParameters()),
                                                                        "disc": SGD(namedParameters: same.namedParameters(), lr: 1)])
            }
            #expect(missing.problem.contains("missing step"))
        }
    }
}
