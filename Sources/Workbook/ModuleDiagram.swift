import Diagrams
import Foundation
import NN

extension ArchitectureNode {
    /// The diagram node for an NN module tree (`Module.moduleTree()`): the same names, kinds,
    /// parameter counts, details and recorded output shapes, children in declaration order.
    public init(_ info: ModuleInfo) {
        self.init(name: info.name, kind: info.kind, parameterCount: info.parameterCount,
                  outputShape: info.outputShape, detail: info.details.isEmpty ? nil : info.details,
                  children: info.children.map(ArchitectureNode.init), flow: .sequential, isBypass: info.isBypass)
    }
}

extension Module {
    /// This module's tree as a diagram node, with output shapes from `shapes` where recorded.
    public func architecture(shapes: ShapeLog? = nil) -> ArchitectureNode {
        ArchitectureNode(moduleTree(shapes: shapes))
    }
}

extension Chapter {
    /// Draws `model`'s architecture as `<name>.dot`, `.svg` and `.png` under `--out` (see
    /// `ArchitectureDiagram`) and lists them among the chapter's figures.
    public func diagram(_ model: Module, name: String, title: String? = nil, maxDepth: Int = 2,
                        inputShape: [Int]? = nil, shapes: ShapeLog? = nil) throws {
        let diagram = ArchitectureDiagram(root: model.architecture(shapes: shapes), title: title,
                                          maxDepth: maxDepth, inputShape: inputShape)
        let folder = try figurePath(name + ".dot").deletingLastPathComponent()
        for ext in ["svg", "png"] { _ = try figurePath(name + "." + ext) }
        try diagram.write(to: folder, name: URL(fileURLWithPath: name).lastPathComponent)
    }
}
