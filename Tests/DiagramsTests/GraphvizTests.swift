import Foundation
import Testing
@testable import Diagrams

/// The text of an SVG's `<text>` elements, entities decoded.
func svgTexts(_ bytes: [UInt8]) -> [String] {
    let svg = String(decoding: bytes, as: UTF8.self)
    var texts: [String] = []
    var rest = svg[...]
    while let open = rest.range(of: "<text"), let start = rest[open.upperBound...].range(of: ">"),
          let close = rest[start.upperBound...].range(of: "</text>") {
        let raw = String(rest[start.upperBound..<close.lowerBound])
        texts.append(raw.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#45;", with: "-")
            .replacingOccurrences(of: "&#160;", with: " ").replacingOccurrences(of: "&amp;", with: "&"))
        rest = rest[close.upperBound...]
    }
    return texts
}

/// Width and height from a PNG's IHDR chunk, after checking the signature.
func pngSize(_ bytes: [UInt8]) throws -> (width: Int, height: Int) {
    let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    try #require(bytes.count > 24)
    try #require(Array(bytes[0..<8]) == signature)
    try #require(Array(bytes[12..<16]) == Array("IHDR".utf8))
    func bigEndian(_ at: Int) -> Int { bytes[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
    return (bigEndian(16), bigEndian(20))
}

@Suite("Graphviz in-process rendering")
struct GraphvizTests {
    @Test func svgAndPNGAreInstalled() throws {
        let formats = try Graphviz.availableFormats()
        #expect(formats.contains("svg"))
        #expect(formats.contains("png"))
    }

    @Test func svgContainsEveryLabelLiterally() throws {
        var graph = DotGraph(name: "labels")
        graph.addNode("plain", label: #"say "hi" \ 3→64"#)
        graph.addNode("record", label: .stacked(["conv_in", "{a|b} <c>", "8×64×32×32"]),
                      attributes: ["shape": "record"])
        graph.addNode("html", label: .html("<B>" + Label.htmlEscaped("x<y & z") + "</B>"))
        graph.addEdge(from: "plain", to: "record", label: "edge \"label\"")
        let texts = svgTexts(try graph.render(format: .svg))
        for expected in [#"say "hi" \ 3→64"#, "conv_in", "{a|b} <c>", "8×64×32×32", "x<y & z", "edge \"label\""] {
            #expect(texts.contains(expected), "missing \(expected) in \(texts)")
        }
    }

    @Test func pngHasSignatureAndSensibleSize() throws {
        let png = try ArchitectureDiagram(root: ExampleModels.vqganEncoder(), maxDepth: 2).graph.render(format: .png)
        let size = try pngSize(png)
        // A tall chain of a dozen or so nodes: narrower than a page, taller than wide.
        #expect((200...1200).contains(size.width))
        #expect((400...3000).contains(size.height))
        #expect(size.height > size.width)
    }

    @Test func renderingIsDeterministic() throws {
        let graph = ArchitectureDiagram(root: ExampleModels.gpt(), maxDepth: 2, inputShape: [4, 64]).graph
        #expect(try graph.render(format: .svg) == graph.render(format: .svg))
        #expect(try graph.render(format: .png) == graph.render(format: .png))
    }

    @Test func clustersKeepTheirDeclarationOrder() throws {
        // cgraph's default ids are name addresses, which once made cluster order vary by run.
        var graph = DotGraph(name: "order")
        for name in ["zeta", "alpha", "mu", "beta", "omega", "gamma"] {
            graph.addCluster(name) { $0.addNode(name + "_node") }
        }
        for _ in 0..<3 {
            let svg = String(decoding: try graph.render(format: .svg), as: UTF8.self)
            let titles = svg.components(separatedBy: "<title>cluster_").dropFirst().map { $0.prefix { $0 != "<" } }
            #expect(titles == ["zeta", "alpha", "mu", "beta", "omega", "gamma"])
        }
    }

    @Test func brokenDOTThrowsAndGraphvizRecovers() throws {
        #expect {
            try Graphviz.render(dot: "digraph { a -> ; }", format: "svg")
        } throws: { error in
            guard case DiagramError.invalidDOT(let message) = error else { return false }
            return message.contains("syntax error")
        }
        #expect(throws: DiagramError.self) { try Graphviz.render(dot: "", format: "svg") }
        #expect(throws: DiagramError.self) { try Graphviz.render(dot: "digraph { \"unterminated }", format: "svg") }
        // The parser is usable again after an error.
        let svg = try Graphviz.render(dot: "digraph { a -> b }", format: "svg")
        #expect(svgTexts(svg) == ["a", "b"])
    }

    @Test func malformedHTMLLabelThrows() {
        var graph = DotGraph(name: "html")
        graph.addNode("a", label: .html("<B>never closed"))
        #expect(throws: DiagramError.self) { try graph.render(format: .svg) }
    }

    @Test func unknownFormatAndEngineThrow() throws {
        #expect {
            try Graphviz.render(dot: "digraph { a }", format: "nosuchformat")
        } throws: { error in
            guard case DiagramError.renderFailed(let format, let message) = error else { return false }
            return format == "nosuchformat" && message.contains("svg")
        }
        #expect {
            try Graphviz.render(dot: "digraph { a }", format: "svg", engine: "nosuchengine")
        } throws: { error in
            guard case DiagramError.layoutFailed(let engine, _) = error else { return false }
            return engine == "nosuchengine"
        }
    }

    @Test func concurrentRendersAreSerialisedAndAgree() async throws {
        let dot = ArchitectureDiagram(root: ExampleModels.gpt(), maxDepth: 1).graph.dot
        let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<6 { group.addTask { try Graphviz.render(dot: dot, format: "svg") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 6)
        #expect(Set(results).count == 1)
    }
}

@Suite("Writing diagram files")
struct DiagramFileTests {
    func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("diagrams-tests-\(UUID().uuidString)")
    }

    @Test func writesDotSVGAndPNGIntoANewFolder() throws {
        let root = temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("nested/figures")
        let graph = ArchitectureDiagram(root: ExampleModels.gpt(), maxDepth: 1).graph
        try graph.write(to: folder, name: "gpt")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["gpt.dot", "gpt.png", "gpt.svg"])
        #expect(try String(contentsOf: folder.appendingPathComponent("gpt.dot"), encoding: .utf8) == graph.dot)
        let png = try [UInt8](Data(contentsOf: folder.appendingPathComponent("gpt.png")))
        #expect(png == (try graph.render(format: .png)))
        // Writing again replaces the files in place.
        try graph.write(to: folder, name: "gpt")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == names)
    }

    @Test(arguments: ["", "a/b", ".", ".."])
    func badNamesThrow(name: String) {
        #expect(throws: DiagramError.self) {
            try DotGraph().write(to: temporaryFolder(), name: name)
        }
    }

    @Test func aFileWhereTheFolderShouldBeThrows() throws {
        let root = temporaryFolder()
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent("taken")
        try Data("x".utf8).write(to: file)
        #expect {
            try DotGraph().write(to: file, name: "graph")
        } throws: { error in
            guard case DiagramError.unwritable(let path, _) = error else { return false }
            return path == file.path
        }
    }
}
