import Testing
@testable import Workbook

@Suite struct ProgressTests {
    @Test func logsAPlainLineEveryFiveSecondsAndTheFinalLine() {
        let capture = Capture(), time = ManualClock()
        let progress = Progress("training", total: 12, console: capture.console(), clock: time.clock)
        for step in 1...12 {
            time.advance(1)
            progress.update(step: step, losses: ["rec": Float(step), "vq": 0.5])
        }
        progress.finish()
        progress.finish()  // a second finish writes nothing
        let lines = capture.output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        // The running mean of rec after 5 steps of 1…5 (β = 0.9, bias-corrected) is 3.21.
        #expect(lines == [
            "training  5/12  (42%)  1.0 it/s  ETA 0:07  rec 3.21  vq 0.5",
            "training  10/12  (83%)  1.0 it/s  ETA 0:02  rec 6.353  vq 0.5",
            "training  12/12 steps  in 12.0 s  1.0 it/s  rec 7.723  vq 0.5",
            "",
        ])
        #expect(!capture.output.contains("\r"))
    }

    @Test func aShortLoopWritesOnlyItsFinalLine() {
        let capture = Capture(), time = ManualClock()
        let progress = Progress("sampling", total: 4, console: capture.console(), clock: time.clock)
        for _ in 0..<4 {
            time.advance(0.25)
            progress.advance()
        }
        progress.finish()
        #expect(capture.output == "sampling  4/4 steps  in 1.00 s  4.0 it/s\n")
    }

    @Test func aTerminalGetsOneLineRedrawnInPlace() {
        let capture = Capture(), time = ManualClock()
        let progress = Progress("training", total: 100, console: capture.console(isTerminal: true), clock: time.clock)
        for step in 1...100 {
            time.advance(0.0625)
            progress.update(step: step, losses: ["loss": 1])
        }
        progress.finish()
        let output = capture.output
        #expect(output.hasPrefix("\rtraining  ["))
        #expect(output.filter { $0 == "\n" }.count == 1 && output.hasSuffix("\n"))
        // Redrawn at most every 0.1 s (here every other step: 1, 3, …, 99), plus the final line.
        #expect(output.filter { $0 == "\r" }.count == 51)
        #expect(output.contains("\rtraining  [██████████░░░░░░░░░░]  51/100  16.0 it/s  ETA 0:04  loss 1\u{1B}[K\r"))
        #expect(output.hasSuffix("\rtraining  100/100 steps  in 6.25 s  16.0 it/s  loss 1\u{1B}[K\n"))
    }

    @Test func aTimeBudgetCountsDownTime() {
        let capture = Capture(), time = ManualClock()
        let progress = Progress("training", budget: .seconds(60), startStep: 100, previousSeconds: 20,
                                console: capture.console(), clock: time.clock)
        for step in 101...110 {
            time.advance(0.5)
            progress.update(step: step)
        }
        progress.finish()
        #expect(capture.output == "training  0:35 left  110 steps  2.0 it/s\ntraining  110 steps  in 5.00 s  2.0 it/s\n")
    }

    @Test func slowStepsShowSecondsPerStep() {
        let capture = Capture(), time = ManualClock()
        let progress = Progress("epoch", total: 2, console: capture.console(), clock: time.clock)
        time.advance(8)
        progress.advance()
        progress.finish()
        #expect(capture.output.contains("1/2  (50%)  8.00 s/it  ETA 0:08"))
        #expect(progress.smoothedLosses.isEmpty && progress.done == 1)
    }
}
