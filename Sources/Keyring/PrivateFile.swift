import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files only their owner may read (0600), written so a crash leaves the old contents or the
/// new, never a torn file and never a moment readable by others.
enum PrivateFile {
    /// Creates the file with mode 0600 from the start, whole, only if no file is there: the
    /// complete file is written aside and hard-linked into place, which fails when the name is
    /// taken, even by a process racing this one. False when another file was there first; the
    /// caller then uses that one (two servers starting together agree on one key).
    static func create(at path: String, contents: Data) throws -> Bool {
        let temporary = try writeAside(path, contents: contents)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return false }
            throw KeyringError.keyStore("could not write \(path)")
        }
        syncDirectory(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        return true
    }

    /// Writes a private temporary file beside `path`, flushes it, renames it over `path`, and
    /// flushes the directory.
    static func replace(at path: String, contents: Data) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let temporary = try writeAside(path, contents: contents)
        guard rename(temporary, path) == 0 else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw KeyringError.keyStore("could not write \(path)")
        }
        syncDirectory(directory)
    }

    /// A private (0600), flushed temporary file beside `path` holding `contents`.
    private static func writeAside(_ path: String, contents: Data) throws -> String {
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
        return temporary
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
