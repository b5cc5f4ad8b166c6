/// Resizing by area averaging (a box filter): each output pixel is the mean of the source area it
/// covers, with fractional weights at the edges. Downscaling this way is what a camera's sensor
/// does, and it does not alias the way sampling every k-th pixel would. Segmentation maps cannot
/// be averaged, so they take the most frequent label of the area instead.
///
/// Pictures here are planar 8-bit, `[C, H, W]`; rectangles are in whole source pixels.
enum AreaResampling {
    /// A rectangle of source pixels.
    struct Rect: Equatable {
        var x: Int
        var y: Int
        var width: Int
        var height: Int
    }

    /// For each of `outputs` output pixels over `length` source pixels starting at `start`: the
    /// first source pixel it covers and the weights (summing to 1) of the pixels it covers.
    static func weights(start: Int, length: Int, outputs: Int) -> [(first: Int, weights: [Float])] {
        let scale = Double(length) / Double(outputs)
        return (0..<outputs).map { o in
            let a = Double(o) * scale, b = Double(o + 1) * scale
            let first = Int(a.rounded(.down)), last = Swift.min(length - 1, Int((b - 1e-9).rounded(.down)))
            var w: [Float] = []
            for s in first...Swift.max(first, last) {
                let overlap = Swift.min(b, Double(s + 1)) - Swift.max(a, Double(s))
                w.append(Float(Swift.max(0, overlap) / scale))
            }
            return (start + first, w)
        }
    }

    /// The area-averaged `[C, outHeight, outWidth]` picture of `rect` of `source` (`[C, H, W]`,
    /// 8-bit), written as Floats in [-1, 1] into `out`; mirrored left to right when `flip`.
    static func resize(_ source: UnsafeBufferPointer<UInt8>, channels: Int, width: Int, height: Int,
                       rect: Rect, outWidth: Int, outHeight: Int, flip: Bool,
                       into out: UnsafeMutableBufferPointer<Float>) {
        let columns = weights(start: rect.x, length: rect.width, outputs: outWidth)
        let rows = weights(start: rect.y, length: rect.height, outputs: outHeight)
        // Horizontal pass over the rect's rows: [C, rect.height, outWidth] in 0…255.
        var temp = [Float](repeating: 0, count: channels * rect.height * outWidth)
        temp.withUnsafeMutableBufferPointer { temp in
            for c in 0..<channels {
                for y in 0..<rect.height {
                    let src = c * width * height + (rect.y + y) * width
                    let dst = (c * rect.height + y) * outWidth
                    for (o, column) in columns.enumerated() {
                        var sum: Float = 0
                        for (k, w) in column.weights.enumerated() { sum += w * Float(source[src + column.first + k]) }
                        temp[dst + (flip ? outWidth - 1 - o : o)] = sum
                    }
                }
            }
            // Vertical pass, then to [-1, 1].
            for c in 0..<channels {
                for (o, row) in rows.enumerated() {
                    let dst = (c * outHeight + o) * outWidth
                    for x in 0..<outWidth { out[dst + x] = 0 }
                    for (k, w) in row.weights.enumerated() {
                        let src = (c * rect.height + row.first - rect.y + k) * outWidth
                        for x in 0..<outWidth { out[dst + x] += w * temp[src + x] }
                    }
                    for x in 0..<outWidth { out[dst + x] = out[dst + x] / 127.5 - 1 }
                }
            }
        }
    }

    /// `resize` into 8-bit pixels (rounded): for shrinking pictures once when they are loaded.
    static func resizeBytes(_ source: [UInt8], channels: Int, width: Int, height: Int,
                            outWidth: Int, outHeight: Int) -> [UInt8] {
        var floats = [Float](repeating: 0, count: channels * outWidth * outHeight)
        source.withUnsafeBufferPointer { src in
            floats.withUnsafeMutableBufferPointer { out in
                resize(src, channels: channels, width: width, height: height,
                       rect: Rect(x: 0, y: 0, width: width, height: height),
                       outWidth: outWidth, outHeight: outHeight, flip: false, into: out)
            }
        }
        return floats.map(quantize)
    }

    /// The most frequent label of the source area under each output pixel of `rect` of `labels`
    /// (`[H, W]`), `[outHeight, outWidth]`; ties go to the smaller label. Source pixels count when
    /// their centres lie in the area; when none does (enlarging), the pixel under its centre.
    static func majority(_ labels: [UInt8], width: Int, height: Int, rect: Rect,
                         outWidth: Int, outHeight: Int, flip: Bool) -> [UInt8] {
        func spans(start: Int, length: Int, outputs: Int) -> [Range<Int>] {
            let scale = Double(length) / Double(outputs)
            return (0..<outputs).map { o in
                // Centres s + 0.5 in [a, b)  ⇔  s in [a − 0.5, b − 0.5).
                let a = Double(o) * scale, b = Double(o + 1) * scale
                var first = Int((a - 0.5).rounded(.up)), end = Int((b - 0.5).rounded(.up))
                if end <= first {
                    first = Swift.min(length - 1, Int(((a + b) / 2).rounded(.down)))
                    end = first + 1
                }
                return (start + first)..<(start + Swift.min(end, length))
            }
        }
        let columns = spans(start: rect.x, length: rect.width, outputs: outWidth)
        let rows = spans(start: rect.y, length: rect.height, outputs: outHeight)
        var out = [UInt8](repeating: 0, count: outWidth * outHeight)
        var counts = [Int32](repeating: 0, count: 256)
        labels.withUnsafeBufferPointer { l in
            counts.withUnsafeMutableBufferPointer { counts in
                for (oy, rowSpan) in rows.enumerated() {
                    for (ox, columnSpan) in columns.enumerated() {
                        var best: UInt8 = 0, bestCount: Int32 = 0
                        for y in rowSpan {
                            for x in columnSpan {
                                let label = l[y * width + x]
                                counts[Int(label)] += 1
                                let n = counts[Int(label)]
                                if n > bestCount || (n == bestCount && label < best) { best = label; bestCount = n }
                            }
                        }
                        for y in rowSpan { for x in columnSpan { counts[Int(l[y * width + x])] = 0 } }
                        out[oy * outWidth + (flip ? outWidth - 1 - ox : ox)] = best
                    }
                }
            }
        }
        return out
    }
}
