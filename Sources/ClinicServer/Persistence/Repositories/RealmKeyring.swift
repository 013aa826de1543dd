import Foundation
import Keyring
import NIOConcurrencyHelpers
import Logging
import SQLKit

/// The identity realm: the keys and ledger chain of people's sign-in data, which belongs to no clinic.
enum IdentityRealm {
    static let id = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
}

/// Unwrapped realm keys, cached in memory: a realm's keys are unwrapped by the key provider
/// once per process, never per request. Wrapped keys live in `realm_keys`.
///
/// Another process (`clinickeep keys rotate`, or another server on the same database) may add
/// a version: a cached realm is read again from `realm_keys` once it is `refreshInterval` old,
/// unwrapping only versions it does not hold yet. So every server seals with a new version
/// within that interval, and `keys reencrypt` waits that long after a rotation before it writes
/// anything a server could not yet open.
///
/// Each realm's data and index keys are wrapped by that realm's root key, which lives outside the
/// database in `rootKeys` (wrapped by the provider). Rows a version before root keys existed
/// name the provider's key-encryption key instead and are unwrapped by it; `keys rewrap` moves them.
final class RealmKeyring: Sendable {
    let provider: any KeyProvider
    let rootKeys: RealmRootKeyStore
    private let cache = NIOLockedValueBox<[UUID: Cached]>([:])
    private let roots = NIOLockedValueBox<[UUID: RealmRootKey]>([:])
    static let refreshInterval: TimeInterval = 2

    private struct Cached: Sendable {
        let keys: RealmKeys
        let loadedAt: Date
    }

    /// Every unwrap is logged (realm id, purpose, version, wrapping key id; never key material),
    /// so key access can be traced: once per process per key, never per request.
    private let logger: Logger

    init(provider: any KeyProvider, rootKeys: RealmRootKeyStore, logger: Logger = Logger(label: "clinickeep.keys")) {
        self.provider = provider
        self.rootKeys = rootKeys
        self.logger = logger
    }

    /// The realm's root key, unwrapped once per process.
    func rootKey(for realm: UUID) async throws -> RealmRootKey {
        if let root = roots.withLockedValue({ $0[realm] }) { return root }
        let root = try await rootKeys.load(realm, provider: provider)
        logger.info("key unwrapped", metadata: Self.keyUse(realm, purpose: "root", version: nil, wrappedBy: provider.currentKeyID))
        roots.withLockedValue { $0[realm] = root }
        return root
    }

    /// What wraps a new key of this realm: its root key, or for a realm from before root keys
    /// (until `keys rewrap` gives it one) the provider's key-encryption key.
    func wrapper(for realm: UUID) async throws -> any KeyProvider {
        rootKeys.contains(realm) ? try await rootKey(for: realm) : provider
    }

    /// What unwraps a stored key that names `kekID`.
    /// A realm with a root key keeps every stored key under it: a row naming the key-encryption
    /// key directly is refused (review round 2, A8/A15), since a database writer who could
    /// have a value wrapped by the provider would otherwise choose the realm's key. Only realms
    /// from before root keys (no root key file yet) unwrap with the provider, until `keys
    /// rewrap` moves them.
    private func unwrapper(for realm: UUID, kekID: String) async throws -> any KeyProvider {
        if kekID == RealmRootKey.keyID { return try await rootKey(for: realm) }
        guard !rootKeys.contains(realm) else { throw RealmKeyError.wrappedPastRootKey }
        return provider
    }

    /// Destroys the realm's root key: every key of the realm, in any copy of the database, is
    /// unopenable from now on.
    func destroy(_ realm: UUID) throws {
        try rootKeys.destroy(realm)
        roots.withLockedValue { $0[realm] = nil }
        forget(realm)
    }

    /// The realm's keys, unwrapping them on first use inside the caller's realm-scoped transaction.
    func keys(for realm: UUID, in tx: ScopedSQL) async throws -> RealmKeys {
        let cached = cache.withLockedValue { $0[realm] }
        if let cached, Date().timeIntervalSince(cached.loadedAt) < Self.refreshInterval {
            Metric.keyCache(hit: true)
            return cached.keys
        }
        Metric.keyCache(hit: false)
        let keys = try await load(realm, reusing: cached?.keys, in: tx)
        cache.withLockedValue { $0[realm] = Cached(keys: keys, loadedAt: Date()) }
        return keys
    }

    /// Forgets a realm's keys, so the next use reads `realm_keys` again (after this process rotated or retired).
    /// What a key use is logged with (POR-5): the realm under `clinic` and the version under
    /// `version`, fields the redacting log handler shows whole, and what wrapped the key. Never
    /// the key.
    static func keyUse(_ realm: UUID, purpose: String, version: KeyVersion?, wrappedBy: String) -> Logger.Metadata {
        var fields: Logger.Metadata = ["clinic": .string(realm.uuidString.lowercased()), "purpose": .string(purpose), "wrapped_by": .string(wrappedBy)]
        if let version { fields["version"] = .stringConvertible(version.rawValue) }
        return fields
    }

