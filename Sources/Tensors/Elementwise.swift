import Foundation

/// Element-wise arithmetic with broadcasting, and the unary functions of the library.

/// Applies `f` to every pair of broadcast elements of `a` and `b` (no graph).
@inline(__always)
func broadcastKernel(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    let pa = a.storage.pointer, pb = b.storage.pointer
    if a.shape == b.shape {
        return Tensor.make(a.shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(a.count) { r in for i in r { o[i] = f(pa[i], pb[i]) } }
        }
    }
    if b.count == 1 && b.rank <= a.rank {
        let s = pb[0]
        return Tensor.make(a.shape) { d in
            let o = d.baseAddress!
            Parallel.forRanges(a.count) { r in for i in r { o[i] = f(pa[i], s) } }
        }
    }
    let plan = BroadcastPlan(a.shape, b.shape)
    let inner = plan.innerCount, sa = plan.stridesA.last!, sb = plan.stridesB.last!
    return Tensor.make(plan.outShape) { d in
        let o = d.baseAddress!
        Parallel.forRanges(plan.rowCount, grain: max(1, 16_384 / max(inner, 1))) { rows in
            plan.forEachRow(rows) { row, oa, ob in
                let out = o + row * inner
                if sa == 1 && sb == 0 {
                    let y = pb[ob]
                    for j in 0..<inner { out[j] = f(pa[oa + j], y) }
                } else {
                    for j in 0..<inner { out[j] = f(pa[oa + j * sa], pb[ob + j * sb]) }
                }
            }
        }
    }
}

/// Applies `f` to every element (no graph).
@inline(__always)
func mapKernel(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    let p = x.storage.pointer
    return Tensor.make(x.shape) { d in
        let o = d.baseAddress!
        Parallel.forRanges(x.count) { r in for i in r { o[i] = f(p[i]) } }
    }
}

/// Computes `f(g, x, y)` element-wise over three same-shaped tensors (no graph): backward rules.
@inline(__always)
func zipKernel(_ g: Tensor, _ x: Tensor, _ y: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
    let pg = g.storage.pointer, px = x.storage.pointer, py = y.storage.pointer
    return Tensor.make(x.shape) { d in
        let o = d.baseAddress!
        Parallel.forRanges(x.count) { r in for i in r { o[i] = f(pg[i], px[i], py[i]) } }
    }
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(a, b, +)
        let sa = a.shape, sb = b.shape
        return record(out, "add", [a, b]) { g, n in
            [n[0] ? sumToShape(g, sa) : nil, n[1] ? sumToShape(g, sb) : nil]
        }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(a, b, -)
        let sa = a.shape, sb = b.shape
        return record(out, "sub", [a, b]) { g, n in
            [n[0] ? sumToShape(g, sa) : nil, n[1] ? sumToShape(mapKernel(g, -), sb) : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(a, b, *)
        return record(out, "mul", [a, b]) { g, n in
            [n[0] ? sumToShape(broadcastKernel(g, b, *), a.shape) : nil,
             n[1] ? sumToShape(broadcastKernel(g, a, *), b.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = broadcastKernel(a, b, /)
        let y = out.detached() // the closure must not hold `out` itself: out → node → closure → out
        return record(out, "div", [a, b]) { g, n in
            [n[0] ? sumToShape(broadcastKernel(g, b, /), a.shape) : nil,
             // d(a/b)/db = -a/b² = -out/b
             n[1] ? sumToShape(broadcastKernel(broadcastKernel(g, y, *), b) { -$0 / $1 }, b.shape) : nil]
        }
    }

    public static prefix func - (x: Tensor) -> Tensor {
        record(mapKernel(x, -), "neg", [x]) { g, _ in [mapKernel(g, -)] }
    }

    public static func + (a: Tensor, s: Float) -> Tensor {
        record(mapKernel(a) { $0 + s }, "add_scalar", [a]) { g, _ in [g] }
    }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (s: Float, a: Tensor) -> Tensor { -a + s }

    public static func * (a: Tensor, s: Float) -> Tensor {
        record(mapKernel(a) { $0 * s }, "mul_scalar", [a]) { g, _ in [mapKernel(g) { $0 * s }] }
    }
    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }
    /// s / x element-wise.
    public static func / (s: Float, a: Tensor) -> Tensor { a.unary("rdiv", { s / $0 }, { x, y in -y / x }) }

    // MARK: Unary functions

    /// Builds a unary op from its forward function and its derivative f'(x, y) with y = f(x).
    @inline(__always)
    func unary(_ name: String, _ f: @escaping (Float) -> Float,
               _ df: @escaping (Float, Float) -> Float) -> Tensor {
        let out = mapKernel(self, f)
        let x = self, y = out.detached() // not `out` itself, which would make a reference cycle
        return Tensor.record(out, name, [self]) { g, _ in [zipKernel(g, x, y) { g, x, y in g * df(x, y) }] }
    }

    public func exp() -> Tensor { unary("exp", { Foundation.exp($0) }, { _, y in y }) }
    public func log() -> Tensor { unary("log", { Foundation.log($0) }, { x, _ in 1 / x }) }
    public func sqrt() -> Tensor { unary("sqrt", { $0.squareRoot() }, { _, y in 0.5 / y }) }
    public func abs() -> Tensor { unary("abs", { Swift.abs($0) }, { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }) }
    public func squared() -> Tensor { unary("square", { $0 * $0 }, { x, _ in 2 * x }) }
    /// x^p for a constant exponent p.
    public func pow(_ p: Float) -> Tensor {
        unary("pow", { Foundation.pow($0, p) }, { x, _ in p * Foundation.pow(x, p - 1) })
    }
    /// Limits values to [low, high]; the gradient is zero where the value was clipped.
    public func clamped(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        unary("clamp", { Swift.min(Swift.max($0, low), high) }, { x, _ in x >= low && x <= high ? 1 : 0 })
    }

    public func relu() -> Tensor { unary("relu", { Swift.max($0, 0) }, { x, _ in x > 0 ? 1 : 0 }) }
    /// max(x, slope·x): the discriminator's LeakyReLU(0.2).
    public func leakyRelu(_ slope: Float = 0.2) -> Tensor {
        unary("leaky_relu", { $0 > 0 ? $0 : slope * $0 }, { x, _ in x > 0 ? 1 : slope })
    }
    public func sigmoid() -> Tensor { unarySIMD("sigmoid", sigmoidSIMD, { _, y in y * (1 - y) }) }
    public func tanh() -> Tensor { unary("tanh", { Foundation.tanh($0) }, { _, y in 1 - y * y }) }
    /// Swish / SiLU, x·σ(x): the VQGAN's nonlinearity.
    public func silu() -> Tensor {
        unarySIMD("silu", { $0 * sigmoidSIMD($0) }, { x, _ in
            let s = sigmoidSIMD(x)
            return s * (1 + x * (1 - s))
        })
    }
    /// GELU with the exact erf form, x·Φ(x), as torch.nn.GELU() and minGPT use.
    public func gelu() -> Tensor {
        unary("gelu", { x in
            let z = x * 0.707_106_78
            return 0.5 * x * (1 + fastErf(z, expMinusSquare: fastExp(-z * z)))
        }, { x, _ in
            let z = x * 0.707_106_78, e = fastExp(-z * z)
            return 0.5 * (1 + fastErf(z, expMinusSquare: e)) + x * 0.398_942_28 * e
        })
    }
}

@inline(__always)
func sigmoidScalar(_ x: Float) -> Float {
    x >= 0 ? 1 / (1 + exp(-x)) : { let e = exp(x); return e / (1 + e) }()
}
