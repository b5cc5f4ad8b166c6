import Foundation
import Testing
@testable import Diagrams

@Suite("Graphviz in-process rendering")
struct GraphvizTests {
    @Test func formatsIncludeSVGAndPNG() throws {
        let formats = try Graphviz.availableFormats()
        #expect(formats.contains("svg"))
        #expect(formats.contains("png"))
    }

    @Test func rawDOTRendersSVG() throws {
        let bytes = try Graphviz.render(dot: "digraph { a -> b }", format: "svg")
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("<svg"))
    }

    @Test func brokenDOTThrows() throws {
        #expect(throws: DiagramError.self) {
            try Graphviz.render(dot: "digraph { a -> }", format: "svg")
        }
        do { _ = try Graphviz.render(dot: "digraph { a -> ; }", format: "svg") } catch { print("ERR", error) }
        let bytes = try Graphviz.render(dot: "digraph { a -> b }", format: "png")
        print(bytes.count, try Graphviz.version(), try Graphviz.availableFormats())
    }
}
