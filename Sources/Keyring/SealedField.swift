import Crypto
import Foundation

/// One sealed value as it is stored: a self-describing blob.
///
///     byte 0        format version (1)
///     bytes 1-4     key version, big-endian
///     bytes 5-16    96-bit random nonce
///     bytes 17-n-16 ciphertext
///     last 16       GCM tag
///
/// The 5-byte header is part of the associated data, so the version cannot be swapped.
public struct SealedField: Sendable, Hashable {
    public static let formatVersion: UInt8 = 1
    static let headerSize = 5
    static let nonceSize = 12
    static let tagSize = 16
    static let minimumSize = headerSize + nonceSize + tagSize

    public let bytes: Data

    /// Parses stored bytes; refuses anything that is not a complete version-1 blob.
    public init(bytes: Data) throws(KeyringError) {
        guard bytes.count >= Self.minimumSize else { throw .malformed }
        guard bytes[bytes.startIndex] == Self.formatVersion else { throw .unsupportedFormat(bytes[bytes.startIndex]) }
        self.bytes = Data(bytes)
    }

    public var keyVersion: KeyVersion { KeyVersion(rawValue: bytes.readUInt32(at: 1)) }

    static func seal(_ plaintext: Data, with key: DataKey, context: SealContext) throws -> SealedField {
        var header = Data([formatVersion])
        header.appendUInt32(key.version.rawValue)
        let box = try AES.GCM.seal(plaintext, using: key.key, nonce: AES.GCM.Nonce(), authenticating: context.associatedData(after: header))
        // nonce, ciphertext and tag follow the header in exactly swift-crypto's combined layout.
        guard let combined = box.combined else { throw KeyringError.malformed }
        var blob = header
        blob.append(combined)
        return try SealedField(bytes: blob)
    }

    func open(with key: DataKey, context: SealContext) throws(KeyringError) -> Data {
        let start = bytes.startIndex
        let header = bytes[start..<start + Self.headerSize]
        do {
            let box = try AES.GCM.SealedBox(combined: bytes[(start + Self.headerSize)...])
            return try AES.GCM.open(box, using: key.key, authenticating: context.associatedData(after: header))
        } catch {
            throw .authenticationFailed
        }
    }
}
