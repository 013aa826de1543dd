import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files only their owner may read (0600), written so a crash leaves the old contents or the
/// new, never a torn file and never a moment readable by others.
enum PrivateFile {
    /// Creates the file with mode 0600 from the start; refuses to replace one.
    static func create(at path: String, contents: Data) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw KeyringError.keyStore("\(path) exists already") }
        try replace(at: path, contents: contents)
    }

    /// Writes a private temporary file beside `path`, flushes it, renames it over `path`, and
    /// flushes the directory.
    static func replace(at path: String, contents: Data) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + "." + UUID().uuidString + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: contents, attributes: [.posixPermissions: 0o600]) else {
            throw KeyringError.keyStore("could not write in \(directory)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.synchronize()
            try handle.close()
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw KeyringError.keyStore("could not write \(path)")
        }
        syncDirectory(directory)
    }

    /// Removes the file and flushes its directory.
    static func remove(at path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return }
        try FileManager.default.removeItem(atPath: path)
        syncDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path)
    }

    static func syncDirectory(_ directory: String) {
        let descriptor = open(directory, O_RDONLY)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        _ = close(descriptor)
    }
}
