import Foundation
import NN
import Tensors
import Testing
@testable import Workbook

@Suite struct CheckpointCacheTests {
    private func cache(in folder: URL, capture: Capture, time: ManualClock = ManualClock(),
                       interruption: Interruption = Interruption()) -> CheckpointCache {
        let cache = CheckpointCache(folder: folder, tags: ["seed0"], console: capture.console())
        cache.clock = time.clock
        cache.interruption = interruption
        return cache
    }

    /// Trains TinyModel by adding 1 to its weights per step.
    private func train(_ model: TinyModel, _ session: TrainingSession, seen: inout [Int],
                       stopAt: Int? = nil, interruption: Interruption? = nil) throws {
        try session.run { step in
            seen.append(step)
            model.bump()
            if step == stopAt { interruption?.request(SIGINT) }
            return ["loss": Float(step)]
        }
    }

    @Test func latestFinishedPicksTheLongestFinishedRun() throws {
        let folder = try temporaryFolder(), capture = Capture()
        let cache = cache(in: folder, capture: capture)
        #expect(cache.latestFinished("tiny", make: { TinyModel(value: 0) }) == nil)
        var seen: [Int] = []
        for steps in [2, 5, 3] {
            _ = try cache.loadOrTrain("tiny", budget: .steps(steps), make: { TinyModel(value: 0) }) { model, session in
                try train(model, session, seen: &seen)
            }
        }
        // An unfinished longer run is passed over; so are other names' files.
        let interruption = Interruption()
        let stopping = self.cache(in: folder, capture: capture, interruption: interruption)
        _ = try? stopping.loadOrTrain("tiny", budget: .steps(9), make: { TinyModel(value: 0) }) { model, session in
            try train(model, session, seen: &seen, stopAt: 1, interruption: interruption)
        }
        let found = try #require(cache.latestFinished("tiny", make: { TinyModel(value: 0) }))
        #expect(found.steps == 5 && found.url.lastPathComponent == "tiny-5-steps-seed0.safetensors")
        #expect(found.model.weight.scalars.allSatisfy { $0 == 5 })
        #expect(cache.latestFinished("tin", make: { TinyModel(value: 0) }) == nil)
    }

    @Test func trainsOnceThenLoads() throws {
        let folder = try temporaryFolder(), capture = Capture()
        let cache = cache(in: folder, capture: capture)
        var seen: [Int] = []
        var reports: [TrainingReport] = []
        cache.onReport = { reports.append($0) }
        let first = try cache.loadOrTrain("tiny", budget: .steps(4), make: { TinyModel(value: 0) }) { model, session in
            #expect(!session.isResuming)
            try train(model, session, seen: &seen)
        }
        #expect(seen == [0, 1, 2, 3] && first.weight.scalars.allSatisfy { $0 == 4 })
        #expect(reports.map(\.steps) == [4])
        let url = cache.url(for: "tiny", budget: .steps(4))
        #expect(url.lastPathComponent == "tiny-4-steps-seed0.safetensors")
        #expect(capture.output.contains("no cached tiny: training it now"))

        let second = try cache.loadOrTrain("tiny", budget: .steps(4), make: { TinyModel(value: 0) }) { _, _ in
            Issue.record("trained although the cache holds a finished model")
        }
        #expect(second.weight.scalars.allSatisfy { $0 == 4 } && second.bias.scalars.allSatisfy { $0 == 0 })
        #expect(capture.output.contains("loaded tiny from cache (4 steps, "))
        #expect(reports.map(\.steps) == [4, 4] && reports.map(\.fromCache) == [false, true])
    }

    @Test func anInterruptedRunResumesFromItsLastCheckpoint() throws {
        let folder = try temporaryFolder(), capture = Capture(), interruption = Interruption()
        let cache = cache(in: folder, capture: capture, interruption: interruption)
        var seen: [Int] = []
        #expect(throws: TrainingInterrupted.self) {
            _ = try cache.loadOrTrain("tiny", budget: .steps(10), make: { TinyModel(value: 0) }) { model, session in
                try train(model, session, seen: &seen, stopAt: 2, interruption: interruption)
            }
        }
        #expect(seen == [0, 1, 2])
        interruption.reset()

