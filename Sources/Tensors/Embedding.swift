/// Embedding lookup: rows of a table picked by integer indices (token and position embeddings,
/// and the VQ codebook's decode path).

/// Gathers `weight[indices[i]]` for each index: weight [V, D] → [indices.count, D].
/// The gradient adds each output row back into the row it came from.
public func embedding(_ indices: [Int], weight: Tensor) -> Tensor {
    let v = weight.shape[0], d = weight.shape[1]
    let src = weight.storage.pointer
    let out = Tensor.make([indices.count, d]) { buf in
        let o = buf.baseAddress!
        Parallel.forRanges(indices.count, grain: Swift.max(1, 8192 / d)) { r in
            for i in r {
                precondition(indices[i] >= 0 && indices[i] < v, "embedding index \(indices[i]) outside 0..<\(v)") // invariant: a programming error, not user input
                (o + i * d).update(from: src + indices[i] * d, count: d)
            }
        }
    }
    return Tensor.record(out, "embedding", [weight]) { g, _ in
        let gw = Tensor.zeros([v, d])
        let gp = g.storage.pointer, dst = gw.storage.pointer
        // Parallel over columns so that repeated indices never race; order within a column is fixed.
        Parallel.forRanges(d, grain: 16) { cols in
            for (i, idx) in indices.enumerated() {
                let row = dst + idx * d, grow = gp + i * d
                for j in cols { row[j] += grow[j] }
            }
        }
        return [gw]
    }
}
