import Tensors

/// A fixed set of procedural landscapes at one size, generated once and kept in memory.
///
/// Example `i` of the training split is landscape index `i` of the generator; the validation
/// split uses indices from `validationOffset` on, so the two never share a landscape. Scenes are
/// balanced: example `i` has scene `scenes[i % scenes.count]`. Pictures are kept at 8 bits per
/// channel (as if saved to PNG and read back), a quarter of the memory of Floats: 10,000 examples
/// of 64×64 take 123 MB.
///
///     let train = try ProceduralDataset(seed: 1, count: 2000, width: 32, height: 32)
///     let valid = try ProceduralDataset(seed: 1, count: 200, width: 32, height: 32, split: .validation)
public struct ProceduralDataset: Dataset, Sendable {
    /// Which landscapes a dataset holds.
    public enum Split: Sendable { case train, validation }

    /// Generator indices of the validation split start here.
    public static let validationOffset = 1 << 40

    public let count: Int
    public let width: Int
    public let height: Int
    public let split: Split
    public let scenes: [SceneClass]
    public let generator: LandscapeGenerator
    public var hasSegmentation: Bool { true }
    public var classCount: Int? { SceneClass.count }

    /// Planar 8-bit pictures, `[count, 3, H, W]`, and labels, `[count, H, W]`.
    private let pixels: [UInt8]
    private let labels: [UInt8]

    /// Generates `count` landscapes of `width`×`height` (spread over the worker threads).
    /// `pixelsPerUnit` sets the scale (default: the height, i.e. whole standard views).
    /// - Throws: `DatasetError.invalidArgument` for a negative count, an empty size or scene list.
    public init(seed: UInt64, count: Int, width: Int, height: Int, split: Split = .train,
                scenes: [SceneClass] = SceneClass.allCases, pixelsPerUnit: Float? = nil) throws {
        guard count >= 0, width > 0, height > 0, !scenes.isEmpty, (pixelsPerUnit ?? 1) > 0 else {
            throw DatasetError.invalidArgument(
                "cannot make \(count) landscapes of \(width)×\(height) from \(scenes.count) scene classes")
        }
        self.count = count
        self.width = width
        self.height = height
        self.split = split
        self.scenes = scenes
        let generator = LandscapeGenerator(seed: seed)
        self.generator = generator
        let plane = width * height
        var pixels = [UInt8](repeating: 0, count: count * 3 * plane)
        var labels = [UInt8](repeating: 0, count: count * plane)
        let offset = split == .train ? 0 : Self.validationOffset
        pixels.withUnsafeMutableBufferPointer { pixels in
            labels.withUnsafeMutableBufferPointer { labels in
                Parallel.forEach(count) { i in
                    let sample = generator.sample(index: offset + i, width: width, height: height,
                                                  scene: scenes[i % scenes.count], pixelsPerUnit: pixelsPerUnit)
                    sample.image.withUnsafeBufferPointer { image in
                        for j in 0..<(3 * plane) { pixels[i * 3 * plane + j] = quantize(image[j]) }
                    }
                    for j in 0..<plane { labels[i * plane + j] = sample.segmentation[j] }
                }
            }
        }
        self.pixels = pixels
        self.labels = labels
    }

    /// The scene class of example `index`.
    public func scene(at index: Int) -> SceneClass { scenes[index % scenes.count] }

    public func example(at index: Int, rng: inout RandomGenerator) -> Example {
        precondition(index >= 0 && index < count, "example \(index) of \(count)") // invariant: a programming error, not user input
        let plane = width * height
        let image = Tensor.make([3, height, width]) { out in
            pixels.withUnsafeBufferPointer { p in
                for j in 0..<(3 * plane) { out[j] = dequantize(p[index * 3 * plane + j]) }
            }
        }
        let segmentation = Array(labels[(index * plane)..<((index + 1) * plane)])
        return Example(image: image, segmentation: segmentation, sceneClass: scene(at: index).rawValue)
    }
}

/// [-1, 1] → 0…255, rounded to the nearest level (as an 8-bit PNG stores it).
@inline(__always)
func quantize(_ x: Float) -> UInt8 {
    guard x > -1 else { return 0 }
    guard x < 1 else { return 255 }
    return UInt8(((x + 1) * 127.5).rounded())
}

/// 0…255 → [-1, 1] (as an 8-bit PNG reads back).
@inline(__always)
func dequantize(_ v: UInt8) -> Float { Float(v) / 127.5 - 1 }