    func forget(_ realm: UUID) {
        cache.withLockedValue { $0[realm] = nil }
    }

    private func load(_ realm: UUID, reusing known: RealmKeys?, in tx: ScopedSQL) async throws -> RealmKeys {
        let rows = try await tx.sql.raw("""
            SELECT purpose, version, wrapped_key, kek_id, is_current FROM realm_keys WHERE realm_id = \(bind: realm)
            """).all()
        guard !rows.isEmpty else { throw RealmKeyError.noKeys }
        var dataKeys: [DataKey] = []
        var currentData: KeyVersion?
        var indexKeys: [BlindIndexKey] = []
        var currentIndex: KeyVersion?
        let knownIndexes = Dictionary(((known.map { [$0.indexKey] + $0.olderIndexKeys }) ?? []).map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        for row in rows {
            let version = KeyVersion(rawValue: UInt32(try row.decode(column: "version", as: Int64.self)))
            func wrapped() throws -> (Data, String) {
                (try row.decode(column: "wrapped_key", as: Data.self), try row.decode(column: "kek_id", as: String.self))
            }
            switch try row.decode(column: "purpose", as: String.self) {
            case WrapContext.Purpose.data.rawValue:
                if let key = known?.dataKey(version) {
                    dataKeys.append(key)
                } else {
                    let (bytes, kekID) = try wrapped()
                    let unwrapper = try await unwrapper(for: realm, kekID: kekID)
                    dataKeys.append(try await unwrapper.unwrapDataKey(bytes, keyID: kekID, realm: realm, version: version))
                    logger.info("key unwrapped", metadata: Self.keyUse(realm, purpose: "data", version: version, wrappedBy: kekID))
                }
                // The newest version is current (rotation only ever adds a higher one): a row's
                // `is_current` flag, which a database writer could move to an old key, is not trusted.
                currentData = max(currentData ?? version, version)
            case WrapContext.Purpose.index.rawValue:
                if let key = knownIndexes[version] {
                    indexKeys.append(key)
                } else {
                    let (bytes, kekID) = try wrapped()
                    let unwrapper = try await unwrapper(for: realm, kekID: kekID)
                    indexKeys.append(try await unwrapper.unwrapIndexKey(bytes, keyID: kekID, realm: realm, version: version))
                    logger.info("key unwrapped", metadata: Self.keyUse(realm, purpose: "index", version: version, wrappedBy: kekID))
                }
                currentIndex = max(currentIndex ?? version, version)
            default:
                continue
            }
        }
        guard let currentData, let currentIndex, let indexKey = indexKeys.first(where: { $0.version == currentIndex }) else {
            throw KeyringError.malformed
        }
        return try RealmKeys(realm: realm, dataKeys: dataKeys, current: currentData, indexKey: indexKey, olderIndexKeys: indexKeys)
    }

    /// Generates a new realm's root key (stored in the key store at once) and version 1 of its
    /// data and index keys, stored wrapped by it in the caller's transaction. Not cached here:
    /// the keys are cached when first read back, so a transaction that rolls back can never leave
    /// the process sealing with keys that were never stored. (A rolled-back realm leaves only an
    /// unused root key file behind.)
    func create(for realm: UUID, in tx: ScopedSQL) async throws {
        // A root key already there belongs to an attempt that rolled back, or to a database
        // emptied under the same data directory: no stored key uses it, so it is taken as is.
        let root = rootKeys.contains(realm) ? try await rootKey(for: realm) : try await rootKeys.create(for: realm, provider: provider)
        roots.withLockedValue { $0[realm] = root }
        let dataKey = DataKey.generate(version: .first)
        let indexKey = BlindIndexKey.generate(version: .first)
        let now = Date().milliseconds
        for (purpose, wrapped) in [(WrapContext.Purpose.data, try await root.wrap(dataKey, realm: realm)),
                                   (.index, try await root.wrap(indexKey, realm: realm))] {
            try await tx.sql.raw("""
                INSERT INTO realm_keys (realm_id, purpose, version, wrapped_key, kek_id, is_current, created_at_ms)
                VALUES (\(bind: realm), \(bind: purpose.rawValue), \(bind: Int64(1)), \(bind: wrapped.bytes), \(bind: wrapped.keyID), \(bind: Int64(1)), \(bind: now))
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

enum RealmKeyError: Error, CustomStringConvertible {
    case noKeys
    /// A stored key of a realm that has a root key names the key-encryption key instead.
    case wrappedPastRootKey

    var description: String {
        switch self {
        case .noKeys: "the realm has no keys"
        case .wrappedPastRootKey: "a stored key of a realm with a root key is wrapped by the key-encryption key directly: refused (run `keys rewrap` if a move under the root key was cut short)"
        }
    }
}
