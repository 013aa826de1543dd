import Crypto
import Foundation

/// A realm's root key: wraps that realm's data and index keys, which the database stores. It is
/// itself kept outside the database, wrapped by the key provider, in the `RealmRootKeyStore`.
///
/// This is what makes deleting a clinic final: destroying its root key leaves its wrapped data
/// keys unopenable, so every sealed value of the clinic is unreadable in the live database and
/// in every copy or backup of it, even to whoever still holds the key-encryption key.
public struct RealmRootKey: KeyProvider {
    /// What `realm_keys.kek_id` says of a key wrapped by its realm's root key.
    public static let keyID = "realm-root"

    public let realm: UUID
    let key: SymmetricKey

    public var currentKeyID: String { Self.keyID }

    public func wrap(_ keyBytes: Data, context: WrapContext) async throws -> WrappedKey {
        guard context.realm == realm else { throw KeyringError.authenticationFailed }
        return WrappedKey(bytes: try KeyWrapping.wrap(keyBytes, with: key, context: context), keyID: Self.keyID)
    }

    public func unwrap(_ wrapped: Data, keyID: String, context: WrapContext) async throws -> Data {
        guard keyID == Self.keyID else { throw KeyringError.unknownKeyEncryptionKey(keyID) }
        guard context.realm == realm else { throw KeyringError.authenticationFailed }
        return try KeyWrapping.unwrap(wrapped, with: key, context: context)
    }
}

/// Each realm's root key in a file of its own, `<realm id>.json` in a directory outside the
/// database (by default `<data dir>/keystore`, mode 0700; files 0600), wrapped by the key
/// provider: `{"format": 1, "realm": "…", "kekId": "…", "wrapped": "<base64>", "createdAtMs": …}`.
///
/// Back it up apart from the database, like the key file. A deleted realm's file is removed;
/// a backup of this directory taken before the deletion still holds it until that backup expires.
public struct RealmRootKeyStore: Sendable {
    public let directory: String

    private struct FileContents: Codable {
        var format: Int
        var realm: UUID
        var kekId: String
        var wrapped: String
        var createdAtMs: Int64
    }

    /// Opens the directory, creating it (0700) when missing.
    public init(directory: String) throws {
        self.directory = directory
        let manager = FileManager.default
        if !manager.fileExists(atPath: directory) {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    func path(_ realm: UUID) -> String { directory + "/" + realm.uuidString.lowercased() + ".json" }

    public func contains(_ realm: UUID) -> Bool { FileManager.default.fileExists(atPath: path(realm)) }

    /// Every realm that has a root key here.
    public func realms() throws -> [UUID] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".json") }
            .compactMap { UUID(uuidString: String($0.dropLast(5))) }
            .sorted { $0.uuidString < $1.uuidString }
    }

    /// A new root key for `realm`, stored (wrapped by `provider`) before it is returned. Refuses
    /// to replace an existing one: that would destroy the realm's keys. When another process
    /// stores one for the realm at the same moment, the file that landed first wins and its key
    /// is answered, so every server of a shared key store uses one root key.
    public func create(for realm: UUID, provider: any KeyProvider) async throws -> RealmRootKey {
        guard !contains(realm) else { throw KeyringError.keyStore("a root key for this realm exists already") }
        let (key, wrapped) = try await provider.generateKey(context: Self.context(realm))
        let contents = FileContents(format: 1, realm: realm, kekId: wrapped.keyID, wrapped: wrapped.bytes.base64EncodedString(),
                                    createdAtMs: Int64(Date().timeIntervalSince1970 * 1000))
        guard try PrivateFile.create(at: path(realm), contents: try JSONEncoder().encode(contents)) else {
            return try await load(realm, provider: provider)
        }
        return RealmRootKey(realm: realm, key: key)
    }

    public func load(_ realm: UUID, provider: any KeyProvider) async throws -> RealmRootKey {
        guard let data = FileManager.default.contents(atPath: path(realm)) else { throw KeyringError.realmKeysDestroyed }
        guard let contents = try? JSONDecoder().decode(FileContents.self, from: data), contents.format == 1, contents.realm == realm,
              let wrapped = Data(base64Encoded: contents.wrapped)
        else { throw KeyringError.keyStore("the root key file of a realm is not a ClinicKeep key store file") }
        let bytes = try await provider.unwrap(wrapped, keyID: contents.kekId, context: Self.context(realm))
        guard bytes.count == 32 else { throw KeyringError.malformed }
        return RealmRootKey(realm: realm, key: SymmetricKey(data: bytes))
    }

    /// Wraps the realm's root key again under `provider`'s current key-encryption key (the same
    /// root key: nothing in the database changes). Answers whether the file changed.
    public func rewrap(_ realm: UUID, provider: any KeyProvider) async throws -> Bool {
        guard let data = FileManager.default.contents(atPath: path(realm)),
              let contents = try? JSONDecoder().decode(FileContents.self, from: data) else { throw KeyringError.realmKeysDestroyed }
        guard contents.kekId != provider.currentKeyID else { return false }
        let root = try await load(realm, provider: provider)
        try await write(realm, key: root.key, provider: provider, createdAt: contents.createdAtMs)
        return true
    }

    /// The key-encryption key that wraps the realm's root key now.
    public func keyEncryptionKeyID(of realm: UUID) throws -> String {
        guard let data = FileManager.default.contents(atPath: path(realm)),
              let contents = try? JSONDecoder().decode(FileContents.self, from: data) else { throw KeyringError.realmKeysDestroyed }
        return contents.kekId
    }

    /// Removes the realm's root key file. Its data keys, wherever a copy of the database lies,
    /// can no longer be unwrapped.
    public func destroy(_ realm: UUID) throws {
        try PrivateFile.remove(at: path(realm))
    }

    static func context(_ realm: UUID) -> WrapContext { WrapContext(realm: realm, purpose: .root, version: .first) }

    private func write(_ realm: UUID, key: SymmetricKey, provider: any KeyProvider, createdAt: Int64) async throws {
        try store(realm, wrapped: try await provider.wrap(key.withUnsafeBytes { Data($0) }, context: Self.context(realm)), createdAt: createdAt)
    }

    private func store(_ realm: UUID, wrapped: WrappedKey, createdAt: Int64) throws {
        let contents = FileContents(format: 1, realm: realm, kekId: wrapped.keyID, wrapped: wrapped.bytes.base64EncodedString(),
                                    createdAtMs: createdAt)
        try PrivateFile.replace(at: path(realm), contents: try JSONEncoder().encode(contents))
    }
}
