import Crypto
import Foundation

/// The key provider of the embedded install: a key-encryption key in a file outside the
/// database, readable only by its owner (mode 0600).
///
/// File format (JSON): `{"format": 1, "keyId": "kek-…", "key": "<base64 of 32 bytes>"}`.
/// Wrapped keys are AES-256-GCM: nonce (12) || ciphertext || tag (16), with the
/// `WrapContext` as associated data.
public struct KeyFileProvider: KeyProvider {
    public let currentKeyID: String
    private let key: SymmetricKey

    private struct FileContents: Codable {
        var format: Int
        var keyId: String
        var key: String
    }

    init(keyID: String, key: SymmetricKey) {
        self.currentKeyID = keyID
        self.key = key
    }

    /// Opens the key file at `path`, creating it (0600) when it does not exist yet.
    /// Returns whether it was created, so the caller can tell the operator.
    public static func openOrCreate(at path: String) throws -> (provider: KeyFileProvider, created: Bool) {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            return (try load(from: path), false)
        }
        let key = SymmetricKey(size: .bits256)
        let keyID = "kek-" + Data(SymmetricKey(size: SymmetricKeySize(bitCount: 64)).withUnsafeBytes { Data($0) }).map { String(format: "%02x", $0) }.joined()
        let contents = FileContents(format: 1, keyId: keyID, key: key.withUnsafeBytes { Data($0) }.base64EncodedString())
        let data = try JSONEncoder().encode(contents)
        // Created with 0600 from the start: the key is never readable by others, not even briefly.
        guard manager.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw KeyringError.keyFile("could not create the key file")
        }
        return (KeyFileProvider(keyID: keyID, key: key), true)
    }

    public static func load(from path: String) throws -> KeyFileProvider {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let mode = attributes[.posixPermissions] as? NSNumber, mode.intValue & 0o077 != 0 {
            throw KeyringError.keyFile("the key file is readable by other users; run chmod 600 on it")
        }
        guard let data = FileManager.default.contents(atPath: path),
              let contents = try? JSONDecoder().decode(FileContents.self, from: data),
              contents.format == 1,
              let keyBytes = Data(base64Encoded: contents.key), keyBytes.count == 32
        else { throw KeyringError.keyFile("the key file is not a ClinicKeep key file") }
        return KeyFileProvider(keyID: contents.keyId, key: SymmetricKey(data: keyBytes))
    }

    public func wrap(_ keyBytes: Data, context: WrapContext) async throws -> Data {
        try KeyWrapping.wrap(keyBytes, with: key, context: context)
    }

    public func unwrap(_ wrapped: Data, keyID: String, context: WrapContext) async throws -> Data {
        guard keyID == currentKeyID else { throw KeyringError.unknownKeyEncryptionKey(keyID) }
        return try KeyWrapping.unwrap(wrapped, with: key, context: context)
    }
}
