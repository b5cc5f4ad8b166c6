import Foundation

/// A conceptual diagram: stages in a left-to-right chain, with what flows between them written on
/// the arrows (usually a tensor shape). Several lanes stack top to bottom, each boxed with its
/// title, and links join stages across lanes.
///
///     let vqgan = PipelineDiagram(title: "VQGAN", stages: [
///         .data("image", output: "8×3×32×32"),
///         .model("Encoder", detail: "E", output: "8×64×8×8"),
///         .operation("quantize", detail: "nearest code", output: "8×64×8×8"),
///         .model("Decoder", detail: "G", output: "8×3×32×32"),
///         .data("image", detail: "reconstruction"),
///     ])
///     try vqgan.graph.write(to: figures, name: "vqgan-pipeline")
public struct PipelineDiagram: Sendable {
    /// One box in the chain.
    public struct Stage: Hashable, Sendable {
        /// A name for links between lanes; stages without one cannot be linked.
        public var id: String?
        public var title: String
        /// A smaller second line (an equation symbol, a setting).
        public var detail: String?
        public var role: Role
        /// What flows to the next stage, written on the arrow (e.g. "8×64×8×8").
        public var output: String?

        public init(_ title: String, role: Role, detail: String? = nil, output: String? = nil, id: String? = nil) {
            self.title = title
            self.role = role
            self.detail = detail
            self.output = output
            self.id = id
        }

        /// Data: an image, a code map, a sequence of tokens.
        public static func data(_ title: String, detail: String? = nil, output: String? = nil,
                                id: String? = nil) -> Stage {
            Stage(title, role: .data, detail: detail, output: output, id: id)
        }

        /// A trained network: Encoder, Decoder, GPT.
        public static func model(_ title: String, detail: String? = nil, output: String? = nil,
                                 id: String? = nil) -> Stage {
            Stage(title, role: .model, detail: detail, output: output, id: id)
        }

        /// A fixed step with nothing to train: quantize, sample, crop.
        public static func operation(_ title: String, detail: String? = nil, output: String? = nil,
                                     id: String? = nil) -> Stage {
            Stage(title, role: .operation, detail: detail, output: output, id: id)
        }

        /// A training objective.
        public static func loss(_ title: String, detail: String? = nil, output: String? = nil,
                                id: String? = nil) -> Stage {
            Stage(title, role: .loss, detail: detail, output: output, id: id)
        }
    }

    /// What a stage is, which sets how it looks.
    public enum Role: Hashable, Sendable {
        case data, model, operation, loss
    }

    /// A chain of stages, boxed with a title when it has one.
    public struct Lane: Hashable, Sendable {
        public var title: String?
        public var stages: [Stage]

        public init(title: String? = nil, stages: [Stage]) {
            self.title = title
            self.stages = stages
        }
    }

    /// An arrow between two stages by id, usually across lanes.
    public struct Link: Hashable, Sendable {
        public var from: String
        public var to: String
        public var label: String?
        /// Whether the link may push its target further along the chain (off by default, so
        /// lanes keep starting at the left edge and stack neatly).
        public var constrains: Bool

        public init(from: String, to: String, label: String? = nil, constrains: Bool = false) {
            self.from = from
            self.to = to
            self.label = label
            self.constrains = constrains
        }
    }

    public var title: String?
    public var lanes: [Lane]
    public var links: [Link]
    public var direction = RankDirection.leftToRight
    public var fontName = DotGraph.defaultFontName

    /// One chain of stages.
    public init(title: String? = nil, stages: [Stage]) {
        self.init(title: title, lanes: [Lane(stages: stages)])
    }

    /// Several chains, top to bottom, and links between their stages.
    public init(title: String? = nil, lanes: [Lane], links: [Link] = []) {
        self.title = title
        self.lanes = lanes
        self.links = links
    }

