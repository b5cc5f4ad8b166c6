import Foundation

/// Writes files so that a reader sees the old version or the new one, never half of either.
///
/// The new bytes go to `<file>.tmp` beside the target, are flushed to disk, and only then
/// renamed over the target; `rename` replaces a file in one step. A run killed mid-write leaves
/// the previous file intact and at worst a stale `.tmp`, which the next write replaces.
public enum AtomicFile {
    /// The temporary file a write to `url` goes through.
    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(url.lastPathComponent + ".tmp")
    }

    /// Writes `data` to `url` atomically, creating the parent folder.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { temporary in try data.write(to: temporary) }
    }

    /// Lets `writeFile` write the temporary file, then moves it into place. If `writeFile` throws,
    /// the target is untouched and the temporary file is removed.
    public static func write(to url: URL, _ writeFile: (URL) throws -> Void) throws {
        let folder = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw WorkbookError("cannot create folder \(folder.path): \(error.localizedDescription)")
        }
        let temporary = temporaryURL(for: url)
        try? FileManager.default.removeItem(at: temporary)
        do {
            try writeFile(temporary)
            try flushToDisk(temporary)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw WorkbookError("cannot move \(temporary.path) to \(url.path): \(reason)")
        }
    }

    private static func flushToDisk(_ url: URL) throws {
        guard let handle = try? FileHandle(forUpdating: url) else {
            throw WorkbookError("cannot reopen \(url.path) to flush it: was it written?")
        }
        defer { try? handle.close() }
        try handle.synchronize()
    }
}
