import Testing
@testable import Diagrams

/// The text of a record label, fields joined by " | " without braces, for easy matching.
func fieldsText(_ label: Label?) -> String {
    guard case .record(let fields)? = label else { return "" }
    func flatten(_ field: RecordField) -> [String] {
        switch field {
        case .text(let text, _): return [text]
        case .group(let inner): return inner.flatMap(flatten)
        }
    }
    return fields.flatMap(flatten).joined(separator: " | ")
}

@Suite("Architecture diagrams")
struct ArchitectureDiagramTests {
    @Test func repeatedBlocksCollapseIntoOneNode() throws {
        let graph = ArchitectureDiagram(root: ExampleModels.vqganEncoder(), maxDepth: 2).graph
        let labels = graph.allNodes.map { fieldsText($0.label) }
        // Level 0: two identical 64→64 blocks become one node with the count and their sizes.
        #expect(labels.contains("block.0…block.1 | ×2 ResnetBlock | 2 × 74.1 k | 8×64×32×32"))
        // Level 1: a 64→128 block (with nin_shortcut) and a 128→128 block differ, so both stay.
        #expect(labels.contains("block.0 | ResnetBlock | 230 k | 8×128×16×16"))
        #expect(labels.contains("block.1 | ResnetBlock | 296 k | 8×128×16×16"))
        // Interleaved block/attn pairs are not runs.
        #expect(labels.filter { $0.hasPrefix("attn.") }.count == 2)
    }

