import Tensors

/// Parameters that share optimizer settings, named so that optimizer state can be saved and
/// restored by name. (GPT training decays Linear weights only: two groups, see
/// `Module.parameterGroups(weightDecay:decays:)`.)
public struct ParameterGroup {
    public var parameters: [(name: String, tensor: Tensor)]
    public var weightDecay: Float

    public init(_ parameters: [(String, Tensor)], weightDecay: Float = 0) {
        self.parameters = parameters.map { (name: $0.0, tensor: $0.1) }
        self.weightDecay = weightDecay
    }
}

/// What every optimizer shares: its parameters, the learning rate, the step count, and the
/// per-parameter state ("slots", such as Adam's moment estimates), which it can save to and restore
/// from named tensors so that a resumed run continues exactly.
///
/// Use: `loss.backward(); optimizer.step(); optimizer.zeroGrad()`. A parameter whose `grad` is
/// nil is skipped in that step. State names are `step` (a scalar) and `<parameter>.<slot>`, e.g.
/// `encoder.conv_in.weight.exp_avg`. Slots are created at construction (zeros), so the set of
/// names and shapes is known before the first step.
open class Optimizer {
    /// One parameter with its settings and state.
    struct Entry {
        let name: String
        let tensor: Tensor
        let weightDecay: Float
        let slots: [Tensor]   // one per slot name, shaped like the parameter
    }

    /// The learning rate for the next step (set it from a schedule before each step).
    public var lr: Float
    /// Steps taken so far; the next `step()` is number `stepCount + 1` (bias corrections use it).
    public internal(set) var stepCount = 0
    public let groups: [ParameterGroup]
    /// The per-parameter state's names, e.g. ["exp_avg", "exp_avg_sq"].
    public let slotNames: [String]
    let entries: [Entry]

    init(groups: [ParameterGroup], lr: Float, slotNames: [String]) {
        self.groups = groups
        self.lr = lr
        self.slotNames = slotNames
        var names = Set<String>(), tensors = Set<ObjectIdentifier>()
        var entries: [Entry] = []
        for group in groups {
            for (name, t) in group.parameters {
                precondition(names.insert(name).inserted, "parameter name \(name) given twice") // invariant: a programming error, not user input
                precondition(tensors.insert(ObjectIdentifier(t)).inserted, "parameter \(name) given twice") // invariant: a programming error, not user input
                entries.append(Entry(name: name, tensor: t, weightDecay: group.weightDecay,
                                     slots: slotNames.map { _ in Tensor.zeros(t.shape) }))
            }
        }
        self.entries = entries
    }

    /// Names "0", "1", … for an unnamed parameter list.
    static func numbered(_ parameters: [Tensor]) -> [(String, Tensor)] {
        parameters.enumerated().map { (String($0.offset), $0.element) }
    }

    /// All parameters, in group order.
    public var parameters: [Tensor] { entries.map(\.tensor) }

    /// Clears the gradients of all parameters.
    public func zeroGrad() { for e in entries { e.tensor.grad = nil } }

    /// Updates every parameter that has a gradient, in place, and counts the step.
    public func step() {
        stepCount += 1
        withNoGrad {
            for e in entries {
                guard let g = e.tensor.grad else { continue }
                precondition(g.count == e.tensor.count, "gradient \(g.shape) for parameter \(e.name) \(e.tensor.shape)") // invariant: a programming error, not user input
                update(e.tensor.storage.pointer, grad: g.storage.pointer, count: e.tensor.count,
                       slots: e.slots.map(\.storage.pointer), weightDecay: e.weightDecay)
            }
        }
    }

    /// The update rule for one parameter of `count` values: subclasses override it. Pointers are
    /// to the parameter, its gradient and its slots; `stepCount` already counts this step.
    func update(_ p: UnsafeMutablePointer<Float>, grad g: UnsafeMutablePointer<Float>, count: Int,
                slots: [UnsafeMutablePointer<Float>], weightDecay: Float) {
        fatalError("Optimizer.update must be overridden") // invariant: abstract method
    }

    // MARK: Saving and restoring

    /// The state as named tensors: `step` ([] holding the step count) and `<parameter>.<slot>`.
    /// The step count is stored as a Float, exact up to 2²⁴ ≈ 16.7 million steps.
    public func stateDict() -> [(String, Tensor)] {
        var result: [(String, Tensor)] = [("step", Tensor(Float(stepCount)))]
        for e in entries {
            for (slot, t) in zip(slotNames, e.slots) { result.append(("\(e.name).\(slot)", t)) }
        }
        return result
    }

    /// Restores state saved by `stateDict()`: names and shapes must match exactly, and nothing is
    /// changed unless they do.
    public func loadStateDict(_ tensors: [String: Tensor]) throws {
        let own = stateDict()
        if let error = StateDictError.check(tensors, against: own, strict: true,
                                            context: "optimizer state of \(type(of: self))") { throw error }
        let step = tensors["step"]!.item // invariant: checked above
        guard step >= 0, step <= 16_777_216, step == step.rounded() else {
            throw StateDictError(context: "optimizer state of \(type(of: self))",
                                 note: "step \(step) is not a step count")
        }
        for (name, t) in own.dropFirst() { t.copy(from: tensors[name]!) } // invariant: checked above
        stepCount = Int(step)
    }

    public func loadStateDict(_ tensors: [(String, Tensor)]) throws {
        try loadStateDict(Dictionary(tensors, uniquingKeysWith: { _, last in last }))
    }
}
