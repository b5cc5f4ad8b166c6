import Foundation
import NN
import Tensors

/// The convolutional part of VGG16 (Simonyan & Zisserman 2015) with torchvision's parameter names,
/// `features.0.weight`, `features.0.bias`, `features.2.weight`, … `features.28.bias`: the backbone
/// LPIPS and the reference's perceptual loss use, here only when a user brings its weights.
///
/// Thirteen 3×3 convolutions (padding 1) with ReLU in five blocks of 64, 128, 256, 512, 512
/// channels, with 2×2 max-pooling between blocks. The feature stacks are LPIPS's slices
/// `features[0:4]`, `[4:9]`, `[9:16]`, `[16:23]`, `[23:30]`: relu1_2, relu2_2, relu3_3, relu4_3,
/// relu5_3 at H, H/2, H/4, H/8, H/16 (so sides must be multiples of 16).
///
/// Inputs in [-1, 1] are first shifted and scaled as LPIPS's `ScalingLayer` does,
/// (x − shift) / scale with shift = (−.030, −.088, −.188) and scale = (.458, .448, .450), which
/// maps them to roughly what VGG saw in training (ImageNet mean and standard deviation).
///
/// Shape letters: B batch, C channels, H height, W width.
public final class VGG16Features: Module, FeatureBackbone {
    /// torchvision's `vgg16().features[0:30]` (the last max-pool, index 30, is never used).
    public let features: Sequential
    /// LPIPS's input scaling, [1, 3, 1, 1] each (not saved: the names would not be torchvision's).
    private let _shift = Tensor(shape: [1, 3, 1, 1], [-0.030, -0.088, -0.188])
    private let _scale = Tensor(shape: [1, 3, 1, 1], [0.458, 0.448, 0.450])

    /// Channels of each block, and the number of convolutions in it (VGG16's "D" configuration).
    public static let blocks: [(channels: Int, convolutions: Int)] = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
    /// The index in `features` of the ReLU that ends each slice: relu1_2 … relu5_3.
    public static let sliceEnds = [3, 8, 15, 22, 29]

    /// Every tensor a VGG16 `features` state dict holds, with its shape, in torchvision's order:
    /// `features.0.weight` [64, 3, 3, 3], `features.0.bias` [64], … `features.28.bias` [512].
    public static let parameterShapes: [(name: String, shape: [Int])] = {
        var result: [(String, [Int])] = []
        var (index, channels) = (0, 3)
        for (b, block) in blocks.enumerated() {
            if b > 0 { index += 1 }   // the max-pool before the block
            for _ in 0..<block.convolutions {
                result.append(("features.\(index).weight", [block.channels, channels, 3, 3]))
                result.append(("features.\(index).bias", [block.channels]))
                index += 2            // the convolution and its ReLU
                channels = block.channels
            }
        }
        return result
    }()

    /// VGG16 from its weights by torchvision name (checked by `load(from:)`).
    private init(weights: [String: Tensor]) {
        var layers: [Module & Layer] = []
        var index = 0
        for (b, block) in Self.blocks.enumerated() {
            if b > 0 { layers.append(MaxPool2d(kernel: 2, stride: 2)); index += 1 }
            for _ in 0..<block.convolutions {
                layers.append(VGGConvolution(weight: weights["features.\(index).weight"]!, // invariant: checked by load
                                             bias: weights["features.\(index).bias"]!))  // invariant: checked by load
                layers.append(ReLU())
                index += 2
            }
        }
        features = Sequential(layers)
        super.init()
    }

    public var featureChannels: [Int] { Self.blocks.map(\.channels) }

    /// Four 2×2 max-pools: sides must be multiples of 16.
    public var sizeMultiple: Int { 16 }