    @Test func collapsingCanBeTurnedOff() {
        var diagram = ArchitectureDiagram(root: ExampleModels.gpt(layers: 8), maxDepth: 1)
        #expect(diagram.graph.allNodes.map { fieldsText($0.label) }
            .contains("blocks.0…blocks.7 | ×8 Block | 8 × 790 k | 4×64×256"))
        diagram.collapsesRepeats = false
        let names = diagram.graph.allNodes.map { fieldsText($0.label).split(separator: " | ").first.map(String.init) }
        #expect(names.filter { $0?.hasPrefix("blocks.") == true }.count == 8)
    }

    @Test func runsOfContainersShowTheirInsideOnce() throws {
        let graph = ArchitectureDiagram(root: ExampleModels.gpt(layers: 4), maxDepth: 2).graph
        let clusters = graph.allSubgraphs.filter(\.isCluster)
        let run = try #require(clusters.first { $0.name == "blocks.0" })
        #expect(run.label == .text("blocks.0…blocks.3  ×4  ·  Block  ·  4 × 790 k"))
        // The first block's children, with the Sequential `mlp` lifted in as mlp.0 … mlp.3.
        #expect(run.allNodes.map(\.id) == ["blocks.0.ln1", "blocks.0.attn", "blocks.0.ln2", "blocks.0.mlp.0",
                                           "blocks.0.mlp.1", "blocks.0.mlp.2", "blocks.0.mlp.3"])
        #expect(!graph.allNodes.contains { $0.id.hasPrefix("blocks.1") })
    }

    @Test func listContainersAreLiftedAndModulesBecomeNestedClusters() {
        let graph = ArchitectureDiagram(root: ExampleModels.vqganEncoder(), maxDepth: 3).graph
        let clusterNames = graph.allSubgraphs.map(\.name)
        // "down" is a ModuleList: no box of its own, its levels are boxes named down.0, down.1, …
        #expect(!clusterNames.contains("down"))
        #expect(clusterNames.contains("down.0") && clusterNames.contains("down.2") && clusterNames.contains("mid"))
        // At depth 3 the blocks open up, inside their level's box.
        #expect(clusterNames.contains("down.1.block.0"))
        #expect(graph.allNodes.contains { $0.id == "down.1.block.0.nin_shortcut" })
    }

    @Test func depthLimitsWhatOpens() {
        let root = ExampleModels.vqganEncoder()
        let flat = ArchitectureDiagram(root: root, maxDepth: 1).graph
        #expect(flat.allSubgraphs.isEmpty)
        #expect(flat.allNodes.map(\.id) == ["conv_in", "down.0", "down.1", "down.2", "mid", "norm_out", "conv_out"])
        let single = ArchitectureDiagram(root: root, title: "E", maxDepth: 0).graph
        #expect(single.allNodes.count == 1)
        #expect(fieldsText(single.allNodes.first?.label) == "encoder | Encoder | 2.3 M | 8×64×8×8")
        #expect(ArchitectureDiagram(root: root, maxDepth: -4).maxDepth == 0)
    }

    @Test func sequentialFlowChainsThroughBoxes() {
        let graph = ArchitectureDiagram(root: ExampleModels.vqganEncoder(), maxDepth: 2, inputShape: [8, 3, 32, 32]).graph
        let edges = Set(graph.allEdges.map { "\($0.from) -> \($0.to)" })
        #expect(edges.contains("@input -> conv_in"))
        #expect(edges.contains("conv_in -> down.0.block.0…"))
        #expect(edges.contains("down.0.block.0… -> down.0.downsample"))
        #expect(edges.contains("down.0.downsample -> down.1.block.0"))
        #expect(edges.contains("mid.block_2 -> norm_out"))
        #expect(edges.contains("norm_out -> conv_out"))
        // Every node but the input has exactly one way in: a single chain.
        let heads = graph.allEdges.map(\.to)
        #expect(heads.count == Set(heads).count)
        #expect(Set(heads).count == graph.allNodes.count - 1)
    }

    @Test func parallelFlowFansOutAndIn() {
        let graph = ArchitectureDiagram(root: ExampleModels.gpt(), maxDepth: 2, inputShape: [4, 64]).graph
        let edges = Set(graph.allEdges.map { "\($0.from) -> \($0.to)" })
        #expect(edges.isSuperset(of: ["@input -> embeddings.tok_emb", "@input -> embeddings.pos_emb",
                                      "embeddings.tok_emb -> drop", "embeddings.pos_emb -> drop"]))
        #expect(!edges.contains("embeddings.tok_emb -> embeddings.pos_emb"))
    }

    /// A bypass child (a linear shortcut) reads the container's input and feeds what follows the
    /// container, beside the chain and never inside it.
    @Test func bypassChildrenSitBesideTheChain() {
        let root = ArchitectureNode.container("", kind: "Net", [
            .container("encoder", kind: "Encoder", [
                ArchitectureNode(name: "conv_in", kind: "Conv2d", parameterCount: 4),
                ArchitectureNode(name: "conv_out", kind: "Conv2d", parameterCount: 6),
                ArchitectureNode(name: "patch_in", kind: "Conv2d", parameterCount: 5, isBypass: true),
            ]),
            ArchitectureNode(name: "head", kind: "Linear", parameterCount: 3),
        ])
        let graph = ArchitectureDiagram(root: root, maxDepth: 2, inputShape: [1, 3]).graph
        let edges = Set(graph.allEdges.map { "\($0.from) -> \($0.to)" })
        #expect(edges == ["@input -> encoder.conv_in", "@input -> encoder.patch_in",
                          "encoder.conv_in -> encoder.conv_out", "encoder.conv_out -> head",
                          "encoder.patch_in -> head"])
    }

    @Test func unnamedRootsAndModulesNamedInputWork() throws {
        // NN's module trees name the root "".
        let root = ArchitectureNode.container("", kind: "Taster", [
            ArchitectureNode(name: "input", kind: "Linear", parameterCount: 12, outputShape: [2, 4]),
            ArchitectureNode(name: "root", kind: "ReLU", outputShape: [2, 4]),
        ])
        let graph = ArchitectureDiagram(root: root, inputShape: [2, 2]).graph
        #expect(graph.label == .text("Taster  ·  12 parameters"))
        #expect(graph.allNodes.map(\.id) == ["@input", "input", "root"])
        #expect(graph.allEdges.map { "\($0.from) -> \($0.to)" } == ["input -> root", "@input -> input"])
        let texts = svgTexts(try graph.render(format: .svg))
        #expect(texts.contains("input") && texts.contains("Linear") && texts.contains("2×2"))
        let alone = ArchitectureDiagram(root: root, maxDepth: 0).graph
        #expect(fieldsText(alone.allNodes.first?.label) == "Taster | 12")
    }

    @Test func runNames() {
        #expect(ArchitectureDiagram.runName(["block.0", "block.1", "block.2"]) == "block.0…block.2")
        #expect(ArchitectureDiagram.runName(["q", "k", "v", "proj_out"]) == "q, k, v, proj_out")
        #expect(ArchitectureDiagram.runName(["first_projection", "second_projection"]) == "first_projection…second_projection")
    }

    @Test func headingAndColoursFollowTheTree() throws {
        let diagram = ArchitectureDiagram(root: ExampleModels.vqganEncoder(), title: "VQGAN encoder", maxDepth: 1)
        let graph = diagram.graph
        #expect(graph.label == .text("VQGAN encoder  ·  Encoder  ·  2.3 M parameters"))
        let conv = try #require(graph.allNodes.first { $0.id == "conv_in" })
        let norm = try #require(graph.allNodes.first { $0.id == "norm_out" })
        #expect(conv.attributes["fillcolor"] == KindPalette.standard.colors(forKind: "Conv2d").fill)
        #expect(norm.attributes["fillcolor"] == KindPalette.standard.colors(forKind: "GroupNorm").fill)
        #expect(conv.attributes["fillcolor"] != norm.attributes["fillcolor"])
        #expect(KindPalette.standard.colors(forKind: "AttnBlock") == KindPalette.standard.colors(forKind: "CausalSelfAttention"))
        #expect(KindPalette.standard.colors(forKind: "SomethingNew") == KindPalette.standard.fallback)
    }

    @Test func renderedPictureShowsTheModules() throws {
        let svg = try ArchitectureDiagram(root: ExampleModels.vqganEncoder(), maxDepth: 2).graph.render(format: .svg)
        let texts = svgTexts(svg)
        for expected in ["conv_in", "Conv2d 3→64, 3×3", "block.0…block.1", "×2 ResnetBlock", "mid  ·  658 k", "conv_out"] {
            #expect(texts.contains(expected), "missing \(expected)")
        }
    }
}

