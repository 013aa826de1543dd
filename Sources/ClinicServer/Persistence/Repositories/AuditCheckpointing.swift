import AuditLedger
import Foundation
import Keyring
import NIOConcurrencyHelpers
import SQLKit

/// When a chain gets a signed checkpoint, and the key that signs it.
///
/// An append checkpoints its own entry when the chain has grown by `everyEvents` since the last
/// checkpoint or `interval` has passed since it; a sweep in `serve` covers a chain that went
/// quiet with entries not yet checkpointed. Signing costs tens of microseconds, in the append's
/// transaction, which already holds the chain's head row.
final class AuditCheckpointing: Sendable {
    let everyEvents: Int64
    let intervalMilliseconds: Int64
    private let signing = NIOLockedValueBox<(signer: CheckpointSigner?, keys: CheckpointKeys)>((nil, CheckpointKeys()))

    init(everyEvents: Int64, interval: TimeInterval) {
        self.everyEvents = everyEvents
        self.intervalMilliseconds = Int64(interval * 1000)
    }

    func install(signer: CheckpointSigner, keys: CheckpointKeys) {
        signing.withLockedValue { $0 = (signer, keys) }
    }

    /// Every signing key's public half, as unwrapped from the key provider (not as stored).
    var keys: CheckpointKeys { signing.withLockedValue { $0.keys } }

    func isDue(sequence: Int64, lastCheckpoint: Int64, lastCheckpointAt: Int64, now: Int64) -> Bool {
        sequence - lastCheckpoint >= everyEvents || now - lastCheckpointAt >= intervalMilliseconds
    }

    func sign(chain: UUID, head: ChainHead, now: Int64) throws -> Checkpoint {
        guard let signer = signing.withLockedValue({ $0.signer }) else { throw LedgerError.noSigningKey }
        return try signer.sign(chain: chain, head: head, signedAtMilliseconds: now)
    }

    func signCut(chain: UUID, through head: ChainHead, olderThan: Int64, now: Int64) throws -> RetentionCut {
        guard let signer = signing.withLockedValue({ $0.signer }) else { throw LedgerError.noSigningKey }
        return try signer.signCut(chain: chain, through: head, olderThanMilliseconds: olderThan, signedAtMilliseconds: now)
    }

    /// Signs `head`, stores the checkpoint and notes it on the chain's head row, in the caller's
    /// transaction, which must already hold that row.
    func record(chain: UUID, head: ChainHead, now: Int64, in sql: any SQLDatabase) async throws {
        let checkpoint = try sign(chain: chain, head: head, now: now)
        try await sql.raw("""
            INSERT INTO audit_checkpoints (chain_id, sequence, head_hash, signed_at_ms, key_version, signature)
            VALUES (\(bind: chain), \(bind: checkpoint.sequence), \(bind: checkpoint.headHash), \(bind: now),
                    \(bind: Int64(checkpoint.keyVersion)), \(bind: checkpoint.signature))
            """).run()
        try await sql.raw("""
            UPDATE audit_heads SET checkpoint_sequence = \(bind: head.sequence), checkpoint_at_ms = \(bind: now) WHERE chain_id = \(bind: chain)
            """).run()
    }

    /// Checkpoints a chain's head when entries came after its last checkpoint and the interval
    /// has passed since it (or at once, when `force`). Returns whether it wrote one.
    @discardableResult
    func checkpointHead(of chain: UUID, store: Store, force: Bool) async throws -> Bool {
        let cutoff = force ? Int64.max : Date().milliseconds - intervalMilliseconds
        return try await store.transaction(realm: chain) { tx in
            // A no-op update: it takes the head row's lock, so no append moves the head meanwhile.
            guard let row = try await tx.sql.raw("""
                UPDATE audit_heads SET checkpoint_at_ms = checkpoint_at_ms
                WHERE chain_id = \(bind: chain) AND sequence > checkpoint_sequence AND checkpoint_at_ms <= \(bind: cutoff)
                RETURNING sequence, head_hash
                """).first() else { return false }
            let head = ChainHead(sequence: try row.decode(column: "sequence", as: Int64.self),
                                 hash: try row.decode(column: "head_hash", as: Data.self))
            try await self.record(chain: chain, head: head, now: Date().milliseconds, in: tx.sql)
            return true
        }
    }

    /// Checkpoints every chain that is due; what the server's sweep runs.
    func sweep(store: Store) async throws -> Int {
        var written = 0
        for chain in try await LedgerVerification.chainIDs(store: store) {
            if try await checkpointHead(of: chain, store: store, force: false) { written += 1 }
        }
        return written
    }
}

/// The installation's checkpoint-signing key: Ed25519, versioned, stored wrapped by the key
/// provider (bound to its purpose and version) with the public half beside it.
enum AuditSigningKeys {
    /// The current signer and every version's public key, creating version 1 on first start.
    /// Public keys come from unwrapping the private keys, so a public key swapped in the
    /// database is refused rather than trusted.
    static func load(store: Store, provider: any KeyProvider) async throws -> (signer: CheckpointSigner, keys: CheckpointKeys) {
        var rows = try await store.global.raw("SELECT version, public_key, wrapped_key, kek_id FROM audit_signing_keys ORDER BY version").all()
        if rows.isEmpty {
            let signer = CheckpointSigner.generate(version: 1)
            let wrapped = try await provider.wrap(signer.rawPrivateKey, context: context(version: 1))
            // Another instance starting at the same moment may win; its key is used then.
            try await store.global.raw("""
                INSERT INTO audit_signing_keys (version, public_key, wrapped_key, kek_id, created_at_ms)
                VALUES (\(bind: Int64(1)), \(bind: signer.publicKey), \(bind: wrapped.bytes), \(bind: wrapped.keyID), \(bind: Date().milliseconds))
                ON CONFLICT (version) DO NOTHING
                """).run()
            rows = try await store.global.raw("SELECT version, public_key, wrapped_key, kek_id FROM audit_signing_keys ORDER BY version").all()
        }
        var keys = CheckpointKeys()
        var current: CheckpointSigner?
        for row in rows {
            let version = UInt32(try row.decode(column: "version", as: Int64.self))
            let raw = try await provider.unwrap(try row.decode(column: "wrapped_key", as: Data.self),
                                                keyID: try row.decode(column: "kek_id", as: String.self), context: context(version: version))
            let signer = try CheckpointSigner(version: version, rawPrivateKey: raw)
            guard signer.publicKey == (try row.decode(column: "public_key", as: Data.self)) else {
                throw LedgerError.signingKeyMismatch(version: version)
            }
            try keys.add(version: version, publicKey: signer.publicKey)
            current = signer
        }
        guard let current else { throw LedgerError.noSigningKey }
        return (current, keys)
    }

    private static func context(version: UInt32) -> WrapContext {
        WrapContext(realm: IdentityRealm.id, purpose: .signing, version: KeyVersion(rawValue: version))
    }
}
