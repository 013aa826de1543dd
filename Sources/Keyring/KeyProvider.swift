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

/// A wrapped key and the name of the key that wrapped it, stored together: the name comes
/// from the same call as the bytes, so a key-encryption key changing meanwhile cannot mislabel them.
public struct WrappedKey: Sendable {
    public let bytes: Data
    public let keyID: String

    public init(bytes: Data, keyID: String) {
        self.bytes = bytes
        self.keyID = keyID
    }
}

/// Holds the key-encryption key and wraps and unwraps data keys with it. The key-encryption
/// key itself never leaves the provider: not into the database, a log, or the environment.
public protocol KeyProvider: Sendable {
    /// Names the key-encryption key new wraps use now.
    var currentKeyID: String { get }
    func wrap(_ keyBytes: Data, context: WrapContext) async throws -> WrappedKey
    func unwrap(_ wrapped: Data, keyID: String, context: WrapContext) async throws -> Data
    /// A new 256-bit key and its wrapping (KMS: GenerateDataKey; otherwise the system CSPRNG, then `wrap`).
    func generateKey(context: WrapContext) async throws -> (key: SymmetricKey, wrapped: WrappedKey)
}

extension KeyProvider {
    public func generateKey(context: WrapContext) async throws -> (key: SymmetricKey, wrapped: WrappedKey) {
        let key = SymmetricKey(size: .bits256)
        return (key, try await wrap(key.withUnsafeBytes { Data($0) }, context: context))
    }

    public func wrap(_ key: DataKey, realm: UUID) async throws -> WrappedKey {
        try await wrap(key.rawBytes, context: WrapContext(realm: realm, purpose: .data, version: key.version))
    }

    public func wrap(_ key: BlindIndexKey, realm: UUID) async throws -> WrappedKey {
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

/// A provider whose key-encryption key can be replaced by `keys rewrap`.
public protocol RewrappableKeyProvider: KeyProvider {
    /// Makes a new key-encryption key the one new wraps use and answers the old ones, which
    /// still unwrap. When an earlier rewrap stopped half-way, its new key stays current and the
    /// same old ones are answered, so a rerun finishes that rewrap rather than starting another.
    func beginRewrap() async throws -> [String]
    /// Retires the old keys once nothing is wrapped by them any more.
    func finishRewrap(retiring: [String]) async throws
}
