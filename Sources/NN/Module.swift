import Tensors

/// The base class of every model: a tree of named sub-modules and tensors, like PyTorch's
/// `nn.Module`, discovered from stored properties by reflection.
///
/// A subclass just declares its layers and tensors as stored properties:
///
///     final class Block: Module {
///         let norm1: GroupNorm          // child "norm1"
///         let conv1: Conv2d             // child "conv1" → "conv1.weight", "conv1.bias"
///         let nin_shortcut: Conv2d?     // included only when non-nil
///         let attn: [AttnBlock]         // children "attn.0", "attn.1", …
///         let pos_emb: Tensor           // a parameter if requiresGrad, else a buffer
///     }
///
/// Names are the property names, joined with dots, in declaration order (superclass properties
/// first), which gives PyTorch-style state-dict keys such as
/// `encoder.down.0.block.1.norm1.weight`. Where the reference's name is snake_case (`conv_in`,
/// `attn_1`, `running_mean`) the Swift property is spelled the same way on purpose, so that
/// our state dicts match the reference's key for key.
///
/// The rules of discovery:
/// - a `Module` is a child; a `Tensor` is a parameter when `requiresGrad` is true, otherwise a
///   buffer (BatchNorm's running statistics);
/// - an `Optional` counts when it holds a value; an array (of modules, tensors, or optionals or
///   arrays of them) gives members named "0", "1", …;
/// - properties whose names start with `_` are ignored (private scratch state), as is anything
///   else (numbers, configs, caches that are not modules);
/// - a module or tensor reached twice (shared) is listed once, under its first name.
///
/// Override `members()` to name things differently (`Sequential` does, for "0", "1", … directly).
open class Module {
    /// Training or evaluation mode: BatchNorm uses batch statistics and Dropout drops only in
    /// training. Set for a whole tree with `train()` and `eval()`.
    public var isTraining = true

    public init() {}

    /// One thing a module holds: a sub-module, a tensor, or a list of either.
    public indirect enum Member {
        case module(Module)
        case tensor(Tensor)
        case list([Member])
    }

    /// Members that read the module's input and add to its output beside the main chain (a
    /// linear shortcut, say), so that architecture diagrams draw them beside it, not in it.
    open var bypassMembers: Set<String> { [] }

    /// The module's direct members with their names, in declaration order. The default reads the
    /// stored properties by reflection (see the type's documentation).
    open func members() -> [(name: String, member: Member)] {
        var mirrors: [Mirror] = []
        var mirror: Mirror? = Mirror(reflecting: self)
        while let m = mirror { mirrors.append(m); mirror = m.superclassMirror }
        var result: [(name: String, member: Member)] = []
        for m in mirrors.reversed() {
            for child in m.children {
                guard let label = child.label, !label.hasPrefix("_"), !label.hasPrefix("$") else { continue }
                if let member = Module.member(from: child.value) { result.append((label, member)) }
            }
        }
        return result
    }

    /// Classifies a reflected value: module, tensor, list, or nothing.
    static func member(from value: Any) -> Member? {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first else { return nil }
            return member(from: wrapped.value)
        case .collection:
            let items = mirror.children.compactMap { member(from: $0.value) }
            // A list counts only if every element is a module, a tensor or a list.
            guard items.count == mirror.children.count, !items.isEmpty else { return nil }
            return .list(items)
        default:
            if let module = value as? Module { return .module(module) }
            if let tensor = value as? Tensor { return .tensor(tensor) }
            return nil
        }
    }

    /// A one-line description of the layer's settings for summaries and diagrams, like PyTorch's
    /// `extra_repr` (e.g. "3→64, 3×3, stride 2"). Empty for composite modules.
    open var details: String { "" }

    /// The Swift type name, e.g. "Conv2d" or "ResnetBlock".
    public var kind: String { String(describing: type(of: self)) }
}

// MARK: - Walking the tree

