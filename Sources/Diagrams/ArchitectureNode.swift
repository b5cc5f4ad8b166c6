/// One module of a model, as a plain value: what an architecture diagram draws.
///
/// The NN layer builds this tree from its module objects, so Diagrams never depends on them.
/// `name` is the module's name inside its parent (PyTorch's attribute name: `conv_in`, `0`),
/// `kind` its type (`Conv2d`, `ResnetBlock`), `parameterCount` the total including children.
public struct ArchitectureNode: Hashable, Sendable {
    public var name: String
    public var kind: String
    public var parameterCount: Int
    /// The shape of the module's output for the diagram's example input, e.g. [8, 64, 32, 32].
    public var outputShape: [Int]?
    /// A short note shown after the kind, e.g. "3→64, 3×3" for a convolution.
    public var detail: String?
    /// Sub-modules in the order data flows through them (or the order they were declared).
    public var children: [ArchitectureNode]
    /// How data moves through `children`.
    public var flow: Flow
    /// A side path in its sequential parent: it reads the parent's input and feeds the parent's
    /// output, beside the chain of the other children.
    public var isBypass: Bool

    /// How a container's children connect.
    public enum Flow: Hashable, Sendable {
        /// One after another: each child feeds the next (drawn as a top-to-bottom chain).
        case sequential
        /// Side by side: each child reads the container's input and all feed what comes next
        /// (e.g. token and position embeddings).
        case parallel
    }

    public init(name: String, kind: String, parameterCount: Int = 0, outputShape: [Int]? = nil,
                detail: String? = nil, children: [ArchitectureNode] = [], flow: Flow = .sequential,
                isBypass: Bool = false) {
        self.name = name
        self.kind = kind
        self.parameterCount = parameterCount
        self.outputShape = outputShape
        self.detail = detail
        self.children = children
        self.flow = flow
        self.isBypass = isBypass
    }

    /// A container whose parameter count is the sum of its children's.
    public static func container(_ name: String, kind: String, outputShape: [Int]? = nil, detail: String? = nil,
                                 flow: Flow = .sequential, _ children: [ArchitectureNode]) -> ArchitectureNode {
        ArchitectureNode(name: name, kind: kind, parameterCount: children.reduce(0) { $0 + $1.parameterCount },
                         outputShape: outputShape, detail: detail, children: children, flow: flow)
    }
}
