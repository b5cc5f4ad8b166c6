import Tensors

/// Output shapes for architecture diagrams, captured from one forward pass.
///
/// While `Module.recordingShapes { … }` runs, every layer that calls `recordShapes(_:output:)` in
/// its `callAsFunction` (all of NN's layers do) has its input and output shapes logged. Composite
/// modules can opt in with one line, `return recordShapes(x, output: h)`. Outside a recording the
/// call costs one check of a static variable, so layers call it unconditionally. Recording is for
/// one thread at a time (the forward pass is driven from one thread; kernels never call modules).
public struct ShapeLog {
    /// What one module saw on its first call during the recording.
    public struct Entry: Equatable, Sendable {
        public var inputs: [[Int]]
        public var output: [Int]
        /// How many times the module was called.
        public var calls: Int
    }

    var entries: [ObjectIdentifier: Entry] = [:]
    /// Keeps the recorded modules alive so that their identifiers stay unique.
    var modules: [ObjectIdentifier: Module] = [:]

    /// The shapes seen by `module`, if it recorded any.
    public subscript(module: Module) -> Entry? { entries[ObjectIdentifier(module)] }

    /// Number of modules that recorded shapes.
    public var count: Int { entries.count }
}

/// The recording in progress, if any (one at a time; nested recordings share the outer log).
enum ShapeRecorder {
    static var current: ShapeLog?
}

extension Module {
    /// Notes this module's input and output shapes when a recording is running; returns `output`.
    @inline(__always) @discardableResult
    public func recordShapes(_ input: Tensor, output: Tensor) -> Tensor {
        if ShapeRecorder.current != nil { logShapes([input.shape], output.shape) }
        return output
    }

    /// The same for several inputs, or inputs that are not tensors (token indices): their shapes
    /// given directly.
    @inline(__always) @discardableResult
    public func recordShapes(inputShapes: [[Int]], output: Tensor) -> Tensor {
        if ShapeRecorder.current != nil { logShapes(inputShapes, output.shape) }
        return output
    }

    private func logShapes(_ inputs: [[Int]], _ output: [Int]) {
        let id = ObjectIdentifier(self)
        if var entry = ShapeRecorder.current?.entries[id] {
            entry.calls += 1
            ShapeRecorder.current?.entries[id] = entry
        } else {
            ShapeRecorder.current?.entries[id] = ShapeLog.Entry(inputs: inputs, output: output, calls: 1)
            ShapeRecorder.current?.modules[id] = self
        }
    }

    /// Runs `body` (typically one forward pass) with shape recording on, and returns what it
    /// returned together with the shapes every recording layer saw.
    public func recordingShapes<R>(_ body: () throws -> R) rethrows -> (result: R, shapes: ShapeLog) {
        if ShapeRecorder.current != nil {  // nested: record into the outer log
            return (try body(), ShapeRecorder.current!) // invariant: checked just above
        }
        ShapeRecorder.current = ShapeLog()
        defer { ShapeRecorder.current = nil }
        let result = try body()
        return (result, ShapeRecorder.current!) // invariant: set above, cleared only by defer
    }
}