extension Module {
    /// Visits every tensor in the tree once, with its dotted name and the module that holds it.
    func visitTensors(_ body: (_ name: String, _ tensor: Tensor, _ owner: Module) -> Void) {
        var seenModules = Set<ObjectIdentifier>(), seenTensors = Set<ObjectIdentifier>()
        func walk(_ module: Module, _ prefix: String) {
            guard seenModules.insert(ObjectIdentifier(module)).inserted else { return }
            func visit(_ member: Member, _ name: String) {
                switch member {
                case .module(let child): walk(child, name + ".")
                case .tensor(let t):
                    if seenTensors.insert(ObjectIdentifier(t)).inserted { body(name, t, module) }
                case .list(let items):
                    for (i, item) in items.enumerated() { visit(item, "\(name).\(i)") }
                }
            }
            for (name, member) in module.members() { visit(member, prefix + name) }
        }
        walk(self, "")
    }

    /// Every module in the tree with its dotted name, this one first (named ""), each once.
    public func namedModules() -> [(String, Module)] {
        var result: [(String, Module)] = []
        var seen = Set<ObjectIdentifier>()
        func walk(_ module: Module, _ name: String) {
            guard seen.insert(ObjectIdentifier(module)).inserted else { return }
            result.append((name, module))
            for (childName, child) in module.namedChildren() {
                walk(child, name.isEmpty ? childName : name + "." + childName)
            }
        }
        walk(self, "")
        return result
    }

    /// The direct sub-modules with their names; list elements are named "list.0", "list.1", ….
    public func namedChildren() -> [(String, Module)] {
        var result: [(String, Module)] = []
        func visit(_ member: Member, _ name: String) {
            switch member {
            case .module(let child): result.append((name, child))
            case .tensor: break
            case .list(let items): for (i, item) in items.enumerated() { visit(item, "\(name).\(i)") }
            }
        }
        for (name, member) in members() { visit(member, name) }
        return result
    }

    /// Trainable tensors (`requiresGrad`) with dotted names, in declaration order.
    public func namedParameters() -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        visitTensors { name, t, _ in if t.requiresGrad { result.append((name, t)) } }
        return result
    }

    /// Trainable tensors, in declaration order.
    public func parameters() -> [Tensor] { namedParameters().map { $0.1 } }

    /// Non-trainable state (running statistics) with dotted names.
    public func namedBuffers() -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        visitTensors { name, t, _ in if !t.requiresGrad { result.append((name, t)) } }
        return result
    }

    /// Everything a checkpoint must hold, parameters and buffers, in declaration order.
    public func stateDict() -> [(String, Tensor)] {
        var result: [(String, Tensor)] = []
        visitTensors { name, t, _ in result.append((name, t)) }
        return result
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    /// Clears every parameter's gradient (to nil, as PyTorch's default `set_to_none`).
    public func zeroGrad() { for p in parameters() { p.grad = nil } }

    /// Sets training mode (or evaluation mode with `false`) for this module and all below it.
    public func train(_ mode: Bool = true) { for (_, m) in namedModules() { m.isTraining = mode } }

    /// Sets evaluation mode for this module and all below it.
    public func eval() { train(false) }

    /// Two groups for an optimizer: parameters for which `decays(name, owner)` is true get
    /// `weightDecay`, the others none. minGPT decays Linear weights only:
    /// `model.parameterGroups(weightDecay: 0.01) { name, owner in owner is Linear && name.hasSuffix(".weight") }`.
    public func parameterGroups(weightDecay: Float,
                                decays: (_ name: String, _ owner: Module) -> Bool) -> [ParameterGroup] {
        var decayed: [(String, Tensor)] = [], plain: [(String, Tensor)] = []
        visitTensors { name, t, owner in
            guard t.requiresGrad else { return }
            if decays(name, owner) { decayed.append((name, t)) } else { plain.append((name, t)) }
        }
        return [ParameterGroup(decayed, weightDecay: weightDecay), ParameterGroup(plain, weightDecay: 0)]
    }
}