@Suite("Pipeline diagrams")
struct PipelineDiagramTests {
    static let vqgan = PipelineDiagram(title: "VQGAN", stages: [
        .data("image", detail: "x", output: "8×3×32×32"),
        .model("Encoder", detail: "E", output: "8×64×8×8"),
        .operation("quantize", detail: "nearest of K codes", output: "8×64×8×8"),
        .model("Decoder", detail: "G", output: "8×3×32×32"),
        .data("image", detail: "x̂"),
    ])

    @Test func chainCarriesShapesOnItsArrows() throws {
        let graph = try Self.vqgan.graph()
        #expect(graph.graphAttributes["rankdir"] == "LR")
        #expect(graph.allNodes.count == 5)
        #expect(graph.allEdges.map(\.label) == ["8×3×32×32", "8×64×8×8", "8×64×8×8", "8×3×32×32"].map { .text($0) })
        let texts = svgTexts(try graph.render(format: .svg))
        for expected in ["Encoder", "quantize", "nearest of K codes", "8×64×8×8", "x̂"] {
            #expect(texts.contains(expected), "missing \(expected)")
        }
    }

    @Test func lanesBecomeClustersAndLinksJoinThem() throws {
        let pipeline = PipelineDiagram(title: "Two stages", lanes: [
            .init(title: "Stage 1", stages: [.data("image"), .model("Encoder"), .data("codes", id: "codes")]),
            .init(title: "Stage 2", stages: [.data("codes", id: "prefix"), .model("GPT")]),
        ], links: [.init(from: "codes", to: "prefix", label: "train on")])
        let graph = try pipeline.graph()
        #expect(graph.allSubgraphs.map(\.label) == [.text("Stage 1"), .text("Stage 2")])
        let link = try #require(graph.allEdges.last)
        #expect(link.from == "s0_2" && link.to == "s1_0")
        #expect(link.attributes["constraint"] == "false")
        _ = try graph.render(format: .png)
    }

    @Test func badLinksAndDuplicateIDsThrow() {
        let lane = PipelineDiagram.Lane(stages: [.data("a", id: "a"), .data("b", id: "b")])
        #expect(throws: DiagramError.self) {
            try PipelineDiagram(lanes: [lane], links: [.init(from: "a", to: "nowhere")]).graph()
        }
        #expect(throws: DiagramError.self) {
            try PipelineDiagram(lanes: [lane, lane]).graph()
        }
    }
}
