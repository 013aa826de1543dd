import _NIOFileSystem
import ClinicDomain
import Crypto
import Foundation
import Keyring
import NIOCore

/// Where files' sealed bytes live: `<root>/<clinic>/<version>.ckf`, one file per version, written
/// once. Bytes stream through in `FileCipher` chunks both ways, so an upload or download holds
/// one chunk or two in memory whatever the file's size.
struct FileFolder: Sendable {
    let root: String

    func path(clinic: UUID, version: UUID) -> String {
        "\(root)/\(clinic.uuidString.lowercased())/\(version.uuidString.lowercased()).ckf"
    }

    func clinicFolder(_ clinic: UUID) -> String { "\(root)/\(clinic.uuidString.lowercased())" }

    /// What was learned of a file while it was written.
    struct Written: Sendable {
        let size: Int64
        let kind: FileKind
        /// SHA-256 of the plaintext, lowercase hex.
        let sha256: String
    }

    /// Seals `body` into the version's file. The file appears under its name only once every
    /// chunk is written and synchronised; a failure (too large, a refused kind, a dropped
    /// connection) leaves nothing behind.
    func write<Body: AsyncSequence & Sendable>(_ body: Body, clinic: UUID, version: UUID, key: SymmetricKey,
                                               limit: Int64) async throws -> Written where Body.Element == ByteBuffer {
        try await FileSystem.shared.createDirectory(at: FilePath(clinicFolder(clinic)), withIntermediateDirectories: true,
                                                    permissions: [.ownerReadWriteExecute])
        let handle = try await FileSystem.shared.openFile(
            forWritingAt: FilePath(path(clinic: clinic, version: version)),
            options: .newFile(replaceExisting: false, permissions: [.ownerRead, .ownerWrite]))
        do {
            var sealer = FileSealer(fileKey: key, version: version)
            var hasher = SHA256()
            var offset = try await handle.write(contentsOf: sealer.header, toAbsoluteOffset: 0)
            var pending = ByteBuffer()
            var size: Int64 = 0
            var kind: FileKind?

            func sealChunk(_ plaintext: Data, isFinal: Bool) async throws {
                if kind == nil {
                    guard let sniffed = FileKind.sniff(plaintext, isWhole: isFinal) else { throw FileRefusal.unsupportedKind }
                    kind = sniffed
                }
                hasher.update(data: plaintext)
                let sealed = try sealer.seal(plaintext, isFinal: isFinal)
                offset += try await handle.write(contentsOf: sealed, toAbsoluteOffset: offset)
            }

            for try await var part in body {
                size += Int64(part.readableBytes)
                guard size <= limit else { throw FileRefusal.tooLarge(limit) }
                pending.writeBuffer(&part)
                // Sealed as not final only while more bytes follow: the last chunk is known at the end.
                while pending.readableBytes > FileCipher.chunkSize {
                    try await sealChunk(pending.readData(length: FileCipher.chunkSize)!, isFinal: false)
                }
                pending.discardReadBytes()
            }
            guard size > 0 else { throw FileRefusal.empty }
            try await sealChunk(pending.readData(length: pending.readableBytes) ?? Data(), isFinal: true)
            try await handle.synchronize()
            try await handle.close(makeChangesVisible: true)
            return Written(size: size, kind: kind!, sha256: hasher.finalize().map { String(format: "%02x", $0) }.joined())
        } catch {
            try? await handle.close(makeChangesVisible: false)
            throw error
        }
    }

    /// Opens the version's file chunk by chunk, handing each chunk's plaintext to `deliver` in
    /// order. The stored length must be exactly what `size` plaintext bytes seal to, and every
    /// chunk must open in its place: a file cut short, grown, reordered or taken from another
    /// version throws before the chunk that shows it is delivered.
    func read(clinic: UUID, version: UUID, key: SymmetricKey, size: Int64,
              deliver: (ByteBuffer) async throws -> Void) async throws {
        let chunkSize = Int64(FileCipher.chunkSize)
        let chunks = max(1, (size + chunkSize - 1) / chunkSize)
        let lastPlaintext = size - (chunks - 1) * chunkSize
        let headerSize = Int64(FileCipher.headerSize), stored = Int64(FileCipher.storedChunkSize)
        try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path(clinic: clinic, version: version))) { handle in
            let info = try await handle.info()
            guard info.size == headerSize + (chunks - 1) * stored + lastPlaintext + Int64(FileCipher.overhead) else {
                throw KeyringError.authenticationFailed
            }
            let header = try await handle.readChunk(fromAbsoluteOffset: 0, length: .bytes(headerSize))
            var opener = try FileOpener(fileKey: key, version: version, storedHeader: Data(buffer: header))
            for index in 0..<chunks {
                let isFinal = index == chunks - 1
                let length = isFinal ? lastPlaintext + Int64(FileCipher.overhead) : stored
                let chunk = try await handle.readChunk(fromAbsoluteOffset: headerSize + index * stored, length: .bytes(length))
                guard chunk.readableBytes == Int(length) else { throw KeyringError.authenticationFailed }
                try await deliver(ByteBuffer(data: try opener.open(Data(buffer: chunk), isFinal: isFinal)))
            }
        }
    }

    /// Removes a deleted clinic's files: their keys are already gone, this only frees the space.
    func removeClinic(_ clinic: UUID) async throws {
        _ = try await FileSystem.shared.removeItem(at: FilePath(clinicFolder(clinic)), strategy: .platformDefault, recursively: true)
    }
}

/// Why an upload was refused, each a clear answer to whoever sent it.
enum FileRefusal: Error {
    case tooLarge(Int64)
    case empty
    case unsupportedKind

    var clinicError: ClinicError {
        switch self {
        case let .tooLarge(limit):
            return ClinicError(status: 413, code: "file_too_large", message: "A file may be at most \(limit / (1024 * 1024)) MiB.")
        case .empty:
            return ClinicError(status: 400, code: "empty_file", message: "The file is empty.")
        case .unsupportedKind:
            return ClinicError(status: 415, code: "unsupported_file_kind",
                               message: "Only PDF, PNG, JPEG, GIF, TIFF, WebP and plain text files are kept.")
        }
    }
}
