import Foundation
import Testing
import Tensors
import TestSupport

/// The graph machinery: accumulation, targeted gradients, detach, no-grad scopes.
extension TensorsSuite {
    @Suite("Autodiff")
    struct AutodiffTests {
        @Test("backward() twice adds the gradients; setting grad to nil starts over")
        func accumulation() {
            let x = Tensor(shape: [3], [1, 2, 3], requiresGrad: true)
            (x * x).sum().backward()            // 2x
            #expect(x.grad?.scalars == [2, 4, 6])
            (x * 3).sum().backward()            // + 3
            #expect(x.grad?.scalars == [5, 7, 9])
            x.grad = nil
            x.sum().backward()
            #expect(x.grad?.scalars == [1, 1, 1])
        }

        @Test("backward() through the same graph twice adds again; the graph's buffers stay intact")
        func repeatedBackward() {
            let x = Tensor(shape: [2], [1, 2], requiresGrad: true)
            let loss = ((x + 0) * Tensor(shape: [2], [3, 5])).sum()
            loss.backward()
            #expect(x.grad?.scalars == [3, 5])
            x.grad!.withUnsafeMutableBufferPointer { $0[0] = 100 } // an optimizer touching grad in place
            loss.backward()
            #expect(x.grad?.scalars == [103, 10])
        }

        @Test("a leaf reached by two paths (a diamond) sums both contributions")
        func diamond() {
            let x = Tensor(shape: [2], [0.5, -1], requiresGrad: true)
            let a = x.exp(), b = x * 2
            (a * b).sum().backward()
            // d/dx [e^x · 2x] = 2e^x (1 + x)
            expectClose(x.grad!, x.scalars.map { 2 * Foundation.exp($0) * (1 + $0) }, rtol: 1e-6)
        }

        @Test("gradients(with:) returns exactly the requested gradients and leaves grad alone")
        func targetedGradients() {
            let a = Tensor(shape: [2], [1, 2], requiresGrad: true)
            let b = Tensor(shape: [2], [3, 4], requiresGrad: true)
            let unrelated = Tensor(shape: [3], [1, 1, 1], requiresGrad: true)
            let hidden = a * b                     // an intermediate tensor
            let loss = (hidden * hidden).sum()     // Σ (ab)²
            let g = loss.gradients(with: [b, hidden, unrelated])
            #expect(g.count == 3)
            #expect(g[0].scalars == [6, 32])                    // 2ab·a
            #expect(g[1].scalars == [6, 16])                    // 2·hidden
            #expect(g[2].shape == [3] && g[2].scalars == [0, 0, 0])
            #expect(a.grad == nil && b.grad == nil && unrelated.grad == nil)
            // A later backward() still works and sees no trace of the targeted pass.
            loss.backward()
            #expect(a.grad?.scalars == [18, 64])               // 2ab·b
            #expect(b.grad?.scalars == [6, 32])
        }

        @Test("gradients(with:) of a loss that needs no gradient gives zeros")
        func gradientsOfConstant() {
            let x = Tensor(shape: [2], [1, 2])
            let g = (x * 2).sum().gradients(with: [x])
            #expect(g[0].scalars == [0, 0])
        }

        @Test("detached() stops the gradient: the VQ straight-through estimator")
        func straightThrough() {
            let z = seededNormal([2, 3], seed: 1), zq = seededNormal([2, 3], seed: 2)
            z.requiresGrad = true; zq.requiresGrad = true
            // z + sg(zq − z): the value of zq, the gradient of z.
            let st = z + (zq - z).detached()
            expectClose(st, zq, rtol: 1e-6, atol: 1e-6)
            let r = seededNormal([2, 3], seed: 3)
            let g = (st * r).sum().gradients(with: [z, zq])
            #expect(g[0].scalars == r.scalars)                        // d/dz = 1 (times R)
            #expect(g[1].scalars == [Float](repeating: 0, count: 6))  // d/dzq = 0
            #expect(!(zq - z).detached().requiresGrad)
        }

        @Test("withNoGrad records nothing, and restores recording afterwards, also after a throw")
        func noGrad() throws {
            let x = Tensor(shape: [2], [1, 2], requiresGrad: true)
            let y = withNoGrad { (x * 3).exp().sum() }
            #expect(!y.requiresGrad && y.opName == nil)
            #expect(GradMode.isEnabled)
            struct Boom: Error {}
            #expect(throws: Boom.self) { try withNoGrad { throw Boom() } }
            #expect(GradMode.isEnabled)
            let nested = withNoGrad { withNoGrad { x * 2 } + x }
            #expect(!nested.requiresGrad)
            let z = x * 2
            #expect(z.requiresGrad && z.opName == "mul_scalar")
        }

        @Test("ops on tensors that need no gradient record nothing")
        func constantsRecordNothing() {
            let a = Tensor(shape: [2], [1, 2]), b = Tensor(shape: [2], [3, 4])
            let c = (a * b).exp().sum()
            #expect(!c.requiresGrad && c.opName == nil)
        }

        @Test("a no-grad scope on another thread does not switch recording off on this one")
        func noGradIsPerThread() {
            // Regression (fixed in 234a99c): grad mode was one process-wide flag, and backward()
            // itself runs inside withNoGrad, so another thread's scope stopped this one recording.
            let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            let other = Thread {
                withNoGrad { entered.signal(); release.wait() }
                finished.signal()
            }
            other.start()
            entered.wait()
            let x = Tensor(shape: [2], [1, 2], requiresGrad: true)
            let y = x * 2
            release.signal()
            finished.wait()
            #expect(y.requiresGrad, "an op on a requiresGrad tensor was not recorded while another thread was in withNoGrad")
        }
    }
}
