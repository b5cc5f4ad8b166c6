/// Sums, means and maxima over axes.
///
/// Sums accumulate in blocks of fixed size whatever the thread count, so the same inputs give the
/// same bits with 1 or 8 threads.

/// Sums `x` over one axis, viewed as [outer, n, inner] (no graph).
func sumAxisKernel(_ x: Tensor, axis: Int) -> Tensor {
    let outer = x.shape[..<axis].product, n = x.shape[axis], inner = x.shape[(axis + 1)...].product
    var outShape = x.shape; outShape[axis] = 1
    let src = x.storage.pointer
    return Tensor.make(outShape) { d in
        let dst = d.baseAddress!
        if inner == 1 {
            Parallel.forRanges(outer, grain: max(1, 16_384 / max(n, 1))) { r in
                for o in r {
                    var acc: Float = 0
                    let s = src + o * n
                    for i in 0..<n { acc += s[i] }
                    dst[o] = acc
                }
            }
        } else {
            // Add whole rows of `inner` values, in order, into the outputs: contiguous and
            // vectorisable. Workers own disjoint blocks of output columns.
            let block = 256
            let blocks = (inner + block - 1) / block
            Parallel.forEach(outer * blocks) { job in
                let o = job / blocks, j0 = (job % blocks) * block, len = min(block, inner - j0)
                let out = dst + o * inner + j0
                out.update(repeating: 0, count: len)
                for i in 0..<n {
                    let row = src + (o * n + i) * inner + j0
                    for j in 0..<len { out[j] += row[j] }
                }
            }
        }
    }
}

/// The sum of all elements, in fixed-size blocks summed in order.
func sumAllKernel(_ x: Tensor) -> Float {
    let block = 4096, n = x.count, blocks = (n + block - 1) / block
    let src = x.storage.pointer
    var partial = [Double](repeating: 0, count: max(blocks, 1))
    partial.withUnsafeMutableBufferPointer { p in
        let pp = p.baseAddress!
        Parallel.forEach(blocks) { b in
            var acc: Float = 0
            for i in (b * block)..<min(n, (b + 1) * block) { acc += src[i] }
            pp[b] = Double(acc)
        }
    }
    return Float(partial.reduce(0, +))
}

extension Tensor {
    /// The sum of every element, as a scalar tensor.
    public func sum() -> Tensor {
        let out = Tensor(sumAllKernel(self))
        let s = shape
        return Tensor.record(out, "sum", [self]) { g, _ in
            // The loss's gradient fill: megabytes for an image batch, so spread over the workers.
            let value = g.item
            return [Tensor.make(s) { d in
                let o = d.baseAddress!
                Parallel.forRanges(d.count, grain: 262_144) { r in (o + r.lowerBound).update(repeating: value, count: r.count) }
            }]
        }
    }

    /// The mean of every element, as a scalar tensor.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sums over `axes`; keeps them as size-1 dimensions when `keepDims`.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        let ax = Set(axes.map(normalizedAxis))
        var out = detached()
        for a in ax.sorted() { out = sumAxisKernel(out, axis: a) }
        var reducedShape = shape
        for a in ax { reducedShape[a] = 1 }
        let finalShape = keepDims ? reducedShape : shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element)
        let result = Tensor(shape: finalShape, storage: out.storage)
        let inputShape = shape
        return Tensor.record(result, "sum_axes", [self]) { g, _ in
            [broadcastKernel(Tensor.zeros(inputShape), g.detached().reshaped(reducedShape), +)]
        }
    }

    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Means over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Set(axes.map(normalizedAxis)).map { shape[$0] }.product
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(Swift.max(n, 1)))
    }

    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// The maximum over one axis; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis)
        let outer = shape[..<a].product, n = shape[a], inner = shape[(a + 1)...].product
        var reduced = shape; reduced[a] = 1
        let src = storage.pointer
        var argmax = [Int](repeating: 0, count: outer * inner)
        let out = Tensor.make(reduced) { d in
            argmax.withUnsafeMutableBufferPointer { am in
                for o in 0..<outer {
                    for j in 0..<inner {
                        var best = -Float.infinity, bi = 0
                        for i in 0..<n {
                            let v = src[(o * n + i) * inner + j]
                            if v > best || (i == 0) { best = v; bi = i }
                        }
                        d[o * inner + j] = best; am[o * inner + j] = bi
                    }
                }
            }
        }
        let finalShape = keepDims ? reduced : shape.enumerated().filter { $0.offset != a }.map(\.element)
        let inputShape = shape
        return Tensor.record(out.reshaped(finalShape).detached(), "max", [self]) { g, _ in
            let gi = Tensor.zeros(inputShape)
            let gp = g.storage.pointer, dst = gi.storage.pointer
            for o in 0..<outer { for j in 0..<inner { dst[(o * n + argmax[o * inner + j]) * inner + j] = gp[o * inner + j] } }
            return [gi]
        }
    }
}
