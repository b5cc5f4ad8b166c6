import Testing
@testable import Diagrams

@Suite("DOT source")
struct DotSourceTests {
    @Test func plainTextEscapesQuotesBackslashesAndNewlines() {
        #expect(DotEscaping.quotedText(#"say "hi" \ bye"#) == #""say \"hi\" \\ bye""#)
        #expect(DotEscaping.quotedText("two\nlines") == #""two\nlines""#)
        // Braces and pipes mean nothing in plain labels and stay as they are.
        #expect(DotEscaping.quotedText("{a | b}") == #""{a | b}""#)
    }

    @Test func recordFieldsEscapeFieldSyntax() {
        #expect(DotEscaping.recordFieldText("{a|b}<p>") == #"\{a\|b\}\<p\>"#)
        #expect(DotEscaping.recordFieldText(#"q"\"#) == #"q\"\\"#)
        let label = Label.record([.text("in", port: "p0"), .group(["conv_in", "3→64", "8×64×32×32"])])
        #expect(label.dotValue == #""<p0> in | { conv_in | 3→64 | 8×64×32×32 }""#)
        #expect(Label.stacked(["a|b", "c"]).dotValue == #""{ a\|b | c }""#)
    }

    @Test func htmlTextIsEscapedAndMarkupIsNot() {
        #expect(Label.htmlEscaped(#"a<b & "c">"#) == "a&lt;b &amp; &quot;c&quot;&gt;")
        #expect(Label.html("<B>x</B>").dotValue == "<<B>x</B>>")
    }

    @Test(arguments: [
        ("conv_in", "conv_in"), ("_x9", "_x9"), ("0.5", "0.5"), ("-3", "-3"), (".5", ".5"),
        ("down.0", "\"down.0\""), ("node", "\"node\""), ("Graph", "\"Graph\""), ("", "\"\""),
        ("a b", "\"a b\""), ("1a", "\"1a\""), ("x\"y", #""x\"y""#), ("×", "\"×\""), ("1.2.3", "\"1.2.3\""),
    ])
    func identifiersAreBareOnlyWhenDOTAllowsIt(id: String, expected: String) {
        #expect(DotEscaping.id(id) == expected)
    }

    @Test func attributesKeepFirstSetOrderAndReplaceInPlace() {
        var attributes: Attributes = ["shape": "box", "color": "red"]
        attributes["fontsize"] = "10"
        attributes["shape"] = "Mrecord"
        #expect(attributes.pairs.map(\.key) == ["shape", "color", "fontsize"])
        #expect(attributes["shape"] == "Mrecord")
        attributes["color"] = nil
        #expect(attributes.pairs.map(\.key) == ["shape", "fontsize"])
        let merged = attributes.merging(["fontsize": "12", "style": "filled"])
        #expect(merged.pairs.map(\.value) == ["Mrecord", "12", "filled"])
    }

    @Test func graphSourceHasNestedClustersInOrder() {
        var graph = DotGraph(name: "demo", label: "A \"demo\"", fontName: "Sans")
        graph.nodeDefaults["shape"] = "box"
        graph.addNode("x", label: "input")
        graph.addCluster("outer", label: "outer") { outer in
            outer.addNode("a", label: .row(["a", "1|2"]), attributes: ["shape": "record"])
            outer.addCluster("inner") { inner in
                inner.addNode("b")
            }
        }
        graph.addEdge(from: "x", to: "a", label: "8×3")
        graph.addEdge(from: "a", to: "b", attributes: ["style": "dashed"])
        let expected = """
            digraph demo {
              graph [rankdir=TB, fontname=Sans, label="A \\"demo\\""];
              node [fontname=Sans, shape=box];
              edge [fontname=Sans];
              x [label="input"];
              subgraph cluster_outer {
                graph [label="outer"];
                a [shape=record, label="a | 1\\|2"];
                subgraph cluster_inner {
                  b;
                }
              }
              x -> a [label="8×3"];
              a -> b [style=dashed];
            }

            """
        #expect(graph.dot == expected)
        #expect(graph.allNodes.map(\.id) == ["x", "a", "b"])
        #expect(graph.allSubgraphs.map(\.dotName) == ["cluster_outer", "cluster_inner"])
    }

    @Test func sameCallsGiveTheSameText() {
        let first = ArchitectureDiagram(root: ExampleModels.vqganEncoder(), maxDepth: 3).graph.dot
        let second = ArchitectureDiagram(root: ExampleModels.vqganEncoder(), maxDepth: 3).graph.dot
        #expect(first == second)
    }
}

@Suite("Numbers in diagrams")
struct DiagramTextTests {
    @Test(arguments: [
        (0, "0"), (864, "864"), (999, "999"), (1_000, "1.0 k"), (1_792, "1.8 k"), (36_928, "36.9 k"),
        (99_949, "99.9 k"), (99_950, "100 k"), (295_168, "295 k"), (999_499, "999 k"), (999_950, "1.0 M"),
        (1_234_567, "1.2 M"), (86_000_000, "86.0 M"), (4_100_000_000, "4.1 B"), (-36_928, "-36.9 k"),
    ])
    func parameterCounts(value: Int, expected: String) {
        #expect(DiagramText.count(value) == expected)
    }

    @Test func shapes() {
        #expect(DiagramText.shape([8, 64, 32, 32]) == "8×64×32×32")
        #expect(DiagramText.shape([7]) == "7")
        #expect(DiagramText.shape([]) == "scalar")
    }
}
