/// Ops that move values without changing them: reshape, permute, transpose, concat, slice, pad.

extension Tensor {
    /// The same values under a new shape with the same element count; one dimension may be -1.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let i = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != i }.map(\.element).product
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)") // invariant: a programming error, not user input
            target[i] = count / known
        }
        precondition(target.product == count, "cannot reshape \(shape) to \(newShape)") // invariant: a programming error, not user input
        let input = self
        let out = Tensor(shape: target, storage: storage)
        return Tensor.record(out, "reshape", [self]) { g, _ in [g.detached().reshaped(input.shape)] }
    }

    /// Flattens dimensions `start...` into one.
    public func flattened(from start: Int = 0) -> Tensor {
        reshaped(Array(shape[..<start]) + [shape[start...].product])
    }

    /// Reorders dimensions: output dimension i is input dimension `order[i]`.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.sorted() == Array(0..<rank), "bad permutation \(order) for rank \(rank)") // invariant: a programming error, not user input
        if order == Array(0..<rank) { return reshaped(shape) }
        let out = permuteKernel(self, order)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, o) in order.enumerated() { inverse[o] = i }
        return Tensor.record(out, "permute", [self]) { g, _ in [permuteKernel(g, inverse)] }
    }

    /// Swaps two dimensions (default: the last two).
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizedAxis(a), normalizedAxis(b))
        return permuted(order)
    }

    /// Maps a possibly negative axis to 0..<rank.
    @inline(__always)
    public func normalizedAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "axis \(axis) out of range for rank \(rank)") // invariant: a programming error, not user input
        return a
    }

    /// The sub-tensor `range` along `axis` (a crop or slice), copied.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let ax = normalizedAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[ax],  // invariant: a programming error, not user input
                     "slice \(range) out of 0..<\(shape[ax])")
        let outer = shape[..<ax].product, inner = shape[(ax + 1)...].product
        let n = shape[ax], m = range.count
        var outShape = shape; outShape[ax] = m
        let src = storage.pointer
        let out = Tensor.make(outShape) { dst in
            Parallel.forEach(outer) { o in
                (dst.baseAddress! + o * m * inner).update(from: src + (o * n + range.lowerBound) * inner,
                                                          count: m * inner)
            }
        }
        let inputShape = shape
        return Tensor.record(out, "slice", [self]) { g, _ in
            let gp = g.storage.pointer
            let gi = Tensor.zeros(inputShape)
            let dst = gi.storage.pointer
            for o in 0..<outer {
                (dst + (o * n + range.lowerBound) * inner).update(from: gp + o * m * inner, count: m * inner)
            }
            return [gi]
        }
    }

    /// A spatial crop of an NCHW tensor: rows `top..<top+height`, columns `left..<left+width`.
    public func crop(top: Int, left: Int, height: Int, width: Int) -> Tensor {
        slice(axis: -2, top..<(top + height)).slice(axis: -1, left..<(left + width))
    }

    /// Zero-pads the last two dimensions by (left, right, top, bottom), as torch's F.pad does; the
    /// reference's Downsample pads (0, 1, 0, 1) before a stride-2 convolution.
    public func padded(left: Int, right: Int, top: Int, bottom: Int, value: Float = 0) -> Tensor {
        precondition(rank >= 2 && min(left, right, top, bottom) >= 0, "bad padding for \(shape)") // invariant: a programming error, not user input
        let h = shape[rank - 2], w = shape[rank - 1]
        let oh = h + top + bottom, ow = w + left + right
        let planes = count / Swift.max(h * w, 1)
        var outShape = shape; outShape[rank - 2] = oh; outShape[rank - 1] = ow
        let src = storage.pointer
        let out = Tensor(shape: outShape, repeating: value)
        let dst = out.storage.pointer
        Parallel.forEach(planes) { p in
            for y in 0..<h {
                (dst + p * oh * ow + (y + top) * ow + left).update(from: src + p * h * w + y * w, count: w)
            }
        }
        let inputShape = shape
        return Tensor.record(out, "pad", [self]) { g, _ in
            let gp = g.storage.pointer
            let gi = Tensor.make(inputShape) { d in
                Parallel.forEach(planes) { p in
                    for y in 0..<h {
                        (d.baseAddress! + p * h * w + y * w).update(from: gp + p * oh * ow + (y + top) * ow + left, count: w)
                    }
                }
            }
            return [gi]
        }
    }
}

