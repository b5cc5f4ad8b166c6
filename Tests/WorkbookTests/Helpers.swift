import Foundation
import NN
import Tensors
@testable import Workbook

/// Collects what a console would print, per stream.
final class Capture: @unchecked Sendable {
    private let lock = NSLock()
    private var outText = "", errorText = ""

    var output: String { lock.lock(); defer { lock.unlock() }; return outText }
    var error: String { lock.lock(); defer { lock.unlock() }; return errorText }

    func console(isTerminal: Bool = false) -> Console {
        Console(isTerminal: isTerminal, columns: 100) { [self] stream, text in
            lock.lock(); defer { lock.unlock() }
            if stream == .output { outText += text } else { errorText += text }
        }
    }
}

/// A clock the test moves by hand.
final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var time = 1000.0

    var clock: Clock { Clock { [self] in lock.lock(); defer { lock.unlock() }; return time } }

    func advance(_ seconds: Double) { lock.lock(); time += seconds; lock.unlock() }
}

/// A fresh, empty folder under the system's temporary folder.
func temporaryFolder(_ function: String = #function) throws -> URL {
    let name = "workbook-tests-\(function.filter(\.isLetter))-\(UUID().uuidString.prefix(8))"
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A tiny model: one weight matrix and one bias, both parameters.
final class TinyModel: Module {
    let weight: Tensor  // [size, 2]
    let bias: Tensor  // [size]

    init(value: Float, size: Int = 3) {
        weight = Tensor(shape: [size, 2], repeating: value, requiresGrad: true)
        bias = Tensor(shape: [size], repeating: -value, requiresGrad: true)
        super.init()
    }

    /// "Training": adds `amount` to every weight, in place.
    func bump(by amount: Float = 1) {
        weight.withUnsafeMutableBufferPointer { values in
            for i in values.indices { values[i] += amount }
        }
    }
}
