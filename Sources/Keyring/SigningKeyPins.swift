import Foundation

/// The public halves of the installation's checkpoint-signing keys, pinned in the key store
/// beside the clinics' root keys, outside the database, the first time each is seen.
///
/// The database holds the signing keys wrapped by the key provider. Whoever can write the
/// database and ask the provider to wrap (the server's own environment, with KMS) could add a
/// version of their choosing, and the highest version signs. A version not pinned here is
/// never used to sign and never trusted to verify; a pinned version whose key changed stops
/// the server.
public struct SigningKeyPins: Sendable {
    public let path: String

    private struct FileContents: Codable {
        var format: Int
        /// Version (decimal) → Ed25519 public key (base64).
        var keys: [String: String]
    }

    public init(directory: String) {
        // Not `.json`: the key store's `*.json` files are the clinics' root keys, one a clinic.
        path = directory + "/audit-signing-keys.pins"
    }

    /// What is pinned; nil before anything is.
    public func read() throws -> [UInt32: Data]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let contents = try? JSONDecoder().decode(FileContents.self, from: Data(contentsOf: URL(fileURLWithPath: path))),
              contents.format == 1 else {
            throw KeyringError.keyStore("\(path) is not a pin file this version reads")
        }
        var pins: [UInt32: Data] = [:]
        for (version, key) in contents.keys {
            guard let number = UInt32(version), let bytes = Data(base64Encoded: key), bytes.count == 32 else {
                throw KeyringError.keyStore("\(path) holds a malformed pin")
            }
            pins[number] = bytes
        }
        return pins
    }

    /// Pins `keys` when nothing is pinned yet (the first start, or the first start of this
    /// version on an existing installation); answers what is pinned afterwards, which is another
    /// server's pins when it wrote them first.
    public func pinIfAbsent(_ keys: [UInt32: Data]) throws -> [UInt32: Data] {
        if let pinned = try read() { return pinned }
        let contents = FileContents(format: 1, keys: Dictionary(uniqueKeysWithValues: keys.map { (String($0.key), $0.value.base64EncodedString()) }))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        _ = try PrivateFile.create(at: path, contents: try encoder.encode(contents))
        return try read() ?? keys
    }
}
