import Foundation

/// A safetensors file that cannot be read or written, naming the file and what is wrong with it.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file's path (or a label for bytes in memory).
    public var file: String
    public var problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "safetensors file \(file): \(problem)" }
}

extension SafeTensorsError: LocalizedError {
    public var errorDescription: String? { description }
}
