import Tensors

// Shape letters: H × W pixels, h × w codes, f pixels per code, C colour channels.

/// Large pictures and maps through a first stage trained on small ones, tile by tile.
///
/// The autoencoders are convolutional, but not purely local: GroupNorm normalises over the whole
/// picture and attention at the latent resolution reads every position, so a 512 × 256 picture
/// passed whole is normalised and attended over differently from the 32 × 32 ones the model was
/// trained on — and at 1024 × 1024 the attention over 65,536 positions would not fit in memory.
/// Tiles of about the training size keep every pass in familiar conditions:
/// - encoding: each tile of codes is encoded from its pixels plus `margin` codes of context on
///   every side (clamped at the borders), and only the tile's own codes are kept;
/// - decoding: tiles overlap by `overlap` codes and are blended with weights that ramp linearly
///   across the overlap, so that no tile edge shows as a seam.
public enum TiledCodes {
    /// Starts of tiles of `tile` along an axis of `extent`, `step` apart, the last one flush with
    /// the end (so it may overlap its neighbour more). One tile of `extent` when it is smaller.
    public static func starts(extent: Int, tile: Int, step: Int) -> [Int] {
        precondition(extent > 0 && tile > 0 && step > 0, "tiles of \(tile), step \(step), over \(extent)") // invariant: a programming error, not user input
        guard extent > tile else { return [0] }
        var starts = Array(Swift.stride(from: 0, to: extent - tile, by: step))
        starts.append(extent - tile)
        return starts
    }

    /// A crop of a code grid: its top-left corner and size, in codes.
    public struct Crop: Hashable, Sendable {
        public var top: Int, left: Int, height: Int, width: Int
    }

    /// The h·w codes (raster) of a grid encoded tile by tile: each tile of `tile` × `tile` is read
    /// with `margin` codes of context around it (clamped at the borders), and only its own codes
    /// are kept. `encode` gives the codes (raster) of crops of one size, up to `batchSize` at a
    /// time.
    public static func encode(height h: Int, width w: Int, tile: Int, margin: Int, batchSize: Int = 16,
                              _ encode: ([Crop]) throws -> [[Int]]) rethrows -> [Int] {
        let (th, tw) = (min(tile, h), min(tile, w))
        var tiles: [(tile: Crop, crop: Crop)] = []
        for ty in starts(extent: h, tile: th, step: th) {
            for tx in starts(extent: w, tile: tw, step: tw) {
                let top = max(0, ty - margin), left = max(0, tx - margin)
                let bottom = min(h, ty + th + margin), right = min(w, tx + tw + margin)
                tiles.append((Crop(top: ty, left: tx, height: th, width: tw),
                              Crop(top: top, left: left, height: bottom - top, width: right - left)))
            }
        }
        var codes = [Int](repeating: 0, count: h * w)
        // Crops of one size go together (the interior's are all alike; the borders' are cut).
        var tilesBySize: [[Int]: [Int]] = [:]
        var order: [[Int]] = []
        for (i, t) in tiles.enumerated() {
            let key = [t.crop.height, t.crop.width]
            if tilesBySize[key] == nil { order.append(key) }
            tilesBySize[key, default: []].append(i)
        }
        for key in order {
            let members = tilesBySize[key]! // invariant: filled just above
            for start in Swift.stride(from: 0, to: members.count, by: max(batchSize, 1)) {
                let chunk = Array(members[start..<min(members.count, start + max(batchSize, 1))])
                let encoded = try encode(chunk.map { tiles[$0].crop })
                for (i, crop) in zip(chunk, encoded) {
                    let (t, c) = tiles[i]
                    for r in t.top..<(t.top + t.height) {
                        for col in t.left..<(t.left + t.width) {
                            codes[r * w + col] = crop[(r - c.top) * c.width + (col - c.left)]
                        }
                    }
                }
            }
        }
        return codes
    }

    /// The linear ramp of a tile's blending weight at pixel `x` of `size`: 1 inside, falling
    /// towards an edge that overlaps a neighbour over `ramp` pixels; edges on the picture's
    /// border (`atStart`, `atEnd`) do not ramp.
    static func weight(_ x: Int, size: Int, ramp: Int, atStart: Bool, atEnd: Bool) -> Float {
        guard ramp > 0 else { return 1 }
        var w: Float = 1
        if !atStart { w = min(w, (Float(x) + 0.5) / Float(ramp)) }
        if !atEnd { w = min(w, (Float(size - x) - 0.5) / Float(ramp)) }
        return w
    }
}

