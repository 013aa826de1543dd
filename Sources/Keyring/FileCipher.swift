import Crypto
import Foundation

/// Files (consent scans, attachments) encrypted as a stream of chunks, so neither writing nor
/// reading one ever holds the whole file in memory.
///
///     header   "CKF1" | chunk size (4, big-endian) | file version id (16)
///     chunk i  nonce (12) | ciphertext | tag (16)
///
/// Every chunk is sealed with AES-256-GCM under the file's own key, with the header, the chunk's
/// index (8, big-endian) and a final-chunk flag (1) as associated data: a chunk moved to another
/// place or file, chunks reordered, or a file cut short at a chunk boundary (its last chunk was
/// not sealed as final) all fail to open. Each chunk but the last holds exactly `chunkSize`
/// plaintext bytes, so a reader knows where each ends. The file key is stored sealed with the
/// clinic's data key (a `SealedField` bound to the file version's row), so a key rotation
/// re-seals the small file key, never the file.
public enum FileCipher {
    public static let chunkSize = 64 * 1024
    static let magic = Array("CKF1".utf8)
    public static let headerSize = 4 + 4 + 16
    public static let overhead = 12 + 16

    /// Bytes of one stored chunk that holds `plaintext` bytes.
    public static var storedChunkSize: Int { chunkSize + overhead }

    public static func header(for version: UUID) -> Data {
        var bytes = Data(magic)
        bytes.appendUInt32(UInt32(chunkSize))
        version.append(to: &bytes)
        return bytes
    }

    static func associatedData(header: Data, index: UInt64, isFinal: Bool) -> Data {
        var bytes = header
        Swift.withUnsafeBytes(of: index.bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(isFinal ? 1 : 0)
        return bytes
    }
}

/// Seals one file's chunks in order. Call `seal` with each `FileCipher.chunkSize` of plaintext and
/// once with `isFinal: true` for the rest (possibly empty).
public struct FileSealer: Sendable {
    private let key: SymmetricKey
    public let header: Data
    private var index: UInt64 = 0
    private var finished = false

    public init(fileKey: SymmetricKey, version: UUID) {
        precondition(fileKey.bitCount == 256, "file keys are 256-bit")
        key = fileKey
        header = FileCipher.header(for: version)
    }

    public mutating func seal(_ plaintext: Data, isFinal: Bool) throws -> Data {
        guard !finished else { throw KeyringError.malformed }
        guard isFinal ? plaintext.count <= FileCipher.chunkSize : plaintext.count == FileCipher.chunkSize else { throw KeyringError.malformed }
        let box = try AES.GCM.seal(plaintext, using: key, nonce: AES.GCM.Nonce(),
                                   authenticating: FileCipher.associatedData(header: header, index: index, isFinal: isFinal))
        guard let combined = box.combined else { throw KeyringError.malformed }
        index += 1
        finished = isFinal
        return combined
    }
}

/// Opens one file's chunks in order; `isFinal` is true for the chunk that ends the stored bytes.
public struct FileOpener: Sendable {
    private let key: SymmetricKey
    private let header: Data
    private var index: UInt64 = 0
    private var finished = false

    /// Checks the stored header against the version it is read as.
    public init(fileKey: SymmetricKey, version: UUID, storedHeader: Data) throws(KeyringError) {
        let expected = FileCipher.header(for: version)
        guard storedHeader == expected else { throw .authenticationFailed }
        key = fileKey
        header = expected
    }

    public mutating func open(_ chunk: Data, isFinal: Bool) throws(KeyringError) -> Data {
        guard !finished else { throw .malformed }
        do {
            let plaintext = try AES.GCM.open(AES.GCM.SealedBox(combined: chunk), using: key,
                                             authenticating: FileCipher.associatedData(header: header, index: index, isFinal: isFinal))
            index += 1
            finished = isFinal
            return plaintext
        } catch {
            throw .authenticationFailed
        }
    }

    /// True once the final chunk has opened: a stream that ends before is cut short.
    public var isComplete: Bool { finished }
}