/// Joins tensors along `axis`; all other dimensions must agree.
public func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
    precondition(!tensors.isEmpty, "concat of nothing") // invariant: a programming error, not user input
    let first = tensors[0]
    let ax = first.normalizedAxis(axis)
    for t in tensors {
        precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == ax || t.shape[$0] == first.shape[$0] },  // invariant: a programming error, not user input
                     "concat of \(tensors.map(\.shape)) along \(axis)")
    }
    let outer = first.shape[..<ax].product, inner = first.shape[(ax + 1)...].product
    let sizes = tensors.map { $0.shape[ax] }
    let total = sizes.reduce(0, +)
    var outShape = first.shape; outShape[ax] = total
    let out = Tensor.make(outShape) { dst in
        var offset = 0
        for (t, n) in zip(tensors, sizes) {
            let src = t.storage.pointer
            for o in 0..<outer {
                (dst.baseAddress! + (o * total + offset) * inner).update(from: src + o * n * inner, count: n * inner)
            }
            offset += n
        }
    }
    return Tensor.record(out, "concat", tensors) { g, needs in
        var offset = 0
        var grads: [Tensor?] = []
        for (i, n) in sizes.enumerated() {
            grads.append(needs[i] ? g.detached().slice(axis: ax, offset..<(offset + n)) : nil)
            offset += n
        }
        return grads
    }
}

/// Stacks equally shaped tensors along a new leading axis.
public func stack(_ tensors: [Tensor]) -> Tensor {
    concat(tensors.map { $0.reshaped([1] + $0.shape) }, axis: 0)
}

/// Copies `x` with its dimensions reordered by `order` (no graph).
func permuteKernel(_ x: Tensor, _ order: [Int]) -> Tensor {
    let rank = x.rank
    let outShape = order.map { x.shape[$0] }
    var inStrides = [Int](repeating: 1, count: rank)
    for i in stride(from: rank - 2, through: 0, by: -1) { inStrides[i] = inStrides[i + 1] * x.shape[i + 1] }
    let strides = order.map { inStrides[$0] } // stride in the input for each output dimension
    let src = x.storage.pointer
    // Fast path: swapping the last two of a batch of matrices.
    if rank >= 2, order[..<(rank - 2)] == ArraySlice(0..<(rank - 2)), order[rank - 2] == rank - 1 {
        let r = x.shape[rank - 2], c = x.shape[rank - 1], batch = x.count / max(r * c, 1)
        return Tensor.make(outShape) { dst in
            Parallel.forEach(batch) { b in
                let s = src + b * r * c, d = dst.baseAddress! + b * r * c
                // Blocked transpose for cache friendliness.
                let blk = 32
                for i0 in stride(from: 0, to: r, by: blk) {
                    for j0 in stride(from: 0, to: c, by: blk) {
                        for i in i0..<min(i0 + blk, r) {
                            for j in j0..<min(j0 + blk, c) { d[j * r + i] = s[i * c + j] }
                        }
                    }
                }
            }
        }
    }
    let inner = outShape.last ?? 1, innerStride = strides.last ?? 1
    let rows = x.count / max(inner, 1)
    return Tensor.make(outShape) { dst in
        Parallel.forRanges(rows, grain: 256) { range in
            var index = [Int](repeating: 0, count: max(rank - 1, 0))
            // Decompose the first row index of this range.
            var rem = range.lowerBound
            for d in stride(from: rank - 2, through: 0, by: -1) { index[d] = rem % outShape[d]; rem /= outShape[d] }
            for row in range {
                var base = 0
                for d in 0..<(rank - 1) { base += index[d] * strides[d] }
                let out = dst.baseAddress! + row * inner
                for j in 0..<inner { out[j] = src[base + j * innerStride] }
                // Advance the multi-index.
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    if index[d] < outShape[d] { break }
                    index[d] = 0; d -= 1
                }
            }
        }
    }
}
