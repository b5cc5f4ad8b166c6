import Foundation
import Tensors

extension Module {
    /// Writes this module's state dict (parameters and buffers) to a safetensors file, atomically.
    public func saveSafeTensors(to url: URL, metadata: [String: String] = [:]) throws {
        try SafeTensors.write(stateDict(), metadata: metadata, to: url)
    }

    /// Loads this module's state dict from a safetensors file by name (see `loadStateDict`), and
    /// returns the file's metadata. Errors name the file and list every missing, unexpected or
    /// wrongly shaped tensor; nothing is changed unless everything fits.
    @discardableResult
    public func loadSafeTensors(from url: URL, strict: Bool = true) throws -> [String: String] {
        let file = try SafeTensors.read(from: url)
        do {
            try loadStateDict(file.dictionary, strict: strict)
        } catch let error as StateDictError {
            throw SafeTensorsError(file: url.path, problem: "does not fit: \(error)")
        }
        return file.metadata
    }
}
