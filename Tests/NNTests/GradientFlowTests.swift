import Testing
import Tensors
import TestSupport
@testable import NN

/// The ops' gradients are checked in TensorsTests; here we check that layers wire their own
/// parameters into the graph: after `backward()` every parameter has a gradient, and sampled
/// entries match central differences of the loss with respect to that parameter.
extension NNSuite {
    @Suite("Gradient flow")
    struct GradientFlowTests {
        @Test("every layer's parameters receive the finite-difference gradient")
        func parametersGetGradients() throws {
            var rng = RandomGenerator(seed: 77)
            final class Net: Module {
                let conv: Conv2d, norm: GroupNorm, bn: BatchNorm2d, fc: Linear, ln: LayerNorm, emb: Embedding
                init(rng: inout RandomGenerator) {
                    conv = Conv2d(inChannels: 2, outChannels: 4, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
                    norm = GroupNorm(groups: 2, channels: 4)
                    bn = BatchNorm2d(4)
                    fc = Linear(inFeatures: 16, outFeatures: 3, rng: &rng)
                    ln = LayerNorm(3)
                    emb = Embedding(count: 5, dimension: 3, rng: &rng)
                    super.init()
                }
                func loss(_ x: Tensor, projection: Tensor) -> Tensor {
                    let h = bn(norm(conv(x)).silu())                          // [2, 4, 2, 2]
                    let y = ln(fc(h.reshaped([2, 16]))) + emb([1, 3])       // [2, 3]
                    return (y * projection).sum()
                }
            }
            let net = Net(rng: &rng)
            net.eval()   // batch norm with fixed statistics, so the loss is a plain function
            net.bn.running_mean.copy(from: Tensor(shape: [4], [0.1, -0.2, 0.3, 0]))
            net.bn.running_var.copy(from: Tensor(shape: [4], [1.5, 0.5, 2, 1]))
            for p in [net.norm.weight!, net.norm.bias!, net.bn.weight!, net.bn.bias!, net.ln.weight!, net.ln.bias!] {
                p.copy(from: Tensor.uniform(p.shape, low: 0.5, high: 1.5, rng: &rng))
            }
            let x = seededNormal([2, 2, 4, 4], seed: 1), r = seededNormal([2, 3], seed: 2)
            net.loss(x, projection: r).backward()
            for (name, p) in net.namedParameters() {
                let grad = try #require(p.grad, "\(name) has no gradient")
                for i in Set([0, p.count / 2, p.count - 1]) {
                    let original = p.storage.pointer[i], h: Float = 1e-2
                    p.storage.pointer[i] = original + h
                    let plus = Double(withNoGrad { net.loss(x, projection: r).item })
                    p.storage.pointer[i] = original - h
                    let minus = Double(withNoGrad { net.loss(x, projection: r).item })
                    p.storage.pointer[i] = original
                    let numeric = (plus - minus) / Double(2 * h)
                    expectClose(Double(grad.scalars[i]), numeric, rtol: 2e-2, atol: 2e-3, Comment(rawValue: "\(name)[\(i)]"))
                }
            }
        }
    }
}
