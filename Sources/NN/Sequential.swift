import Tensors

/// Layers applied one after another, named "0", "1", … like PyTorch's `nn.Sequential`, so a
/// property `main = Sequential(...)` gives state-dict keys `main.0.weight`, `main.2.weight`, ….
public final class Sequential: Module, Layer {
    public let layers: [Module & Layer]

    public init(_ layers: [Module & Layer]) {
        self.layers = layers
        super.init()
    }

    public convenience init(_ layers: (Module & Layer)...) { self.init(layers) }

    public override func members() -> [(name: String, member: Member)] {
        layers.enumerated().map { (String($0.offset), .module($0.element)) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        recordShapes(x, output: layers.reduce(x) { h, layer in layer(h) })
    }

    public var count: Int { layers.count }
    public subscript(index: Int) -> Module & Layer { layers[index] }
}
