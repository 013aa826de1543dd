import AuditLedger
import Foundation
import Keyring
import Logging
import NIOConcurrencyHelpers
import SQLKit

/// When a chain gets a signed checkpoint, and the key that signs it.
///
/// An append checkpoints its own entry when the chain has grown by `everyEvents` since the last
/// checkpoint or `interval` has passed since it; a sweep in `serve` covers a chain that went
/// quiet with entries not yet checkpointed. Signing costs tens of microseconds, in the append's
/// transaction, which already holds the chain's head row.
///
/// A checkpoint never vouches for what it has not checked: the entries since the chain's last
/// checkpoint are verified under the chain keys before it is signed (a few hundred MACs, once
/// per `everyEvents` appends), so an entry slipped into the tables by someone without the key is
/// refused rather than signed.
final class AuditCheckpointing: Sendable {
    let everyEvents: Int64
    let intervalMilliseconds: Int64
    private let signing = NIOLockedValueBox<(signer: CheckpointSigner?, keys: CheckpointKeys, chainKeys: [ChainKey], addresses: AddressPseudonym?)>(
        (nil, CheckpointKeys(), [], nil))
    private let logger = Logger(label: "clinickeep.audit")

    init(everyEvents: Int64, interval: TimeInterval) {
        self.everyEvents = everyEvents
        self.intervalMilliseconds = Int64(interval * 1000)
    }

    func install(signer: CheckpointSigner, keys: CheckpointKeys, chainKeys: [ChainKey]) {
        signing.withLockedValue { $0 = (signer, keys, chainKeys, AddressPseudonym.derived(from: signer)) }
    }

    /// What new entries keep of a client's address.
    func addressPseudonyms() throws -> AddressPseudonym {
        guard let addresses = signing.withLockedValue({ $0.addresses }) else { throw LedgerError.noSigningKey }
        return addresses
    }

    /// Every signing key's public half, as unwrapped from the key provider (not as stored).
    var keys: CheckpointKeys { signing.withLockedValue { $0.keys } }

    /// Every chain key, to verify entries with.
    var chainKeys: [ChainKey] { signing.withLockedValue { $0.chainKeys } }

    /// The key new entries are linked under: the one of the current signing key.
    func currentChainKey() throws -> ChainKey {
        guard let signer = signing.withLockedValue({ $0.signer }),
              let key = signing.withLockedValue({ $0.chainKeys }).first(where: { $0.version == signer.version }) else { throw LedgerError.noSigningKey }
        return key
    }

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

    /// Verifies the entries since the chain's last checkpoint (or retention cut, or its start)
    /// up to `head`, then signs `head`, stores the checkpoint and notes it on the chain's head
    /// row, in the caller's transaction, which must already hold that row. Throws the
    /// `ChainFault` when the entries do not verify, and signs nothing then.
    func record(chain: UUID, head: ChainHead, now: Int64, in tx: ScopedSQL, acceptingUnkeyed: Bool = false) async throws {
        try await verifyTail(of: chain, through: head, acceptingUnkeyed: acceptingUnkeyed, in: tx)
        let sql = tx.sql
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

    private func verifyTail(of chain: UUID, through head: ChainHead, acceptingUnkeyed: Bool, in tx: ScopedSQL) async throws {
        let keys = self.keys, chainKeys = self.chainKeys
        let last = try await LedgerVerification.checkpoints(of: chain, in: tx, latestOnly: true).first
        var verifier = try ChainVerifier.resuming(from: last, chain: chain, keys: keys, chainKeys: chainKeys, acceptingUnkeyed: acceptingUnkeyed)
        if let cut = try await AuditRetention.latestCut(of: chain, in: tx), cut.sequence > verifier.verifiedThrough {
            verifier = try ChainVerifier.resuming(after: cut, keys: keys, chainKeys: chainKeys)
        }
        let rows = try await tx.sql.raw("""
            SELECT \(unsafeRaw: Ledger.entryColumns) FROM audit_events
            WHERE chain_id = \(bind: chain) AND sequence > \(bind: verifier.verifiedThrough) AND sequence <= \(bind: head.sequence) ORDER BY sequence
            """).all()
        for row in rows { try verifier.check(try Ledger.entry(from: row)) }
        try verifier.finish(recordedHead: head)
    }

    /// An append found its chain's entries do not verify: no checkpoint is signed over them, and
    /// the operator is told (the write itself goes ahead: the ledger still records it, and
    /// `audit verify` names the bad entry).
    func refused(_ fault: ChainFault) {
        logger.error("audit checkpoint refused: the chain does not verify", metadata: ["fault": .string(fault.description)])
    }

    /// Links chains written before chains were keyed: once, on the first start with keyed
    /// chains, each chain whose entries are all unkeyed is verified as it is, gets a keyed
    /// `ledger.keyed` entry and a checkpoint over both. From then on an unkeyed entry beyond a
    /// checkpoint is a fault, and since every such chain now holds a keyed entry, this never
    /// admits one again.
    func keyLegacyChains(store: Store) async throws {
        for chain in try await LedgerVerification.chainIDs(store: store) {
            do {
                try await keyLegacyChain(chain, store: store)
            } catch let fault as ChainFault {
                // Already broken before it was keyed: left as it is, for `audit verify` to name.
                refused(fault)
            }
        }
    }

    private func keyLegacyChain(_ chain: UUID, store: Store) async throws {
        try await store.transaction(realm: chain) { tx in
            // Most chains end in a keyed entry: one indexed read, and done.
            guard let head = try await tx.sql.raw("""
                SELECT e.key_version FROM audit_heads h JOIN audit_events e ON e.chain_id = h.chain_id AND e.sequence = h.sequence
                WHERE h.chain_id = \(bind: chain)
                """).first(), try head.decode(column: "key_version", as: Int64?.self) == nil else { return }
            // An unkeyed entry after a keyed one was not written by the ledger: left for `audit verify` to name.
            guard try await tx.sql.raw("""
                SELECT 1 AS keyed FROM audit_events WHERE chain_id = \(bind: chain) AND key_version IS NOT NULL LIMIT 1
                """).first() == nil else { return }
            try await Ledger.append(AuditEvent(chain: chain, actor: nil, action: "ledger.keyed", outcome: .success), in: tx, acceptingUnkeyed: true)
        }
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
            try await self.record(chain: chain, head: head, now: Date().milliseconds, in: tx)
            return true
        }
    }

