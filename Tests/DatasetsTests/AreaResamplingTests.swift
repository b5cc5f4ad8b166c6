import Testing
import Tensors
@testable import Datasets

@Suite("Area resampling")
struct AreaResamplingTests {
    @Test("halving averages 2×2 blocks exactly")
    func halving() {
        // One channel, 4×2: values 0, 10, 20, … 70.
        let source: [UInt8] = (0..<8).map { UInt8($0 * 10) }
        var out = [Float](repeating: 0, count: 2)
        source.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { out in
                AreaResampling.resize(src, channels: 1, width: 4, height: 2,
                                      rect: .init(x: 0, y: 0, width: 4, height: 2),
                                      outWidth: 2, outHeight: 1, flip: false, into: out)
            }
        }
        // Means 25 and 45, as [-1, 1] values.
        #expect(abs(out[0] - (25 / 127.5 - 1)) < 1e-5)
        #expect(abs(out[1] - (45 / 127.5 - 1)) < 1e-5)
    }

    @Test("a non-integer ratio keeps the mean and weights edges by overlap")
    func fractionalWeights() {
        let w = AreaResampling.weights(start: 0, length: 3, outputs: 2)
        #expect(w[0].first == 0 && w[1].first == 1)
        #expect(w[0].weights.count == 2 && w[1].weights.count == 2)
        #expect(abs(w[0].weights[0] - 2.0 / 3) < 1e-6 && abs(w[0].weights[1] - 1.0 / 3) < 1e-6)
        for entry in w { #expect(abs(entry.weights.reduce(0, +) - 1) < 1e-6) }
        // A constant picture stays constant at any size, including enlarging.
        let flat = [UInt8](repeating: 200, count: 3 * 7 * 5)
        for (ow, oh) in [(3, 2), (7, 5), (11, 9)] {
            var out = [Float](repeating: 0, count: 3 * ow * oh)
            flat.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { out in
                    AreaResampling.resize(src, channels: 3, width: 7, height: 5,
                                          rect: .init(x: 1, y: 1, width: 5, height: 3),
                                          outWidth: ow, outHeight: oh, flip: true, into: out)
                }
            }
            #expect(out.allSatisfy { abs($0 - (200 / 127.5 - 1)) < 1e-5 })
        }
    }

    @Test("flipping mirrors columns")
    func flip() {
        let source: [UInt8] = [0, 100, 200, 250]
        var out = [Float](repeating: 0, count: 4)
        source.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { out in
                AreaResampling.resize(src, channels: 1, width: 4, height: 1, rect: .init(x: 0, y: 0, width: 4, height: 1),
                                      outWidth: 4, outHeight: 1, flip: true, into: out)
            }
        }
        #expect(out.map { quantize($0) } == [250, 200, 100, 0])
    }

    @Test("label maps take the most frequent label, ties to the smaller one")
    func majority() {
        // 4×2 labels → 2×1: block 1 = {1,1,1,3}, block 2 = {2,5,5,2} (tie → 2).
        let labels: [UInt8] = [1, 1, 2, 5,
                               1, 3, 5, 2]
        let out = AreaResampling.majority(labels, width: 4, height: 2, rect: .init(x: 0, y: 0, width: 4, height: 2),
                                          outWidth: 2, outHeight: 1, flip: false)
        #expect(out == [1, 2])
        let flipped = AreaResampling.majority(labels, width: 4, height: 2, rect: .init(x: 0, y: 0, width: 4, height: 2),
                                              outWidth: 2, outHeight: 1, flip: true)
        #expect(flipped == [2, 1])
        // Enlarging repeats the label under each centre.
        let up = AreaResampling.majority([7, 9], width: 2, height: 1, rect: .init(x: 0, y: 0, width: 2, height: 1),
                                         outWidth: 4, outHeight: 1, flip: false)
        #expect(up == [7, 7, 9, 9])
    }
}
