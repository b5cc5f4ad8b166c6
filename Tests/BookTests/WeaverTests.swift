import BookWeaver
import Foundation
import Testing

@Suite struct WeaverTests {
    @Test func proseBecomesMarkdownAndCodeBecomesFences() {
        let source = """
        //: # 02 · VQ-VAE
        //: Prose with *emphasis*.
        import Taming

        let x = 1
        /*:
         ## Section
         More prose.
         */
        print(x)
        """
        let md = Weaver.markdown(from: source)
        #expect(md == """
        # 02 · VQ-VAE
        Prose with *emphasis*.

        ```swift
        import Taming

        let x = 1
        ```

         ## Section
         More prose.

        ```swift
        print(x)
        ```

        """)
    }

    @Test func foldedCodeGoesBehindDetails() {
        let md = Weaver.markdown(from: "//: Text\n// fold: Plumbing\nlet a = 1\n// endfold\n")
        #expect(md.contains("<details><summary>Plumbing</summary>"))
        #expect(md.contains("```swift\nlet a = 1\n```"))
    }

    @Test func anchorsFollowGitHubRules() {
        var used: [String: Int] = [:]
        #expect(Weaver.anchor(for: "02 · VQ-VAE: codes!", used: &used) == "02--vq-vae-codes")
        #expect(Weaver.anchor(for: "Summary", used: &used) == "summary")
        #expect(Weaver.anchor(for: "Summary", used: &used) == "summary-1")
    }

    @Test func imageReferencesSkipCodeAndURLs() {
        let md = "![a](Figures/x.png) and ![b](https://e.com/y.png)\n```swift\n![c](Figures/z.png)\n```\n"
        #expect(Weaver.imageReferences(in: md) == ["Figures/x.png"])
    }

    /// The committed Book.md must be exactly what the weaver produces from the chapters, with every
    /// referenced figure present and no orphaned figure.
    @Test func committedBookMatchesTheChapters() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let problems = try BookProject(root: root).problems()
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
