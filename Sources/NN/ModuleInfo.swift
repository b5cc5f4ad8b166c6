import Tensors

/// A plain description of a module tree, for printing summaries and drawing architecture
/// diagrams (the Diagrams module converts it to graph nodes; NN knows nothing of drawing).
public struct ModuleInfo: Equatable, Sendable {
    /// One tensor held directly by a module.
    public struct TensorInfo: Equatable, Sendable {
        /// The local name ("weight", "running_mean", "attn.0" for a list element).
        public var name: String
        public var shape: [Int]
        public var isParameter: Bool
    }

    /// The name within the parent ("conv_in", "0"); "" for the root.
    public var name: String
    /// The dotted path from the root ("encoder.down.0"); "" for the root.
    public var path: String
    /// The Swift type name ("Conv2d", "ResnetBlock"), or "ModuleList" for an array of modules.
    public var kind: String
    /// The layer's settings in one line (its `details`), e.g. "3→64, 3×3, stride 2".
    public var details: String
    /// Trainable scalars in this module and everything below it.
    public var parameterCount: Int
    /// Tensors held directly by this module (not by its children).
    public var tensors: [TensorInfo]
    public var children: [ModuleInfo]
    /// Shapes from a recorded forward pass, when the module recorded them.
    public var inputShapes: [[Int]]?
    public var outputShape: [Int]?
    /// Whether the parent lists this module among its `bypassMembers`.
    public var isBypass = false

    /// All nodes, depth first, this one first.
    public var flattened: [ModuleInfo] { [self] + children.flatMap(\.flattened) }

    /// An indented text outline: name, kind, details, parameter count and output shape per line.
    public func outline(indent: String = "") -> String {
        var line = indent + (name.isEmpty ? kind : "\(name): \(kind)")
        if !details.isEmpty { line += "(\(details))" }
        line += "  \(parameterCount) params"
        if let outputShape { line += "  → \(outputShape)" }
        return ([line] + children.map { $0.outline(indent: indent + "  ") }).joined(separator: "\n")
    }
}

extension Module {
    /// This module's tree as `ModuleInfo`, with shapes from `shapes` (see `recordingShapes`) where
    /// recorded. Arrays of modules become "ModuleList" nodes whose children are named "0", "1", …,
    /// so paths match the state-dict names. A module reached twice appears once.
    public func moduleTree(shapes: ShapeLog? = nil) -> ModuleInfo {
        var seenModules = Set<ObjectIdentifier>(), seenTensors = Set<ObjectIdentifier>()
        func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

        func node(_ module: Module, name: String, path: String) -> ModuleInfo {
            seenModules.insert(ObjectIdentifier(module))
            var tensors: [ModuleInfo.TensorInfo] = []
            var children: [ModuleInfo] = []
            var ownCount = 0
            func addTensors(_ member: Member, _ local: String) {
                switch member {
                case .tensor(let t):
                    guard seenTensors.insert(ObjectIdentifier(t)).inserted else { return }
                    tensors.append(.init(name: local, shape: t.shape, isParameter: t.requiresGrad))
                    if t.requiresGrad { ownCount += t.count }
                case .list(let items): for (i, item) in items.enumerated() { addTensors(item, "\(local).\(i)") }
                case .module: break
                }
            }
            func child(_ member: Member, name: String, path: String) -> ModuleInfo? {
                switch member {
                case .module(let m):
                    return seenModules.contains(ObjectIdentifier(m)) ? nil : node(m, name: name, path: path)
                case .list(let items):
                    let kids = items.enumerated().compactMap { i, item in
                        child(item, name: String(i), path: join(path, String(i)))
                    }
                    guard !kids.isEmpty else { return nil }
                    return ModuleInfo(name: name, path: path, kind: "ModuleList", details: "",
                                      parameterCount: kids.reduce(0) { $0 + $1.parameterCount },
                                      tensors: [], children: kids, inputShapes: nil, outputShape: nil)
                case .tensor: return nil
                }
            }
            for (local, member) in module.members() {
                addTensors(member, local)
                if var c = child(member, name: local, path: join(path, local)) {
                    c.isBypass = module.bypassMembers.contains(local)
                    children.append(c)
                }
            }
            let entry = shapes?[module]
            return ModuleInfo(name: name, path: path, kind: module.kind, details: module.details,
                              parameterCount: ownCount + children.reduce(0) { $0 + $1.parameterCount },
                              tensors: tensors, children: children,
                              inputShapes: entry?.inputs, outputShape: entry?.output)
        }
        return node(self, name: "", path: "")
    }
}
