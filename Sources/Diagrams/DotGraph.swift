/// A directed Graphviz graph built in Swift; `dot` is its DOT source.
///
/// Statements keep the order they were added in, and the DOT layout uses that order to break
/// ties, so add nodes in reading order. The same calls always give the same text.
///
///     var graph = DotGraph(name: "vq")
///     graph.graphAttributes["rankdir"] = "LR"
///     graph.addNode("x", label: "image")
///     graph.addNode("e", label: .stacked(["Encoder", "3→256"]), attributes: ["shape": "record"])
///     graph.addEdge(from: "x", to: "e", label: "8×3×32×32")
public struct DotGraph: DotGraphBody, Hashable, Sendable {
    /// The graph's name, written after `digraph`.
    public var name: String
    /// The title drawn on the picture (top left by default), or nil for none.
    public var label: Label?
    /// Graph-wide attributes: `rankdir`, `fontname`, `nodesep`, `bgcolor`, …
    public var graphAttributes: Attributes
    /// Defaults every node starts with: `shape`, `style`, `fillcolor`, `fontname`, …
    public var nodeDefaults: Attributes
    /// Defaults every edge starts with: `color`, `arrowsize`, `fontname`, …
    public var edgeDefaults: Attributes
    public var statements: [DotStatement] = []

    /// A graph whose text uses `fontName` throughout, so labels measure and render alike.
    public init(name: String = "G", label: Label? = nil, rankDirection: RankDirection = .topToBottom,
                fontName: String = DotGraph.defaultFontName) {
        self.name = name
        self.label = label
        graphAttributes = ["rankdir": rankDirection.rawValue, "fontname": fontName]
        nodeDefaults = ["fontname": fontName]
        edgeDefaults = ["fontname": fontName]
    }

    /// DejaVu Sans ships with fontconfig on Debian (and has × and →); elsewhere fontconfig
    /// substitutes the closest sans-serif font.
    public static let defaultFontName = "DejaVu Sans"

