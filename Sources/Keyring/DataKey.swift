import Crypto
import Foundation

/// A 256-bit AES key of one version. Lives only in memory, unwrapped; stored only wrapped.
public struct DataKey: Sendable {
    public let version: KeyVersion
    let key: SymmetricKey

    public init(version: KeyVersion, key: SymmetricKey) {
        precondition(key.bitCount == 256, "data keys are 256-bit")
        self.version = version
        self.key = key
    }

    /// A fresh key from the system CSPRNG.
    public static func generate(version: KeyVersion) -> DataKey {
        DataKey(version: version, key: SymmetricKey(size: .bits256))
    }

    var rawBytes: Data { key.withUnsafeBytes { Data($0) } }
}

/// What one realm (a clinic, or the identity realm for staff sign-in data) needs in memory
/// to seal, open and search: its data keys by version and its blind-index key.
///
/// Built once per realm and cached by the server, so a request never unwraps a key.
///
/// While a re-encryption moves a realm to a new version, rows sealed under the old version still
/// carry blind indexes of the old index key: a search looks under every live index key
/// (`blindIndexes`), a write uses only the current one (`blindIndex`).
public struct RealmKeys: Sendable {
    public let realm: UUID
    public let current: DataKey
    private let byVersion: [KeyVersion: DataKey]
    /// The current blind-index key.
    public let indexKey: BlindIndexKey
    /// Index keys of earlier versions not yet retired, newest first.
    public let olderIndexKeys: [BlindIndexKey]

    public init(realm: UUID, dataKeys: [DataKey], current: KeyVersion, indexKey: BlindIndexKey,
                olderIndexKeys: [BlindIndexKey] = []) throws(KeyringError) {
        var byVersion: [KeyVersion: DataKey] = [:]
        for key in dataKeys { byVersion[key.version] = key }
        guard let currentKey = byVersion[current] else { throw .unknownKeyVersion(current.rawValue) }
        self.realm = realm
        self.current = currentKey
        self.byVersion = byVersion
        self.indexKey = indexKey
        self.olderIndexKeys = olderIndexKeys.filter { $0.version != indexKey.version }.sorted { $0.version > $1.version }
    }

    public var versions: [KeyVersion] { byVersion.keys.sorted() }

    /// The data key of `version`, when this realm still holds it.
    public func dataKey(_ version: KeyVersion) -> DataKey? { byVersion[version] }

    public func seal(_ plaintext: String, table: String, column: String, row: UUID) throws -> SealedField {
        try SealedField.seal(Data(plaintext.utf8), with: current, context: SealContext(realm: realm, table: table, column: column, row: row))
    }

    public func open(_ sealed: SealedField, table: String, column: String, row: UUID) throws(KeyringError) -> String {
        guard let key = byVersion[sealed.keyVersion] else { throw .unknownKeyVersion(sealed.keyVersion.rawValue) }
        let data = try sealed.open(with: key, context: SealContext(realm: realm, table: table, column: column, row: row))
        guard let text = String(validating: data, as: UTF8.self) else { throw .malformed }
        return text
    }

    /// The index a write stores: under the current index key only.
    public func blindIndex(_ normalisedValue: String, kind: BlindIndexKind) -> Data {
        indexKey.index(normalisedValue, kind: kind)
    }

    /// Every index a search must look for: one per live index key, current first.
    public func blindIndexes(_ normalisedValue: String, kind: BlindIndexKind) -> [Data] {
        [indexKey.index(normalisedValue, kind: kind)] + olderIndexKeys.map { $0.index(normalisedValue, kind: kind) }
    }

    /// The value sealed again under the current version with a fresh nonce, or nil when it
    /// already is. The plaintext never leaves this function.
    public func resealed(_ sealed: SealedField, table: String, column: String, row: UUID) throws -> SealedField? {
        guard sealed.keyVersion < current.version else { return nil }
        guard let key = byVersion[sealed.keyVersion] else { throw KeyringError.unknownKeyVersion(sealed.keyVersion.rawValue) }
        let context = SealContext(realm: realm, table: table, column: column, row: row)
        return try SealedField.seal(try sealed.open(with: key, context: context), with: current, context: context)
    }
}