        seen = []
        let model = try cache.loadOrTrain("tiny", budget: .steps(10), make: { TinyModel(value: 0) }) { model, session in
            #expect(session.isResuming && session.start.step == 3)
            #expect(model.weight.scalars.allSatisfy { $0 == 3 })  // restored before training goes on
            try train(model, session, seen: &seen)
        }
        #expect(seen == Array(3..<10) && model.weight.scalars.allSatisfy { $0 == 10 })
        #expect(capture.output.contains("resuming tiny from step 3"))
    }

    /// A run killed between writing the temporary file and renaming it leaves the previous
    /// checkpoint intact, and the next run resumes from that one.
    @Test func aCrashDuringASaveKeepsThePreviousCheckpoint() throws {
        let folder = try temporaryFolder(), capture = Capture(), interruption = Interruption()
        let cache = cache(in: folder, capture: capture, interruption: interruption)
        var seen: [Int] = []
        _ = try? cache.loadOrTrain("tiny", budget: .steps(10), make: { TinyModel(value: 0) }) { model, session in
            try train(model, session, seen: &seen, stopAt: 4, interruption: interruption)
        }
        interruption.reset()
        let url = cache.url(for: "tiny", budget: .steps(10))
        let good = try Data(contentsOf: url)

        // What a run killed between writing the temporary file and renaming it leaves behind:
        // the complete old checkpoint, and half of the new one in NN's temporary file.
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).4242.tmp")
        try good.prefix(good.count / 2).write(to: temporary)
        #expect(try Data(contentsOf: url) == good)

        seen = []
        let model = try cache.loadOrTrain("tiny", budget: .steps(10), make: { TinyModel(value: 0) }) { model, session in
            #expect(session.start.step == 5)
            try train(model, session, seen: &seen)
        }
        #expect(seen == Array(5..<10) && model.weight.scalars.allSatisfy { $0 == 10 })
        #expect(!FileManager.default.fileExists(atPath: temporary.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == [url.lastPathComponent])
        #expect(capture.error.isEmpty)
    }

    @Test func aCorruptCacheFileIsSetAsideWithAWarningAndRetrained() throws {
        let folder = try temporaryFolder(), capture = Capture()
        let cache = cache(in: folder, capture: capture)
        let url = cache.url(for: "tiny", budget: .steps(2))
        try Data("not a checkpoint".utf8).write(to: url)
        var seen: [Int] = []
        let model = try cache.loadOrTrain("tiny", budget: .steps(2), make: { TinyModel(value: 0) }) { model, session in
            try train(model, session, seen: &seen)
        }
        #expect(seen == [0, 1] && model.weight.scalars.allSatisfy { $0 == 2 })
        #expect(capture.error.hasPrefix("warning: cached \(url.relativePath) is unusable ("))
        #expect(capture.error.contains("moved it to \(url.lastPathComponent).invalid and training anew"))
        #expect(try Data(contentsOf: url.appendingPathExtension("invalid")) == Data("not a checkpoint".utf8))
    }

    @Test func aCheckpointOfAnotherShapeIsSetAsideNamingTheTensor() throws {
        let folder = try temporaryFolder(), capture = Capture()
        let cache = cache(in: folder, capture: capture)
        _ = try cache.loadOrTrain("tiny", budget: .steps(1), make: { TinyModel(value: 0, size: 3) }) { _, _ in }
        let model = try cache.loadOrTrain("tiny", budget: .steps(1), make: { TinyModel(value: 5, size: 4) }) {
            model, session in try session.run { _ in [:] }
        }
        #expect(model.weight.shape == [4, 2] && model.weight.scalars.allSatisfy { $0 == 5 })
        #expect(capture.error.hasPrefix("warning: cached \(cache.url(for: "tiny", budget: .steps(1)).relativePath) "
            + "is unusable (does not fit: "))
        #expect(capture.error.contains("bias is [3], expected [4]"))
    }

    @Test func savingNaNWeightsKeepsTheLastGoodCheckpoint() throws {
        let folder = try temporaryFolder(), capture = Capture(), time = ManualClock()
        let cache = cache(in: folder, capture: capture, time: time)
        cache.checkpointInterval = 2
        let url = cache.url(for: "tiny", budget: .steps(10))
        let error = #expect(throws: WorkbookError.self) {
            _ = try cache.loadOrTrain("tiny", budget: .steps(10), make: { TinyModel(value: 0) }) { model, session in
                try session.run { step in
                    time.advance(1)
                    model.bump(by: step == 3 ? .nan : 1)  // gradients blew up at step 3
                    return [:]
                }
            }
        }
        #expect(error?.message.contains("tiny: weight became NaN or infinite by step 4") == true)
        let saved = try SafeTensors.read(from: url)
        #expect(saved.metadata["workbook.step"] == "2")
        #expect(saved["model.weight"]?.scalars.allSatisfy { $0 == 2 } == true)
    }

    @Test func optimizerStateIsSavedAndRestoredOnResume() throws {
        let folder = try temporaryFolder(), capture = Capture(), interruption = Interruption()
        let cache = cache(in: folder, capture: capture, interruption: interruption)
        func step(_ model: TinyModel, _ optimizer: Optimizer) {
            for p in model.parameters() { p.grad = Tensor(shape: p.shape, repeating: 1) }
            optimizer.step()
        }
        var uninterrupted: [Float] = []
        _ = try cache.loadOrTrain("reference", budget: .steps(5), make: { TinyModel(value: 0) }) { model, session in
            let optimizer = Adam(namedParameters: model.namedParameters(), lr: 0.1)
            try session.include(optimizer, as: "ae")
            try session.run { _ in step(model, optimizer); return [:] }
            uninterrupted = model.weight.scalars
        }

        _ = try? cache.loadOrTrain("tiny", budget: .steps(5), make: { TinyModel(value: 0) }) { model, session in
            let optimizer = Adam(namedParameters: model.namedParameters(), lr: 0.1)
            try session.include(optimizer, as: "ae")
            try session.run { i in
                step(model, optimizer)
                if i == 1 { interruption.request() }
                return [:]
            }
        }
        interruption.reset()
        let url = cache.url(for: "tiny", budget: .steps(5))
        let saved = try SafeTensors.read(from: url)
        #expect(Set(saved.names) == ["model.weight", "model.bias", "optim.ae.step", "optim.ae.weight.exp_avg",
                                     "optim.ae.weight.exp_avg_sq", "optim.ae.bias.exp_avg", "optim.ae.bias.exp_avg_sq"])

        let resumed = try cache.loadOrTrain("tiny", budget: .steps(5), make: { TinyModel(value: 0) }) { model, session in
            let optimizer = Adam(namedParameters: model.namedParameters(), lr: 0.1)
            try session.include(optimizer, as: "ae")
            #expect(optimizer.stepCount == 2)
            try session.run { _ in step(model, optimizer); return [:] }
        }
        // Adam's moments came back too, so the resumed run matches the uninterrupted one exactly.
        #expect(resumed.weight.scalars == uninterrupted)

        // An optimizer that does not fit the checkpoint is an error naming the file.
        try FileManager.default.removeItem(at: url)
        _ = try? cache.loadOrTrain("tiny", budget: .steps(5), make: { TinyModel(value: 0) }) { model, session in
            try session.include(Adam(namedParameters: model.namedParameters(), lr: 0.1), as: "ae")
            try session.run { _ in interruption.request(); return [:] }
        }
        interruption.reset()
        let error = #expect(throws: WorkbookError.self) {
            _ = try cache.loadOrTrain("tiny", budget: .steps(5), make: { TinyModel(value: 0) }) { _, session in
                let other = TinyModel(value: 0, size: 4)
                try session.include(Adam(namedParameters: other.namedParameters(), lr: 0.1), as: "ae")
            }
        }
        #expect(error?.message.hasPrefix("checkpoint \(url.relativePath) cannot resume tiny: ") == true)
    }

    @Test func atomicWritesReplaceWholeFiles() throws {
        let url = try temporaryFolder().appendingPathComponent("a/b/file.txt")
        try AtomicFile.write(Data("one".utf8), to: url)
        try AtomicFile.write(Data("two".utf8), to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == "two")
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path) == ["file.txt"])
    }
}