    /// relu1_2 … relu5_3 for images [B, 3, H, W] in [-1, 1] (H and W multiples of 16).
    public func featureStacks(_ x: Tensor) -> [Tensor] {
        var h = (x - _shift) / _scale
        var stacks: [Tensor] = []
        var next = 0
        for (i, layer) in features.layers.enumerated() {
            h = layer(h)
            if next < Self.sliceEnds.count && i == Self.sliceEnds[next] {
                stacks.append(h)
                next += 1
            }
        }
        return stacks
    }

    /// VGG16 with the weights in the safetensors file at `url`, in torchvision's names.
    ///
    /// The file must hold every `features.N.weight` and `features.N.bias` of the thirteen
    /// convolutions with VGG16's shapes (`parameterShapes`); anything else in it (the
    /// `classifier.*` tensors of a whole `vgg16().state_dict()`) is ignored. A missing or wrongly
    /// shaped tensor is an error naming it (and the file), and so is a value that is not finite.
    public static func load(from url: URL) throws -> VGG16Features {
        let saved = try SafeTensors.read(from: url).dictionary
        var missing: [String] = [], wrong: [String] = []
        for (name, shape) in parameterShapes {
            guard let s = saved[name] else { missing.append(name); continue }
            if s.shape != shape { wrong.append("\(name) is \(s.shape), expected \(shape)") }
        }
        if !missing.isEmpty || !wrong.isEmpty {
            let expectedNames = Set(parameterShapes.map(\.name))
            let strays = saved.keys.filter { $0.hasPrefix("features.") && !expectedNames.contains($0) }.sorted()
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing " + missing.joined(separator: ", ")) }
            if !wrong.isEmpty { parts.append("wrong shape: " + wrong.joined(separator: "; ")) }
            if !strays.isEmpty {
                parts.append("it also holds \(strays.prefix(4).joined(separator: ", "))"
                             + (strays.count > 4 ? " …" : "") + " (VGG16 with batch norm, or another network?)")
            }
            throw SafeTensorsError(file: url.path, problem: "is not torchvision's VGG16 `features`: "
                                   + parts.joined(separator: "; "))
        }
        for (name, _) in parameterShapes {
            if let bad = firstNonFinite(saved[name]!) { // invariant: checked above
                throw SafeTensorsError(file: url.path, problem: "tensor \(name) holds a non-finite value at index \(bad)")
            }
        }
        return VGG16Features(weights: saved)
    }
}

/// The index of the first NaN or infinity in `t`, if any. (0·v is NaN exactly when v is not
/// finite, so one branch-free pass finds out whether to look.)
func firstNonFinite(_ t: Tensor) -> Int? {
    t.withUnsafeBufferPointer { v in
        var probe: Float = 0
        for x in v { probe += x * 0 }
        return probe.isNaN ? v.firstIndex { !$0.isFinite } : nil
    }
}

/// A 3×3 convolution with padding 1 and given weights: VGG's `nn.Conv2d(Cin, Cout, 3, padding=1)`,
/// built straight from a file's tensors (no initialisation to overwrite).
public final class VGGConvolution: Module, Layer {
    public let weight: Tensor   // [Cout, Cin, 3, 3]
    public let bias: Tensor     // [Cout]

    init(weight: Tensor, bias: Tensor) {
        self.weight = weight
        self.bias = bias
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {   // [B, Cin, H, W] → [B, Cout, H, W]
        recordShapes(x, output: conv2d(x, weight: weight, bias: bias, padding: 1))
    }

    public override var details: String { "\(weight.shape[1])→\(weight.shape[0]), 3×3, padding 1" }
}

/// Max-pooling as a layer (VGG's `nn.MaxPool2d(2, 2)`): [B, C, H, W] → [B, C, H/2, W/2].
public final class MaxPool2d: Module, Layer {
    public let kernel: Int
    public let stride: Int

    public init(kernel: Int, stride: Int) {
        self.kernel = kernel
        self.stride = stride
        super.init()
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        recordShapes(x, output: maxPool2d(x, kernel: kernel, stride: stride))
    }

    public override var details: String { "\(kernel)×\(kernel), stride \(stride)" }
}
