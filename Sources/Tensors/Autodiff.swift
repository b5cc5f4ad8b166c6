/// Reverse-mode automatic differentiation.
///
/// Every op that reads a tensor needing gradients records a `GradNode`: its inputs and a closure
/// that maps the gradient of its output to gradients of its inputs. `backward()` walks the graph
/// from a scalar loss in reverse topological order and adds each leaf's gradient into `grad`;
/// `gradients(of:with:)` returns gradients for chosen tensors only, touching nothing else.
final class GradNode {
    let name: String
    let inputs: [Tensor]
    /// (output gradient, which inputs need a gradient) → one gradient per input (nil if not needed).
    let backward: (Tensor, [Bool]) -> [Tensor?]

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor, [Bool]) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Whether ops record the graph: off inside `withNoGrad`. The setting belongs to the calling
/// thread, so a background evaluation never switches recording off for a training loop.
public enum GradMode {
    private static let disabledDepth = ThreadLocalInt(initial: 0)
    public static var isEnabled: Bool { disabledDepth.value == 0 }

    fileprivate static func withDisabled<R>(_ body: () throws -> R) rethrows -> R {
        disabledDepth.value += 1
        defer { disabledDepth.value -= 1 }
        return try body()
    }
}

/// Runs `body` without recording the graph: for inference, evaluation and optimizer updates.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.withDisabled(body)
}

extension Tensor {
    /// Wraps an op's freshly computed `output` into the graph when any input needs gradients.
    /// `backward` receives the gradient of the output and, per input, whether one is needed.
    /// It must not capture `output` (that would be a reference cycle, output → node → closure →
    /// output, and leak the graph); capture `output.detached()`, which shares the values.
    @inline(__always)
    static func record(_ output: Tensor, _ name: String, _ inputs: [Tensor],
                       _ backward: @escaping (Tensor, [Bool]) -> [Tensor?]) -> Tensor {
        guard GradMode.isEnabled, inputs.contains(where: { $0.requiresGrad }) else { return output }
        output.requiresGrad = true
        output.node = GradNode(name: name, inputs: inputs, backward: backward)
        return output
    }

    /// The name of the op that produced this tensor, or nil for a leaf.
    public var opName: String? { node?.name }

    /// Backpropagates from this scalar, adding d(self)/d(leaf) into `grad` of every leaf that has
    /// `requiresGrad`. Call `zeroGrad` (or set `grad = nil`) between steps; gradients accumulate.
    public func backward() {
        precondition(count == 1, "backward() needs a scalar, got shape \(shape)") // invariant: a programming error, not user input
        precondition(requiresGrad, "backward() on a tensor that does not require grad") // invariant: a programming error, not user input
        let leaves = withNoGrad { propagate(seed: Tensor(shape: shape, repeating: 1), targets: nil) }
        for (leaf, g) in leaves {
            if let existing = leaf.grad { existing.addInPlace(g) } else { leaf.grad = g.owned(for: leaf) }
        }
    }

    /// The gradients of this scalar with respect to `tensors`, without touching any `grad`. Only the
    /// part of the graph between them and this tensor is visited. A tensor this one does not depend
    /// on gets a zero gradient.
    public func gradients(with tensors: [Tensor]) -> [Tensor] {
        precondition(count == 1, "gradients(with:) needs a scalar, got shape \(shape)") // invariant: a programming error, not user input
        guard requiresGrad else { return tensors.map { Tensor.zeros($0.shape) } }
        let found = withNoGrad { propagate(seed: Tensor(shape: shape, repeating: 1), targets: tensors) }
        var byID: [ObjectIdentifier: Tensor] = [:]
        for (t, g) in found { byID[ObjectIdentifier(t)] = g }
        return tensors.map { byID[ObjectIdentifier($0)]?.reshaped($0.shape) ?? Tensor.zeros($0.shape) }
    }

    /// The shared walk. With `targets` nil, returns gradients of all requiresGrad leaves; otherwise of
    /// the targets only (which may be leaves or intermediate tensors).
    private func propagate(seed: Tensor, targets: [Tensor]?) -> [(Tensor, Tensor)] {
        // Topological order by iterative depth-first search over tracked tensors.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Int)] = [(self, 0)]
        visited.insert(ObjectIdentifier(self))
        while let (t, next) = stack.popLast() {
            let inputs = t.node?.inputs ?? []
            if next < inputs.count {
                stack.append((t, next + 1))
                let child = inputs[next]
                if child.requiresGrad, visited.insert(ObjectIdentifier(child)).inserted {
                    stack.append((child, 0))
                }
            } else {
                order.append(t)
            }
        }
        // With targets, only tensors from which a target is reachable need a gradient.
        let targetIDs = targets.map { Set($0.map(ObjectIdentifier.init)) }
        var needed = Set<ObjectIdentifier>()
        for t in order { // inputs come before the tensors that use them
            let id = ObjectIdentifier(t)
            if let targetIDs {
                if targetIDs.contains(id) || (t.node?.inputs.contains { needed.contains(ObjectIdentifier($0)) } ?? false) {
                    needed.insert(id)
                }
            } else if t.requiresGrad {
                needed.insert(id)
            }
        }
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        // Gradients created here by accumulation, which are safe to update in place; others may
        // share a buffer with an op's saved state.
        var ownedSums = Set<ObjectIdentifier>()
        var results: [(Tensor, Tensor)] = []
        for t in order.reversed() {
            let id = ObjectIdentifier(t)
            guard let g = grads.removeValue(forKey: id) else { continue }
            ownedSums.remove(ObjectIdentifier(g))
            if let targetIDs {
                if targetIDs.contains(id) { results.append((t, g)) }
            } else if t.node == nil {
                results.append((t, g))
            }
            guard let node = t.node else { continue }
            let needs = node.inputs.map { needed.contains(ObjectIdentifier($0)) }
            guard needs.contains(true) else { continue }
            let inputGrads = node.backward(g, needs)
            for (i, input) in node.inputs.enumerated() where needs[i] {
                guard let ig = inputGrads[i] else { continue }
                precondition(ig.count == input.count,  // invariant: a programming error, not user input
                             "\(node.name) backward gave \(ig.shape) for input \(input.shape)")
                let iid = ObjectIdentifier(input)
                if let existing = grads[iid] {
                    // The first gradient may alias a buffer the op still shares; accumulate into a copy.
                    let sum = ownedSums.contains(ObjectIdentifier(existing)) ? existing : existing.clone()
                    sum.addInPlace(ig)
                    ownedSums.insert(ObjectIdentifier(sum))
                    grads[iid] = sum
                } else {
                    grads[iid] = ig
                }
            }
        }
        return results
    }

    /// A gradient tensor safe to keep as `leaf.grad`: own storage, the leaf's shape.
    fileprivate func owned(for leaf: Tensor) -> Tensor {
        let c = clone()
        return c.shape == leaf.shape ? c : c.reshaped(leaf.shape)
    }

    /// Adds `other` into this tensor's storage (same element count), in place.
    public func addInPlace(_ other: Tensor) {
        precondition(other.count == count, "addInPlace \(other.shape) into \(shape)") // invariant: a programming error, not user input
        let a = storage.pointer, b = other.storage.pointer
        Parallel.forRanges(count) { r in for i in r { a[i] += b[i] } }
    }
}

