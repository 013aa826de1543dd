import AuditLedger
import Foundation
import Keyring
import SQLKit

/// `keys rewrap`: a new key-encryption key, and everything the old one wrapped wrapped again
/// under it: each realm's root key (the key store), any realm key from before root keys
/// (moved under its realm's root key), and the checkpoint-signing keys. The old key is retired
/// only once nothing names it. Every step is safe to repeat, so a rewrap that stopped is
/// finished by running it again; the server keeps serving throughout (it reads the key file
/// again when it meets a key it does not hold).
struct KeyRewrap: Sendable {
    let store: Store
    let keyring: RealmKeyring
    let provider: any RewrappableKeyProvider
    let requestID: String

    struct Summary: Sendable, Equatable {
        var retired: [String] = []
        var current = ""
        var rootKeys = 0
        var legacyRealmKeys = 0
        var signingKeys = 0
    }

    struct StillWrapped: Error, CustomStringConvertible {
        let count: Int
        var description: String { "\(count) keys are still wrapped by the old key-encryption key; nothing was retired (run keys rewrap again)" }
    }

    func run(report: @Sendable (String) -> Void) async throws -> Summary {
        // A key file makes its new key here; with KMS the operator named the new key already.
        var old = Set(try await provider.beginRewrap())
        let current = provider.currentKeyID
        var summary = Summary(current: current)
        report("wrapping everything under \(current)")
        for realm in try keyring.rootKeys.realms() {
            let before = try keyring.rootKeys.keyEncryptionKeyID(of: realm)
            if try await keyring.rootKeys.rewrap(realm, provider: provider) {
                old.insert(before)
                summary.rootKeys += 1
            }
        }
        report("\(summary.rootKeys) realm root keys wrapped again")
        for realm in try await realmsWithKeys() {
            summary.legacyRealmKeys += try await moveUnderRootKey(realm)
        }
        report("\(summary.legacyRealmKeys) realm keys from before root keys moved under their root key")
        let signing = try await rewrapSigningKeys(to: current)
        summary.signingKeys = signing.count
        old.formUnion(signing)
        report("\(summary.signingKeys) checkpoint-signing keys wrapped again")

        let left = try await notWrappedBy(current)
        guard left == 0 else { throw StillWrapped(count: left) }
        old.remove(current)
        summary.retired = old.sorted()
        try await provider.finishRewrap(retiring: summary.retired)
        let done = summary
        try await store.transaction(realm: IdentityRealm.id) { tx in
            try await Ledger.append(AuditEvent(chain: IdentityRealm.id, actor: nil, action: "keys.rewrap", resourceType: "key_encryption_key",
                                               outcome: .success, requestID: requestID,
                                               detail: "to=\(done.current) retired=\(done.retired.joined(separator: ",")) root_keys=\(done.rootKeys) legacy=\(done.legacyRealmKeys) signing=\(done.signingKeys)"), in: tx)
        }
        return summary
    }

    /// The identity realm and every clinic (a deleted clinic has no keys left and is skipped by the queries).
    private func realmsWithKeys() async throws -> [UUID] {
        [IdentityRealm.id] + (try await store.global.raw("SELECT id FROM clinics ORDER BY created_at_ms, id").all()
            .map { try $0.decode(column: "id", as: UUID.self) })
    }

    /// Gives a realm from before root keys a root key and wraps its stored keys under it.
    private func moveUnderRootKey(_ realm: UUID) async throws -> Int {
        let keyring = self.keyring, provider = self.provider
        return try await store.transaction(realm: realm) { tx in
            let rows = try await tx.sql.raw("""
                SELECT purpose, version, wrapped_key, kek_id FROM realm_keys WHERE realm_id = \(bind: realm) AND kek_id <> \(bind: RealmRootKey.keyID)
                """).all()
            guard !rows.isEmpty else { return 0 }
            let root = keyring.rootKeys.contains(realm)
                ? try await keyring.rootKey(for: realm)
                : try await keyring.rootKeys.create(for: realm, provider: provider)
            for row in rows {
                let purpose = try row.decode(column: "purpose", as: String.self)
                let version = try row.decode(column: "version", as: Int64.self)
                guard let kind = WrapContext.Purpose(rawValue: purpose) else { throw KeyringError.malformed }
                let context = WrapContext(realm: realm, purpose: kind, version: KeyVersion(rawValue: UInt32(version)))
                let bytes = try await provider.unwrap(try row.decode(column: "wrapped_key", as: Data.self),
                                                      keyID: try row.decode(column: "kek_id", as: String.self), context: context)
                let wrapped = try await root.wrap(bytes, context: context)
                try await tx.sql.raw("""
                    UPDATE realm_keys SET wrapped_key = \(bind: wrapped.bytes), kek_id = \(bind: wrapped.keyID)
                    WHERE realm_id = \(bind: realm) AND purpose = \(bind: purpose) AND version = \(bind: version)
                    """).run()
            }
            try await Ledger.append(AuditEvent(chain: realm, actor: nil, action: "keys.rewrap", resourceType: "realm_key", resource: realm,
                                               outcome: .success, requestID: requestID, detail: "moved_under_root_key=\(rows.count)"), in: tx)
            return rows.count
        }
    }

    /// Answers the key-encryption keys it moved away from, one per key wrapped again.
    private func rewrapSigningKeys(to current: String) async throws -> [String] {
        let rows = try await store.global.raw("""
            SELECT version, wrapped_key, kek_id FROM audit_signing_keys WHERE kek_id <> \(bind: current)
            """).all()
        var moved: [String] = []
        for row in rows {
            let version = try row.decode(column: "version", as: Int64.self)
            moved.append(try row.decode(column: "kek_id", as: String.self))
            let context = WrapContext(realm: IdentityRealm.id, purpose: .signing, version: KeyVersion(rawValue: UInt32(version)))
            let bytes = try await provider.unwrap(try row.decode(column: "wrapped_key", as: Data.self),
                                                  keyID: try row.decode(column: "kek_id", as: String.self), context: context)
            let wrapped = try await provider.wrap(bytes, context: context)
            try await store.global.raw("""
                UPDATE audit_signing_keys SET wrapped_key = \(bind: wrapped.bytes), kek_id = \(bind: wrapped.keyID) WHERE version = \(bind: version)
                """).run()
        }
        return moved
    }

    /// Keys anywhere not (yet) wrapped by `current`: a root key, a realm key not under its root key, a signing key.
    private func notWrappedBy(_ current: String) async throws -> Int {
        var count = 0
        for realm in try keyring.rootKeys.realms() where try keyring.rootKeys.keyEncryptionKeyID(of: realm) != current { count += 1 }
        for realm in try await realmsWithKeys() {
            count += Int(try await store.transaction(realm: realm) { tx -> Int64 in
                try await tx.sql.raw("""
                    SELECT COUNT(*) AS count FROM realm_keys WHERE realm_id = \(bind: realm) AND kek_id <> \(bind: RealmRootKey.keyID)
                    """).first()?.decode(column: "count", as: Int64.self) ?? 0
            })
        }
        count += try await store.global.raw("SELECT kek_id FROM audit_signing_keys WHERE kek_id <> \(bind: current)").all().count
        return count
    }
}