    /// Checkpoints every chain that is due; what the server's sweep runs.
    func sweep(store: Store) async throws -> Int {
        var written = 0
        for chain in try await LedgerVerification.chainIDs(store: store) {
            do {
                if try await checkpointHead(of: chain, store: store, force: false) { written += 1 }
            } catch let fault as ChainFault {
                refused(fault)
            }
        }
        return written
    }
}

/// The installation's checkpoint-signing key: Ed25519, versioned, stored wrapped by the key
/// provider (bound to its purpose and version) with the public half beside it.
enum AuditSigningKeys {
    /// The current signer and every version's public key, creating version 1 on first start.
    /// Public keys come from unwrapping the private keys, so a public key swapped in the
    /// database is refused rather than trusted; and only versions pinned outside the database
    /// (`SigningKeyPins`) are used at all, so a version added to the table is ignored.
    static func load(store: Store, provider: any KeyProvider, pins: SigningKeyPins,
                     logger: Logger) async throws -> (signer: CheckpointSigner, keys: CheckpointKeys, chainKeys: [ChainKey]) {
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
        // With nothing pinned yet (a new installation, or the first start of this version), only
        // the first version is pinned: this server only ever makes version 1, so any other row
        // was put there by someone else. A row that is not pinned is never even unwrapped.
        let existing = try pins.read()
        var signers: [CheckpointSigner] = []
        for row in rows {
            let version = UInt32(try row.decode(column: "version", as: Int64.self))
            guard existing.map({ $0[version] != nil }) ?? signers.isEmpty else {
                logger.warning("an audit signing key in the database is not pinned in the key store: ignored",
                               metadata: ["version": .stringConvertible(version), "pins": .string(pins.path)])
                continue
            }
            let raw = try await provider.unwrap(try row.decode(column: "wrapped_key", as: Data.self),
                                                keyID: try row.decode(column: "kek_id", as: String.self), context: context(version: version))
            let signer = try CheckpointSigner(version: version, rawPrivateKey: raw)
            guard signer.publicKey == (try row.decode(column: "public_key", as: Data.self)) else {
                throw LedgerError.signingKeyMismatch(version: version)
            }
            signers.append(signer)
        }
        if existing == nil, let first = signers.first {
            logger.notice("pinning the audit signing key in the key store", metadata: ["version": .stringConvertible(first.version), "pins": .string(pins.path)])
        }
        let pinned = try pins.pinIfAbsent(signers.first.map { [$0.version: $0.publicKey] } ?? [:])
        var keys = CheckpointKeys()
        var chainKeys: [ChainKey] = []
        var current: CheckpointSigner?
        for signer in signers {
            // Pinned by another server starting at the same moment: only what it pinned counts.
            guard let pin = pinned[signer.version] else { continue }
            guard pin == signer.publicKey else { throw LedgerError.signingKeyNotPinned(version: signer.version, pins: pins.path) }
            try keys.add(version: signer.version, publicKey: signer.publicKey)
            chainKeys.append(ChainKey.derived(from: signer))
            current = signer
        }
        guard let current else { throw LedgerError.noSigningKey }
        return (current, keys, chainKeys)
    }

    static func context(version: UInt32) -> WrapContext {
        WrapContext(realm: IdentityRealm.id, purpose: .signing, version: KeyVersion(rawValue: version))
    }
}
