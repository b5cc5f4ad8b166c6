import Foundation
import Testing
@testable import Workbook

@Suite struct SummaryTests {
    @Test func rendersSortedKeysAndStableNumbers() {
        let value: JSONValue = [
            "zeta": 1, "alpha": [1.5, 2, "x"], "mid": ["b": true, "a": nil],
            "float": .number(Float(0.1)), "tiny": 1e-5, "nan": .number(Double.nan), "zero": 0.0,
            "text": "quote \" backslash \\ newline \n tab \t bell \u{07} é",
        ]
        #expect(value.rendered() == """
            {
              "alpha": [1.5, 2, "x"],
              "float": 0.1,
              "mid": {
                "a": null,
                "b": true
              },
              "nan": null,
              "text": "quote \\" backslash \\\\ newline \\n tab \\t bell \\u0007 é",
              "tiny": 1e-05,
              "zero": 0.0,
              "zeta": 1
            }

            """)
    }

    @Test func roundsTimingsToMilliseconds() {
        #expect(JSONValue.number(1.23456, decimals: 3) == .number(1.235))
        #expect(JSONValue.number(Float.infinity) == .null)
    }

    @Test func summaryIsValidSortedJSONWrittenAtomically() throws {
        var summary = Summary(chapter: 2, title: "VQ-VAE", seed: 7, threads: 2)
        summary.options = try ChapterOptions.parse(["--steps", "10"]).json
        summary.metrics = ["psnr": .number(Float(24.5)), "codebook_usage": 0.75]
        summary.cells = [("Data", 0.5), ("Training", 12.3456)]
        summary.training["vqvae"] = TrainingReport(label: "vqvae", budget: .steps(10), steps: 10, resumedFrom: 4,
                                                   seconds: 3.2)
        summary.figures = ["recon.png", "diagrams/encoder.svg"]
        summary.totalSeconds = 13.0
        let url = try temporaryFolder().appendingPathComponent("out/summary.json")
        try summary.write(to: url)
        let data = try Data(contentsOf: url)
        #expect(!FileManager.default.fileExists(atPath: AtomicFile.temporaryURL(for: url).path))

        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["seed"] as? Int == 7 && object["threads"] as? Int == 2 && object["chapter"] as? Int == 2)
        #expect((object["steps"] as? [String: Int]) == ["vqvae": 10])
        #expect((object["figures"] as? [String]) == ["diagrams/encoder.svg", "recon.png"])
        let metrics = try #require(object["metrics"] as? [String: Double])
        #expect(metrics == ["psnr": 24.5, "codebook_usage": 0.75])
        let timings = try #require(object["timings"] as? [String: Any])
        let cells = try #require(timings["cells"] as? [[String: Any]])
        #expect(cells.count == 2 && cells[1]["title"] as? String == "Training" && cells[1]["seconds"] as? Double == 12.346)

        // Keys appear in sorted order at every level.
        let text = String(decoding: data, as: UTF8.self)
        let topKeys = text.split(separator: "\n").filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(topKeys == topKeys.sorted() && topKeys.count == 10)
        // Same summary, same bytes.
        #expect(summary.json.rendered() == text)
    }
}
