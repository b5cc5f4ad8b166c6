import Foundation

/// Writes a file so that readers see the old version or the new one, never half of either: the
/// bytes go to a temporary file in the same folder, which is then renamed over the target (a
/// rename within one file system replaces a file in one step). The parent folder is created.
enum AtomicWrite {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ImagingError.unwritable(path: path, reason: "cannot create folder \(folder.path)")
        }
        // A unique name, so that two writers of the same file never share a temporary file.
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(bytes).write(to: temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw ImagingError.unwritable(path: path, reason: "cannot write a file in \(folder.path)")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw ImagingError.unwritable(path: path, reason: reason)
        }
    }
}
