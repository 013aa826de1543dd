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
public struct RealmKeys: Sendable {
    public let realm: UUID
    public let current: DataKey
    private let byVersion: [KeyVersion: DataKey]
    public let indexKey: BlindIndexKey

    public init(realm: UUID, dataKeys: [DataKey], current: KeyVersion, indexKey: BlindIndexKey) throws(KeyringError) {
        var byVersion: [KeyVersion: DataKey] = [:]
        for key in dataKeys { byVersion[key.version] = key }
        guard let currentKey = byVersion[current] else { throw .unknownKeyVersion(current.rawValue) }
        self.realm = realm
        self.current = currentKey
        self.byVersion = byVersion
        self.indexKey = indexKey
    }

    public var versions: [KeyVersion] { byVersion.keys.sorted() }

    public func seal(_ plaintext: String, table: String, column: String, row: UUID) throws -> SealedField {
        try SealedField.seal(Data(plaintext.utf8), with: current, context: SealContext(realm: realm, table: table, column: column, row: row))
    }

    public func open(_ sealed: SealedField, table: String, column: String, row: UUID) throws(KeyringError) -> String {
        guard let key = byVersion[sealed.keyVersion] else { throw .unknownKeyVersion(sealed.keyVersion.rawValue) }
        let data = try sealed.open(with: key, context: SealContext(realm: realm, table: table, column: column, row: row))
        guard let text = String(validating: data, as: UTF8.self) else { throw .malformed }
        return text
    }

    public func blindIndex(_ normalisedValue: String, kind: BlindIndexKind) -> Data {
        indexKey.index(normalisedValue, kind: kind)
    }
}
