import NN
import Tensors

/// The workbook's own perceptual feature network: a small VGG-like CNN that the book trains on the
/// procedural landscapes, with nothing downloaded, to stand in for LPIPS's ImageNet VGG16.
///
/// Four stages of two 3×3 convolutions with ReLU (32, 64, 128, 128 channels); every stage but the
/// first halves the resolution with its first convolution (stride 2). The feature stacks are the
/// four stage outputs, at H, H/2, H/4 and H/8, as VGG's relu1_2 … relu4_3.
///
/// Why this training task: a perceptual loss needs features that care about local structure and
/// texture, and not only about what a picture shows overall. So the network learns two things at
/// once from the landscapes' labels: the per-pixel semantic class (sky, cloud, grass, tree, water,
/// …), read from every stage by a 1×1 "probe" convolution whose logits are upsampled to full size
/// and summed, which makes every stage's features encode what is where at its own scale; and the
/// scene class (day, sunset, night, snow, desert) from the pooled last stage, which makes the deep
/// features summarise colour and mood. The heads are used in training only.
///
/// Shape letters: B batch, C channels, H height, W width, K classes.
public final class FeatureNetwork: Module, FeatureBackbone {
    /// How the network is sized; the defaults are the book's.
    public struct Config: Codable, Equatable, Sendable {
        /// Channels of each stage (the feature maps' widths).
        public var widths: [Int]
        /// Per-pixel classes of the segmentation task (the landscapes' `SemanticClass.count`, 9).
        public var segmentationClasses: Int
        /// Picture classes of the scene task (the landscapes' `SceneClass.count`, 5).
        public var sceneClasses: Int

        public init(widths: [Int] = [32, 64, 128, 128], segmentationClasses: Int = 9, sceneClasses: Int = 5) {
            self.widths = widths
            self.segmentationClasses = segmentationClasses
            self.sceneClasses = sceneClasses
        }

        /// The factor by which the deepest stage is smaller than the input: 2^(stages − 1).
        public var downsamplingFactor: Int { 1 << max(widths.count - 1, 0) }
    }

    public let config: Config
    /// Stage l: conv3×3 → ReLU → conv3×3 → ReLU (`stages.l.0.weight`, `stages.l.2.weight`).
    public let stages: [Sequential]
    /// Per stage, a 1×1 convolution to K segmentation logits (training only).
    public let segmentation: [Conv2d]
    /// Scene logits from the pooled deepest stage (training only).
    public let scene: Linear

    public init(_ config: Config = Config(), rng: inout RandomGenerator) {
        precondition(!config.widths.isEmpty && config.widths.allSatisfy { $0 > 0 }  // invariant: configs are written in code
                     && config.segmentationClasses > 0 && config.sceneClasses > 0,
                     "FeatureNetwork config \(config)")
        self.config = config
        var stages: [Sequential] = []
        var channels = 3
        for (l, width) in config.widths.enumerated() {
            stages.append(Sequential(
                Conv2d(inChannels: channels, outChannels: width, kernelSize: 3, stride: l == 0 ? 1 : 2,
                       padding: 1, rng: &rng),
                ReLU(),
                Conv2d(inChannels: width, outChannels: width, kernelSize: 3, padding: 1, rng: &rng),
                ReLU()))
            channels = width
        }
        self.stages = stages
        segmentation = config.widths.map {
            Conv2d(inChannels: $0, outChannels: config.segmentationClasses, kernelSize: 1, rng: &rng)
        }
        scene = Linear(inFeatures: channels, outFeatures: config.sceneClasses, rng: &rng)
        super.init()
    }

    public var featureChannels: [Int] { config.widths }

    /// The stage outputs for images [B, 3, H, W] in [-1, 1]: [B, C_l, H/2^l, W/2^l] (sizes rounded up).
    public func featureStacks(_ x: Tensor) -> [Tensor] {
        var h = x
        return stages.map { stage in
            h = stage(h)
            return h
        }
    }

    /// What the training heads predict from the feature stacks.
    public struct Predictions {
        /// Per-pixel class logits [B, K, H, W].
        public var segmentation: Tensor
        /// Scene class logits [B, K].
        public var scene: Tensor
    }

    /// Both heads' logits for images [B, 3, H, W] whose sides are multiples of `downsamplingFactor`.
    public func predict(_ x: Tensor) -> Predictions {
        let stacks = featureStacks(x)
        var logits: Tensor? = nil
        for (l, (stack, probe)) in zip(stacks, segmentation).enumerated() {
            let scaled = l == 0 ? probe(stack) : upsampleNearest(probe(stack), scale: 1 << l)
            logits = logits.map { $0 + scaled } ?? scaled
        }
        let pooled = stacks[stacks.count - 1].mean(axes: [2, 3])             // [B, C]
        return Predictions(segmentation: logits!, scene: scene(pooled)) // invariant: at least one stage
    }

    /// One vector per image for Fréchet distances: the deepest stage averaged over positions,
    /// [B, C_last], computed in batches without recording gradients.
    public func pooledFeatures(_ images: Tensor, batchSize: Int = 32) -> Tensor {
        withNoGrad {
            let n = images.shape[0]
            guard n > 0 else { return Tensor.zeros([0, config.widths[config.widths.count - 1]]) }
            var parts: [Tensor] = []
            for start in stride(from: 0, to: n, by: max(batchSize, 1)) {
                let x = images.slice(axis: 0, start..<min(n, start + batchSize))
                parts.append(featureStacks(x)[stages.count - 1].mean(axes: [2, 3]))
            }
            return parts.count == 1 ? parts[0] : concat(parts, axis: 0)
        }
    }
}
