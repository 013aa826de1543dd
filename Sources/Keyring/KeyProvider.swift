import Crypto
import Foundation

/// What a wrapped key is for, bound into the wrapping so a wrapped key cannot be moved to
/// another realm, purpose or version.
public struct WrapContext: Sendable, Hashable {
    public enum Purpose: String, Sendable {
        case data, index
        /// The installation's Ed25519 key that signs audit checkpoints.
        case signing
        /// A realm's root key, which wraps that realm's data and index keys (`RealmRootKey`).
        case root
    }
    public let realm: UUID
    public let purpose: Purpose
    public let version: KeyVersion

    public init(realm: UUID, purpose: Purpose, version: KeyVersion) {
        self.realm = realm
        self.purpose = purpose
        self.version = version
    }

    var encoded: Data {
        var bytes = Data("clinickeep.wrap".utf8)
        bytes.append(realm.bytes)
        bytes.appendLengthPrefixed(Data(purpose.rawValue.utf8))
        bytes.appendUInt32(version.rawValue)
        return bytes
    }
}

/// Holds the key-encryption key and wraps and unwraps data keys with it. The key-encryption
/// key itself never leaves the provider: not into the database, a log, or the environment.
public protocol KeyProvider: Sendable {
    /// Names the key-encryption key new wraps use; stored beside each wrapped key.
    var currentKeyID: String { get }
    func wrap(_ keyBytes: Data, context: WrapContext) async throws -> Data
    func unwrap(_ wrapped: Data, keyID: String, context: WrapContext) async throws -> Data
}

extension KeyProvider {
    public func wrap(_ key: DataKey, realm: UUID) async throws -> Data {
        try await wrap(key.rawBytes, context: WrapContext(realm: realm, purpose: .data, version: key.version))
    }

    public func wrap(_ key: BlindIndexKey, realm: UUID) async throws -> Data {
        try await wrap(key.rawBytes, context: WrapContext(realm: realm, purpose: .index, version: key.version))
    }

    public func unwrapDataKey(_ wrapped: Data, keyID: String, realm: UUID, version: KeyVersion) async throws -> DataKey {
        let bytes = try await unwrap(wrapped, keyID: keyID, context: WrapContext(realm: realm, purpose: .data, version: version))
        guard bytes.count == 32 else { throw KeyringError.malformed }
        return DataKey(version: version, key: SymmetricKey(data: bytes))
    }

    public func unwrapIndexKey(_ wrapped: Data, keyID: String, realm: UUID, version: KeyVersion) async throws -> BlindIndexKey {
        let bytes = try await unwrap(wrapped, keyID: keyID, context: WrapContext(realm: realm, purpose: .index, version: version))
        guard bytes.count == 32 else { throw KeyringError.malformed }
        return BlindIndexKey(version: version, key: SymmetricKey(data: bytes))
    }
}
