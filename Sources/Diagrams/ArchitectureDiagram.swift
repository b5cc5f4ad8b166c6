import Foundation

/// A top-to-bottom picture of a model's module tree, drawn as a `DotGraph`.
///
/// Each module is a record node `name | kind detail | parameters | output shape`, coloured by
/// kind. Containers become boxed clusters holding their children, chained in data-flow order.
/// Consecutive siblings of the same kind and size (three `ResnetBlock`s in a level) are drawn
/// once as `block.0…block.2 | ×3 ResnetBlock`. List-like containers (`ModuleList`, `Sequential`)
/// are not drawn as boxes: their children join the parent as `block.0`, `block.1`, ….
///
///     let diagram = ArchitectureDiagram(root: encoderTree, title: "VQGAN encoder", maxDepth: 2)
///     try diagram.graph.write(to: figures, name: "encoder")
public struct ArchitectureDiagram: Sendable {
    public var root: ArchitectureNode
    /// The heading; nil uses the root's name.
    public var title: String?
    /// How many levels below the root to open: the root's children are level 1, and a module at
    /// level `maxDepth` is drawn as one node even if it has children.
    public var maxDepth: Int
    /// When set, an `input` node with this shape feeds the first module.
    public var inputShape: [Int]?
    /// Whether runs of identical siblings are drawn as one `×n` node.
    public var collapsesRepeats = true
    /// Container kinds whose children are lifted into the parent instead of getting a box.
    public var inlinedKinds: Set<String> = ["ModuleList", "ModuleDict", "Sequential"]
    public var palette = KindPalette.standard
    public var fontName = DotGraph.defaultFontName

    public init(root: ArchitectureNode, title: String? = nil, maxDepth: Int = 2, inputShape: [Int]? = nil) {
        self.root = root
        self.title = title
        self.maxDepth = max(0, maxDepth)
        self.inputShape = inputShape
    }

    /// The diagram as a graph, ready for `dot`, `render(format:)` or `write(to:name:)`.
    public var graph: DotGraph {
        var graph = DotGraph(name: "architecture", rankDirection: .topToBottom, fontName: fontName)
        // NN names its root "", so fall back to the kind alone.
        let heading = [title ?? root.name, root.kind, DiagramText.count(root.parameterCount) + " parameters"]
        graph.label = .text(heading.filter { !$0.isEmpty }.joined(separator: "  ·  "))
        graph.graphAttributes.merge(["labelloc": "t", "labeljust": "l", "fontsize": "14", "nodesep": "0.3",
                                     "ranksep": "0.3", "pad": "0.2", "bgcolor": "white"])
        graph.nodeDefaults.merge(["shape": "Mrecord", "style": "filled", "fontsize": "10", "height": "0.3",
                                  "penwidth": "1.2"])
        graph.edgeDefaults.merge(["color": "#64748b", "arrowsize": "0.6"])

        // The input goes first, so Graphviz keeps the modules it feeds in their order.
        if let inputShape {
            graph.addNode(Self.inputID, label: .text("input\n" + DiagramText.shape(inputShape)),
                          attributes: ["shape": "box", "style": "rounded,dashed", "color": "#64748b"])
        }
        let ends: Ends
        if root.children.isEmpty || maxDepth == 0 {
            let name = root.name.isEmpty ? root.kind : root.name
            ends = drawLeaf(Item(node: root, name: name, path: Self.rootID), into: &graph)
        } else {
            ends = drawChildren(of: root, path: "", depth: 0, into: &graph)
        }
        if inputShape != nil {
            for entry in ends.entries { graph.addEdge(from: Self.inputID, to: entry) }
        }
        return graph
    }

    /// Writes `name.dot`, `name.svg` and `name.png` into `directory` (see `DotGraph.write`).
    public func write(to directory: URL, name: String) throws {
        try graph.write(to: directory, name: name)
    }

    // MARK: - Walking the tree

    /// Node ids of the input and of a root drawn alone; `@` keeps them apart from module paths.
    static let inputID = "@input", rootID = "@root"

