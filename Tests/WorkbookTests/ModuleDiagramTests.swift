import Diagrams
import Foundation
import NN
import Tensors
import Testing
@testable import Workbook

@Suite struct ModuleDiagramTests {
    final class TwoLayers: Module {
        let fc1: Linear
        let blocks: [TinyModel]

        init(rng: inout RandomGenerator) {
            fc1 = Linear(inFeatures: 4, outFeatures: 3, rng: &rng)
            blocks = [TinyModel(value: 1), TinyModel(value: 2)]
            super.init()
        }
    }

    @Test func moduleTreesBecomeArchitectureNodes() {
        var rng = RandomGenerator(seed: 0)
        let model = TwoLayers(rng: &rng)
        let info = model.moduleTree()
        let node = model.architecture()
        #expect(node.kind == "TwoLayers" && node.parameterCount == 15 + 2 * 9)
        #expect(node.children.map(\.name) == ["fc1", "blocks"])
        #expect(node.children.map(\.kind) == ["Linear", "ModuleList"])
        #expect(node.children[1].children.map(\.name) == ["0", "1"])
        #expect(node.children[1].children.map(\.parameterCount) == [9, 9])
        #expect(node.children[0].detail == (info.children[0].details.isEmpty ? nil : info.children[0].details))
        #expect(node.flow == .sequential)
    }

    @Test func chaptersDrawDiagramsIntoTheirFigures() throws {
        let out = try temporaryFolder(), capture = Capture()
        let chapter = Chapter(number: 2, title: "VQ-VAE", folder: "02-vqvae",
                              options: try ChapterOptions.parse(["--out", out.path]),
                              console: capture.console(), clock: ManualClock().clock, interruption: Interruption())
        var rng = RandomGenerator(seed: 0)
        try chapter.diagram(TwoLayers(rng: &rng), name: "diagrams/two-layers", title: "Two layers")
        try chapter.writeSummary()
        #expect(chapter.summary.figures == ["diagrams/two-layers.dot", "diagrams/two-layers.png",
                                            "diagrams/two-layers.svg"])
        let dot = try String(contentsOf: out.appendingPathComponent("diagrams/two-layers.dot"), encoding: .utf8)
        #expect(dot.contains("fc1") && dot.contains("Linear"))
    }
}