    /// The DOT source text.
    public var dot: String {
        var lines = ["digraph " + DotEscaping.id(name) + " {"]
        DotWriter.writeDefaults(graph: graphAttributes, label: label, node: nodeDefaults, edge: edgeDefaults,
                                indent: "  ", into: &lines)
        DotWriter.write(statements, indent: "  ", into: &lines)
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

/// The direction ranks run in (`rankdir`).
public enum RankDirection: String, Hashable, Sendable {
    case topToBottom = "TB", leftToRight = "LR", bottomToTop = "BT", rightToLeft = "RL"
}

/// A node declaration: its id, label and own attributes.
public struct DotNode: Hashable, Sendable {
    public var id: String
    public var label: Label?
    public var attributes: Attributes

    public init(id: String, label: Label? = nil, attributes: Attributes = [:]) {
        self.id = id
        self.label = label
        self.attributes = attributes
    }
}

/// An edge `from -> to`. Attach to record ports with the `tailport`/`headport` attributes.
public struct DotEdge: Hashable, Sendable {
    public var from: String
    public var to: String
    public var label: Label?
    public var attributes: Attributes

    public init(from: String, to: String, label: Label? = nil, attributes: Attributes = [:]) {
        self.from = from
        self.to = to
        self.label = label
        self.attributes = attributes
    }
}

/// A subgraph: a cluster (drawn as a box around its nodes, named `cluster_…`) or a plain group
/// used for attributes such as `rank=same`. Subgraphs nest.
public struct DotSubgraph: DotGraphBody, Hashable, Sendable {
    /// The name without the `cluster_` prefix; names must be unique within a graph.
    public var name: String
    public var isCluster: Bool
    public var label: Label?
    public var graphAttributes: Attributes
    public var nodeDefaults: Attributes = [:]
    public var edgeDefaults: Attributes = [:]
    public var statements: [DotStatement] = []

    public init(name: String, isCluster: Bool = true, label: Label? = nil, attributes: Attributes = [:]) {
        self.name = name
        self.isCluster = isCluster
        self.label = label
        self.graphAttributes = attributes
    }

    /// The subgraph's DOT name: clusters get the `cluster_` prefix Graphviz looks for.
    public var dotName: String { isCluster ? "cluster_" + name : name }
}

/// One statement in a graph or subgraph body, in order.
public enum DotStatement: Hashable, Sendable {
    case node(DotNode)
    case edge(DotEdge)
    case subgraph(DotSubgraph)
}

/// Anything that holds statements: the graph itself and its subgraphs.
public protocol DotGraphBody {
    var statements: [DotStatement] { get set }
}

extension DotGraphBody {
    /// Declares a node.
    public mutating func addNode(_ id: String, label: Label? = nil, attributes: Attributes = [:]) {
        statements.append(.node(DotNode(id: id, label: label, attributes: attributes)))
    }

    /// Declares an edge between two node ids (nodes not declared yet are created by Graphviz).
    public mutating func addEdge(from: String, to: String, label: Label? = nil, attributes: Attributes = [:]) {
        statements.append(.edge(DotEdge(from: from, to: to, label: label, attributes: attributes)))
    }

    /// Adds a cluster (a boxed group) and fills it with `build`.
    public mutating func addCluster(_ name: String, label: Label? = nil, attributes: Attributes = [:],
                                    _ build: (inout DotSubgraph) throws -> Void) rethrows {
        var cluster = DotSubgraph(name: name, isCluster: true, label: label, attributes: attributes)
        try build(&cluster)
        statements.append(.subgraph(cluster))
    }

    /// Adds a subgraph that is not a cluster, e.g. `["rank": "same"]` to keep nodes in one row.
    public mutating func addGroup(_ name: String, attributes: Attributes,
                                  _ build: (inout DotSubgraph) throws -> Void) rethrows {
        var group = DotSubgraph(name: name, isCluster: false, attributes: attributes)
        try build(&group)
        statements.append(.subgraph(group))
    }

    /// Every node declared here or in nested subgraphs, in order.
    public var allNodes: [DotNode] {
        statements.flatMap { statement -> [DotNode] in
            switch statement {
            case .node(let node): return [node]
            case .edge: return []
            case .subgraph(let subgraph): return subgraph.allNodes
            }
        }
    }

    /// Every edge declared here or in nested subgraphs, in order.
    public var allEdges: [DotEdge] {
        statements.flatMap { statement -> [DotEdge] in
            switch statement {
            case .node: return []
            case .edge(let edge): return [edge]
            case .subgraph(let subgraph): return subgraph.allEdges
            }
        }
    }

    /// Every subgraph nested here, depth first, in order.
    public var allSubgraphs: [DotSubgraph] {
        statements.flatMap { statement -> [DotSubgraph] in
            guard case .subgraph(let subgraph) = statement else { return [] }
            return [subgraph] + subgraph.allSubgraphs
        }
    }
}

/// Turns statements into indented DOT lines.
enum DotWriter {
    static func writeDefaults(graph: Attributes, label: Label?, node: Attributes, edge: Attributes,
                              indent: String, into lines: inout [String]) {
        let graphItems = graph.dotItems(label: label)
        if !graphItems.isEmpty { lines.append(indent + "graph [" + graphItems.joined(separator: ", ") + "];") }
        if !node.isEmpty { lines.append(indent + "node [" + node.dotItems().joined(separator: ", ") + "];") }
        if !edge.isEmpty { lines.append(indent + "edge [" + edge.dotItems().joined(separator: ", ") + "];") }
    }

    static func write(_ statements: [DotStatement], indent: String, into lines: inout [String]) {
        for statement in statements {
            switch statement {
            case .node(let node):
                lines.append(indent + DotEscaping.id(node.id) + list(node.attributes.dotItems(label: node.label)) + ";")
            case .edge(let edge):
                lines.append(indent + DotEscaping.id(edge.from) + " -> " + DotEscaping.id(edge.to)
                    + list(edge.attributes.dotItems(label: edge.label)) + ";")
            case .subgraph(let subgraph):
                lines.append(indent + "subgraph " + DotEscaping.id(subgraph.dotName) + " {")
                writeDefaults(graph: subgraph.graphAttributes, label: subgraph.label, node: subgraph.nodeDefaults,
                              edge: subgraph.edgeDefaults, indent: indent + "  ", into: &lines)
                write(subgraph.statements, indent: indent + "  ", into: &lines)
                lines.append(indent + "}")
            }
        }
    }

    private static func list(_ items: [String]) -> String {
        items.isEmpty ? "" : " [" + items.joined(separator: ", ") + "]"
    }
}
