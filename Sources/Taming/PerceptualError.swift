import Foundation

/// Inputs that a perceptual loss, its feature network or a Fréchet distance cannot use (sizes that
/// do not fit, labels out of range, too few images), with a message saying which and why.
/// Problems with weight files are `SafeTensorsError`s naming the file and the tensor.
public struct PerceptualError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension PerceptualError: LocalizedError {
    public var errorDescription: String? { message }
}