    /// A module as drawn: its name relative to the enclosing box and its unique path (node id).
    struct Item {
        var node: ArchitectureNode
        var name: String
        var path: String
    }

    /// One thing drawn in a box: a module, or a run of identical modules.
    enum Element {
        case single(Item)
        case run([Item])
    }

    /// The node ids data enters and leaves a drawn element by.
    struct Ends {
        var entries: [String]
        var exits: [String]
    }

    /// `node`'s children with list-like containers lifted in (`block` + `0` → `block.0`).
    func items(in node: ArchitectureNode, path: String) -> [Item] {
        func collect(_ children: [ArchitectureNode], namePrefix: String, pathPrefix: String,
                     flow: ArchitectureNode.Flow) -> [Item] {
            children.flatMap { child -> [Item] in
                let name = namePrefix.isEmpty ? child.name : namePrefix + "." + child.name
                let path = pathPrefix.isEmpty ? child.name : pathPrefix + "." + child.name
                if inlinedKinds.contains(child.kind), child.flow == flow {
                    // An empty list (no attention at this level) contributes nothing.
                    return collect(child.children, namePrefix: name, pathPrefix: path, flow: flow)
                }
                return [Item(node: child, name: name, path: path)]
            }
        }
        return collect(node.children, namePrefix: "", pathPrefix: path, flow: node.flow)
    }

    /// Groups consecutive items of the same kind and parameter count into runs.
    func elements(_ items: [Item]) -> [Element] {
        var elements: [Element] = []
        var run: [Item] = []
        func flush() {
            if run.count > 1 { elements.append(.run(run)) } else if let only = run.first { elements.append(.single(only)) }
            run = []
        }
        for item in items {
            if let last = run.last, !(collapsesRepeats && Self.isRepeat(item.node, of: last.node)) { flush() }
            run.append(item)
        }
        flush()
        return elements
    }

    /// Two siblings are repeats when they are the same kind with the same number of parameters.
    static func isRepeat(_ node: ArchitectureNode, of other: ArchitectureNode) -> Bool {
        node.kind == other.kind && node.parameterCount == other.parameterCount
    }

    /// Draws `node`'s children (which sit at `depth + 1`) into `body` and chains them.
    func drawChildren<Body: DotGraphBody>(of node: ArchitectureNode, path: String, depth: Int,
                                          into body: inout Body) -> Ends {
        let parts = elements(items(in: node, path: path))
        let drawn = parts.map { draw($0, depth: depth + 1, into: &body) }
        switch node.flow {
        case .sequential:
            // Bypass children sit beside the chain: they share its entry and its exit.
            let isBypass = parts.map { part -> Bool in
                if case .single(let item) = part { return item.node.isBypass }
                return false
            }
            let chain = drawn.indices.filter { !isBypass[$0] }.map { drawn[$0] }
            let bypasses = drawn.indices.filter { isBypass[$0] }.map { drawn[$0] }
            for (previous, next) in zip(chain, chain.dropFirst()) {
                for exit in previous.exits {
                    for entry in next.entries { body.addEdge(from: exit, to: entry) }
                }
            }
            return Ends(entries: (chain.first?.entries ?? []) + bypasses.flatMap(\.entries),
                        exits: (chain.last?.exits ?? []) + bypasses.flatMap(\.exits))
        case .parallel:
            return Ends(entries: drawn.flatMap(\.entries), exits: drawn.flatMap(\.exits))
        }
    }

    func draw<Body: DotGraphBody>(_ element: Element, depth: Int, into body: inout Body) -> Ends {
        switch element {
        case .single(let item):
            if opens(item, depth: depth) {
                return drawBox(item, label: boxLabel(name: item.name, node: item.node), depth: depth, into: &body)
            }
            return drawLeaf(item, into: &body)
        case .run(let items):
            let first = items[0] // invariant: runs hold at least two items
            let last = items[items.count - 1]
            let name = Self.runName(items.map(\.name))
            // A run of containers shows the inside of its first member once, boxed with the count.
            if opens(first, depth: depth) {
                let label = "\(name)  ×\(items.count)  ·  \(first.node.kind)  ·  "
                    + "\(items.count) × \(DiagramText.count(first.node.parameterCount))"
                return drawBox(first, label: label, depth: depth, emphasized: true, into: &body)
            }
            var fields: [RecordField] = [.text(name), .text("×\(items.count) " + kindText(first.node))]
            if first.node.parameterCount > 0 {
                fields.append(.text("\(items.count) × " + DiagramText.count(first.node.parameterCount)))
            }
            if let shape = last.node.outputShape { fields.append(.text(DiagramText.shape(shape))) }
            let id = first.path + "…"
            var attributes = colorAttributes(first.node)
            attributes["penwidth"] = "2.2"
            body.addNode(id, label: .record(fields), attributes: attributes)
            return Ends(entries: [id], exits: [id])
        }
    }