extension CodeTokenizer {
    /// The h·w codes (raster) of one large picture [1, C, H, W], encoded in tiles of `tile` codes
    /// with `margin` codes of context (see `TiledCodes`).
    public func encodeTiled(_ image: Tensor, tile: Int, margin: Int) -> [Int] {
        let f = downsamplingFactor
        guard let (h, w) = grid(imageHeight: image.shape[2], imageWidth: image.shape[3]), image.shape[0] == 1 else {
            preconditionFailure("one picture whose sides are multiples of \(f), not \(image.shape)") // invariant: callers size pictures
        }
        return TiledCodes.encode(height: h, width: w, tile: tile, margin: margin) { crops in
            let pictures = concat(crops.map { c in
                image.slice(axis: 2, (c.top * f)..<((c.top + c.height) * f)).slice(axis: 3, (c.left * f)..<((c.left + c.width) * f))
            }, axis: 0)
            return encode(pictures, batchSize: crops.count).map {
                order.raster(fromSequence: $0, height: crops[0].height, width: crops[0].width)
            }
        }
    }

    /// The picture [1, C, f·h, f·w] of a large grid of codes (raster), decoded in tiles of `tile`
    /// codes that overlap by `overlap` codes and are blended across the overlap (see `TiledCodes`).
    /// `tile` ≥ h and w decodes the grid whole.
    public func decodeTiled(_ codes: [Int], height h: Int, width w: Int, tile: Int, overlap: Int,
                            batchSize: Int = 16) -> Tensor {
        precondition(codes.count == h * w && tile > overlap && overlap >= 0, "\(codes.count) codes for \(h)×\(w), tile \(tile), overlap \(overlap)") // invariant: a programming error, not user input
        let f = downsamplingFactor
        let (th, tw) = (min(tile, h), min(tile, w))
        let rows = TiledCodes.starts(extent: h, tile: th, step: tile - overlap)
        let columns = TiledCodes.starts(extent: w, tile: tw, step: tile - overlap)
        let corners = rows.flatMap { r in columns.map { (r, $0) } }
        let channels = autoencoder.config.outChannels
        let (height, width) = (h * f, w * f)
        var sum = [Float](repeating: 0, count: channels * height * width)
        var weights = [Float](repeating: 0, count: height * width)
        for start in Swift.stride(from: 0, to: corners.count, by: batchSize) {
            let batch = Array(corners[start..<min(corners.count, start + batchSize)])
            let sequences = batch.map { (top, left) -> [Int] in
                var raster: [Int] = []
                for r in top..<(top + th) { raster += codes[(r * w + left)..<(r * w + left + tw)] }
                return order.sequence(fromRaster: raster, height: th, width: tw)
            }
            let pictures = decode(sequences, height: th, width: tw, batchSize: batchSize)   // [n, C, th·f, tw·f]
            pictures.withUnsafeBufferPointer { p in
                let (ph, pw) = (th * f, tw * f)
                for (i, (top, left)) in batch.enumerated() {
                    let columnWeights = (0..<pw).map {
                        TiledCodes.weight($0, size: pw, ramp: overlap * f, atStart: left == 0, atEnd: left + tw == w)
                    }
                    for y in 0..<ph {
                        let wy = TiledCodes.weight(y, size: ph, ramp: overlap * f, atStart: top == 0, atEnd: top + th == h)
                        for x in 0..<pw {
                            let wx = columnWeights[x]
                            let (gy, gx) = (top * f + y, left * f + x)
                            weights[gy * width + gx] += wy * wx
                            for c in 0..<channels {
                                sum[(c * height + gy) * width + gx] += wy * wx * p[((i * channels + c) * ph + y) * pw + x]
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [1, channels, height, width], (0..<(channels * height * width)).map {
            sum[$0] / weights[$0 % (height * width)]
        })
    }
}

extension VQSegmentationModel {
    /// The cond-stage codes (raster) of one large map (labels [H·W]), encoded in tiles of `tile`
    /// codes with `margin` codes of context (see `TiledCodes`).
    /// - Throws: `ConditioningError` when a label is not a class or a side is not a multiple of f.
    public func codesTiled(for labels: [UInt8], height: Int, width: Int, tile: Int, margin: Int) throws -> [Int] {
        try checkSides(height: height, width: width)
        let f = downsamplingFactor
        guard labels.count == height * width else {
            throw ConditioningError.shapeMismatch("\(labels.count) labels for a map of \(width)×\(height)")
        }
        return try TiledCodes.encode(height: height / f, width: width / f, tile: tile, margin: margin) { crops in
            var labelsOfCrops: [UInt8] = []
            for c in crops {
                for y in (c.top * f)..<((c.top + c.height) * f) {
                    labelsOfCrops += labels[(y * width + c.left * f)..<(y * width + (c.left + c.width) * f)]
                }
            }
            let n = crops[0].height * crops[0].width
            let codes = try codes(for: labelsOfCrops, batch: crops.count, height: crops[0].height * f,
                                  width: crops[0].width * f)
            return (0..<crops.count).map { Array(codes[($0 * n)..<(($0 + 1) * n)]) }
        }
    }
}
