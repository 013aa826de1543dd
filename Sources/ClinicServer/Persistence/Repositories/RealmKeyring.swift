import Foundation
import Keyring
import NIOConcurrencyHelpers
import SQLKit

/// The identity realm: the keys and ledger chain of people's sign-in data, which belongs to no clinic.
enum IdentityRealm {
    static let id = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
}

/// Unwrapped realm keys, cached in memory: a realm's keys are unwrapped by the key provider
/// once per process, never per request. Wrapped keys live in `realm_keys`.
final class RealmKeyring: Sendable {
    let provider: any KeyProvider
    private let cache = NIOLockedValueBox<[UUID: RealmKeys]>([:])

    init(provider: any KeyProvider) { self.provider = provider }

    /// The realm's keys, unwrapping them on first use inside the caller's realm-scoped transaction.
    func keys(for realm: UUID, in tx: ScopedSQL) async throws -> RealmKeys {
        if let cached = cache.withLockedValue({ $0[realm] }) { return cached }
        let rows = try await tx.sql.raw("""
            SELECT purpose, version, wrapped_key, kek_id, is_current FROM realm_keys WHERE realm_id = \(bind: realm)
            """).all()
        guard !rows.isEmpty else { throw RealmKeyError.noKeys }
        var dataKeys: [DataKey] = []
        var currentData: KeyVersion?
        var indexKey: BlindIndexKey?
        for row in rows {
            let version = KeyVersion(rawValue: UInt32(try row.decode(column: "version", as: Int64.self)))
            let wrapped = try row.decode(column: "wrapped_key", as: Data.self)
            let kekID = try row.decode(column: "kek_id", as: String.self)
            let isCurrent = try row.decode(column: "is_current", as: Int64.self) == 1
            switch try row.decode(column: "purpose", as: String.self) {
            case WrapContext.Purpose.data.rawValue:
                dataKeys.append(try await provider.unwrapDataKey(wrapped, keyID: kekID, realm: realm, version: version))
                if isCurrent { currentData = version }
            case WrapContext.Purpose.index.rawValue where isCurrent:
                indexKey = try await provider.unwrapIndexKey(wrapped, keyID: kekID, realm: realm, version: version)
            default:
                continue
            }
        }
        guard let currentData, let indexKey else { throw KeyringError.malformed }
        let keys = try RealmKeys(realm: realm, dataKeys: dataKeys, current: currentData, indexKey: indexKey)
        cache.withLockedValue { $0[realm] = keys }
        return keys
    }

    /// Generates version 1 of a new realm's data and index keys and stores them wrapped, in the
    /// caller's transaction. Not cached here: the keys are cached when first read back, so a
    /// transaction that rolls back can never leave the process sealing with keys that were
    /// never stored.
    func create(for realm: UUID, in tx: ScopedSQL) async throws {
        let dataKey = DataKey.generate(version: .first)
        let indexKey = BlindIndexKey.generate(version: .first)
        let now = Date().milliseconds
        for (purpose, wrapped) in [(WrapContext.Purpose.data, try await provider.wrap(dataKey, realm: realm)),
                                   (.index, try await provider.wrap(indexKey, realm: realm))] {
            try await tx.sql.raw("""
                INSERT INTO realm_keys (realm_id, purpose, version, wrapped_key, kek_id, is_current, created_at_ms)
                VALUES (\(bind: realm), \(bind: purpose.rawValue), \(bind: Int64(1)), \(bind: wrapped), \(bind: provider.currentKeyID), \(bind: Int64(1)), \(bind: now))
                """).run()
        }
    }

    /// Makes sure the identity realm has keys, in a transaction of its own, before any request.
    func prepareIdentityRealm(store: Store) async throws {
        let exists = try await store.transaction(realm: IdentityRealm.id) { tx in
            try await tx.sql.raw("SELECT 1 AS present FROM realm_keys WHERE realm_id = \(bind: IdentityRealm.id)").first() != nil
        }
        guard !exists else { return }
        do {
            try await store.transaction(realm: IdentityRealm.id) { tx in try await self.create(for: IdentityRealm.id, in: tx) }
        } catch {
            // Another instance created them first; they are there now either way.
            let created = try await store.transaction(realm: IdentityRealm.id) { tx in
                try await tx.sql.raw("SELECT 1 AS present FROM realm_keys WHERE realm_id = \(bind: IdentityRealm.id)").first() != nil
            }
            if !created { throw error }
        }
    }
}

enum RealmKeyError: Error { case noKeys }