    /// A run's name: `block.0…block.2` for a numbered series, `q, k, v` for a few short names,
    /// else the first and last names.
    static func runName(_ names: [String]) -> String {
        let first = names[0], last = names[names.count - 1] // invariant: runs hold at least two items
        func prefix(_ name: String) -> Substring? {
            guard let dot = name.lastIndex(of: "."), Int(name[name.index(after: dot)...]) != nil else { return nil }
            return name[..<dot]
        }
        let isNumbered = prefix(first) != nil && names.allSatisfy { prefix($0) == prefix(first) }
        let listed = names.joined(separator: ", ")
        if !isNumbered, listed.count <= 24 { return listed }
        return first + "…" + last
    }

    /// Whether a module is opened into a box of its children at this depth.
    func opens(_ item: Item, depth: Int) -> Bool {
        depth < maxDepth && !items(in: item.node, path: item.path).isEmpty
    }

    /// Draws a module as a box of its children; runs get a heavier outline.
    func drawBox<Body: DotGraphBody>(_ item: Item, label: String, depth: Int, emphasized: Bool = false,
                                     into body: inout Body) -> Ends {
        let colors = palette.colors(forKind: item.node.kind)
        var ends = Ends(entries: [], exits: [])
        body.addCluster(item.path, label: .text(label), attributes: [
            "style": "rounded,filled", "fillcolor": depth % 2 == 1 ? "#f8fafc" : "#eef2f6",
            "color": colors.border, "penwidth": emphasized ? "2" : "1", "fontsize": "10", "labeljust": "l", "margin": "10",
        ]) { cluster in
            ends = drawChildren(of: item.node, path: item.path, depth: depth, into: &cluster)
        }
        return ends
    }

    func drawLeaf<Body: DotGraphBody>(_ item: Item, into body: inout Body) -> Ends {
        var fields: [RecordField] = [.text(item.name)]
        if !Self.anonymousKinds.contains(item.node.kind), item.name != item.node.kind {
            fields.append(.text(kindText(item.node)))
        }
        if item.node.parameterCount > 0 { fields.append(.text(DiagramText.count(item.node.parameterCount))) }
        if let shape = item.node.outputShape { fields.append(.text(DiagramText.shape(shape))) }
        body.addNode(item.path, label: .record(fields), attributes: colorAttributes(item.node))
        return Ends(entries: [item.path], exits: [item.path])
    }

    /// A box's heading: name, kind and size. The output shape is left to the last node inside,
    /// which keeps headings short enough that the edge down the middle does not cross them.
    func boxLabel(name: String, node: ArchitectureNode) -> String {
        var parts = [name]
        if !Self.anonymousKinds.contains(node.kind) { parts.append(kindText(node)) }
        if node.parameterCount > 0 { parts.append(DiagramText.count(node.parameterCount)) }
        return parts.joined(separator: "  ·  ")
    }

    /// Kinds that say nothing about a container (PyTorch's bare `nn.Module`).
    static let anonymousKinds: Set<String> = ["Module"]

    func kindText(_ node: ArchitectureNode) -> String {
        guard let detail = node.detail, !detail.isEmpty else { return node.kind }
        return node.kind + " " + detail
    }

    func colorAttributes(_ node: ArchitectureNode) -> Attributes {
        let colors = palette.colors(forKind: node.kind)
        return ["fillcolor": colors.fill, "color": colors.border]
    }
}