    /// The diagram as a graph. Throws when a link names a stage id that no stage has, or two
    /// stages share an id.
    public func graph() throws -> DotGraph {
        var graph = DotGraph(name: "pipeline", label: title.map { .text($0) }, rankDirection: direction,
                             fontName: fontName)
        graph.graphAttributes.merge(["labelloc": "t", "labeljust": "l", "fontsize": "14", "nodesep": "0.35",
                                     "ranksep": "0.45", "pad": "0.2", "bgcolor": "white"])
        graph.nodeDefaults.merge(["shape": "box", "style": "rounded,filled", "fontsize": "11", "margin": "0.15,0.06",
                                  "penwidth": "1.2"])
        graph.edgeDefaults.merge(["color": "#475569", "fontsize": "9", "fontcolor": "#334155", "arrowsize": "0.7"])

        var nodeForID: [String: String] = [:]
        for (laneIndex, lane) in lanes.enumerated() {
            var nodeIDs: [String] = []
            for (stageIndex, stage) in lane.stages.enumerated() {
                let node = "s\(laneIndex)_\(stageIndex)"
                nodeIDs.append(node)
                if let id = stage.id {
                    guard nodeForID.updateValue(node, forKey: id) == nil else {
                        throw DiagramError.invalidDiagram("two pipeline stages have the id '\(id)'")
                    }
                }
            }
            func fill<Body: DotGraphBody>(_ body: inout Body) {
                for (stage, node) in zip(lane.stages, nodeIDs) {
                    body.addNode(node, label: Self.label(stage), attributes: Self.style(stage.role))
                }
                for (index, (from, to)) in zip(nodeIDs, nodeIDs.dropFirst()).enumerated() {
                    body.addEdge(from: from, to: to, label: lane.stages[index].output.map { .text($0) })
                }
            }
            if let laneTitle = lane.title {
                graph.addCluster("lane\(laneIndex)", label: .text(laneTitle), attributes: [
                    "style": "rounded,filled", "fillcolor": "#f8fafc", "color": "#94a3b8", "fontsize": "11",
                    "labeljust": "l", "margin": "12",
                ]) { fill(&$0) }
            } else {
                fill(&graph)
            }
        }
        for link in links {
            guard let from = nodeForID[link.from] else {
                throw DiagramError.invalidDiagram("a pipeline link starts at '\(link.from)', which no stage has as its id")
            }
            guard let to = nodeForID[link.to] else {
                throw DiagramError.invalidDiagram("a pipeline link ends at '\(link.to)', which no stage has as its id")
            }
            var attributes: Attributes = ["style": "dashed"]
            if !link.constrains { attributes["constraint"] = "false" }
            graph.addEdge(from: from, to: to, label: link.label.map { .text($0) }, attributes: attributes)
        }
        return graph
    }

    /// Writes `name.dot`, `name.svg` and `name.png` into `directory` (see `DotGraph.write`).
    public func write(to directory: URL, name: String) throws {
        try graph().write(to: directory, name: name)
    }

    /// Title in bold, detail smaller and grey underneath.
    static func label(_ stage: Stage) -> Label {
        var markup = "<B>" + Label.htmlEscaped(stage.title) + "</B>"
        if let detail = stage.detail, !detail.isEmpty {
            markup += "<BR/><FONT POINT-SIZE=\"9\" COLOR=\"#475569\">" + Label.htmlEscaped(detail) + "</FONT>"
        }
        return .html(markup)
    }

    static func style(_ role: Role) -> Attributes {
        switch role {
        case .data: return ["shape": "box", "style": "filled", "fillcolor": "#ffffff", "color": "#64748b"]
        case .model: return ["fillcolor": "#e0e7ff", "color": "#4f46e5"]
        case .operation: return ["fillcolor": "#fef3c7", "color": "#d97706"]
        case .loss: return ["shape": "box", "style": "filled", "fillcolor": "#fee2e2", "color": "#dc2626"]
        }
    }
}
