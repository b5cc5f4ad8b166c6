import Foundation
import Testing
@testable import Workbook

@Suite struct TrainingLoopTests {
    private func loop(_ budget: TrainingBudget, start: TrainingState = TrainingState(), capture: Capture,
                      time: ManualClock, interruption: Interruption = Interruption(),
                      save: ((TrainingState) throws -> URL?)? = nil) -> TrainingLoop {
        var loop = TrainingLoop("train", budget: budget, start: start, save: save)
        loop.console = capture.console()
        loop.clock = time.clock
        loop.interruption = interruption
        return loop
    }

    @Test func aStepBudgetRunsExactlyThatManySteps() throws {
        let capture = Capture(), time = ManualClock()
        var seen: [Int] = []
        var saves: [TrainingState] = []
        let report = try loop(.steps(7), capture: capture, time: time) { state in saves.append(state); return nil }
            .run { step in
                seen.append(step)
                time.advance(1)
                return ["loss": 1]
            }
        #expect(seen == Array(0..<7))
        #expect(report.steps == 7 && report.resumedFrom == 0 && report.seconds == 7)
        #expect(saves == [TrainingState(step: 7, seconds: 7, finished: true)])
        #expect(capture.output.hasSuffix("train  7/7 steps  in 7.00 s  1.0 it/s  loss 1\n"))
    }

    @Test func aTimeBudgetStopsWhenTheTimeIsSpent() throws {
        let capture = Capture(), time = ManualClock()
        let report = try loop(.seconds(10), capture: capture, time: time).run { _ in
            time.advance(0.75)
            return [:]
        }
        #expect(report.steps == 14)  // 13 × 0.75 s = 9.75 s < 10 s, so a 14th step runs
        #expect(capture.output.contains("14 steps  in 10.5 s"))
    }

    @Test func aResumedRunContinuesFromItsStepAndTime() throws {
        let capture = Capture(), time = ManualClock()
        var seen: [Int] = []
        let report = try loop(.steps(10), start: TrainingState(step: 6, seconds: 30), capture: capture, time: time)
            .run { step in seen.append(step); return [:] }
        #expect(seen == [6, 7, 8, 9] && report.steps == 10 && report.resumedFrom == 6)

        let timed = try loop(.seconds(10), start: TrainingState(step: 6, seconds: 8), capture: capture, time: time)
            .run { _ in time.advance(1); return [:] }
        #expect(timed.steps == 8)  // 2 s of the 10 s budget were left
    }

    @Test func checkpointsArePeriodic() throws {
        let capture = Capture(), time = ManualClock()
        var saved: [Int] = []
        var loop = loop(.steps(10), capture: capture, time: time) { state in saved.append(state.step); return nil }
        loop.checkpointInterval = 3
        _ = try loop.run { _ in time.advance(1); return [:] }
        #expect(saved == [3, 6, 9, 10])
    }

    @Test func anInterruptStopsAtAStepBoundaryAfterSaving() throws {
        let capture = Capture(), time = ManualClock(), interruption = Interruption()
        var saves: [TrainingState] = []
        let folder = try temporaryFolder()
        let run = loop(.steps(100), capture: capture, time: time, interruption: interruption) { state in
            saves.append(state)
            return folder.appendingPathComponent("model.safetensors")
        }
        var seen: [Int] = []
        #expect {
            try run.run { step in
                seen.append(step)
                if step == 4 { interruption.request(SIGINT) }
                return [:]
            }
        } throws: { error in
            guard let stop = error as? TrainingInterrupted else { return false }
            return stop.step == 5 && stop.exitCode == 130 && stop.description.contains("run again to resume")
        }
        #expect(seen == [0, 1, 2, 3, 4])
        #expect(saves == [TrainingState(step: 5, seconds: 0, finished: false)])
        #expect(capture.output.contains("train  5/100 steps"))
    }

    @Test func aNonFiniteLossStopsWithoutSaving() throws {
        let capture = Capture(), time = ManualClock()
        var saves = 0
        let run = loop(.steps(10), capture: capture, time: time) { _ in saves += 1; return nil }
        #expect(throws: NonFiniteLossError(step: 3, name: "loss", value: .infinity)) {
            try run.run { step in
                let loss: Float = step == 3 ? .infinity : 1
                try guardFinite(loss, step: step)
                return ["loss": loss]
            }
        }
        #expect(saves == 0)
        #expect(capture.output.contains("train  3/10 steps"))
    }

    @Test func guardFiniteNamesTheStep() throws {
        try guardFinite(Float(2.5), step: 0)
        let error = #expect(throws: NonFiniteLossError.self) { try guardFinite(Float.nan, step: 41, name: "rec") }
        #expect(error?.description.hasPrefix("rec is nan at step 41") == true)
    }
}
