import AuditLedger
import Foundation
import SQLKit

/// Removes audit events past the retention period, leaving every chain verifiable.
///
/// A purge of a chain: verify it whole (a chain that does not verify is evidence, never
/// purged); in one short transaction that holds the head row, sign a cut at the last entry past
/// retention, store it and append an `audit.purge` event after the head; then delete the entries
/// behind the cut in batches, each its own transaction, so the clinic keeps working. Killed
/// half-way, a rerun finishes the deletion behind the cut already made. Deleting needs the
/// tables' owner on PostgreSQL: the server's own role has no DELETE on the ledger.
struct AuditRetention: Sendable {
    let store: Store

    /// Entries deleted per transaction.
    static let batchSize: Int64 = 5000

    struct Plan: Sendable, Equatable {
        /// Entries already behind an earlier cut (and perhaps not all deleted yet).
        let previousCut: Int64
        /// The last entry older than the boundary: the new cut, or `previousCut` when nothing new is past retention.
        let through: Int64
        var removable: Int64 { through - previousCut }
    }

    /// What a purge would cut now: the entries after the last cut that occurred before `olderThan`,
    /// stopping at the first that did not (the clock of an entry never decides out of order), and
    /// further back at the last signed checkpoint among them. A cut lands only where a checkpoint
    /// signed while the entries were fresh vouches for them: whoever rewrote old entries and
    /// removed the stored checkpoints can never have their rewrite sealed by a purge.
    func plan(chain: UUID, olderThan: Date) async throws -> Plan {
        try await store.transaction(realm: chain) { tx in
            let previous = try await Self.latestCut(of: chain, in: tx)?.sequence ?? 0
            let row = try await tx.sql.raw("""
                SELECT
                    (SELECT MIN(sequence) FROM audit_events WHERE chain_id = \(bind: chain) AND sequence > \(bind: previous)
                        AND occurred_at_ms >= \(bind: olderThan.milliseconds)) AS first_kept,
                    (SELECT sequence FROM audit_heads WHERE chain_id = \(bind: chain)) AS head
                """).first()
            let head = try row?.decode(column: "head", as: Int64?.self) ?? 0
            let firstKept = try row?.decode(column: "first_kept", as: Int64?.self)
            let pastRetention = (firstKept ?? head + 1) - 1
            let checkpointed = try await tx.sql.raw("""
                SELECT MAX(sequence) AS sequence FROM audit_checkpoints
                WHERE chain_id = \(bind: chain) AND sequence > \(bind: previous) AND sequence <= \(bind: pastRetention)
                """).first()?.decode(column: "sequence", as: Int64?.self)
            return Plan(previousCut: previous, through: checkpointed ?? previous)
        }
    }

    enum Refusal: Error, CustomStringConvertible {
        case doesNotVerify(ChainFault)
        case cutNotSigned(sequence: Int64)

        var description: String {
            switch self {
            case .doesNotVerify(let fault):
                "the chain fails verification (\(fault)); its entries are evidence and are not purged"
            case .cutNotSigned(let sequence):
                "the retention cut at entry \(sequence) is not one this installation signed, or the entry there differs from it; nothing is deleted behind it"
            }
        }
    }

    /// Cuts `chain` at the last entry before `olderThan` and deletes the entries behind every
    /// cut; `progress` hears how many entries are deleted so far. Returns the plan it carried out.
    func purge(chain: UUID, olderThan: Date, progress: @Sendable (Int64) -> Void = { _ in }) async throws -> Plan {
        let plan = try await plan(chain: chain, olderThan: olderThan)
        if plan.removable > 0 {
            if let fault = try await LedgerVerification(store: store).run(only: chain).fault { throw Refusal.doesNotVerify(fault) }
            try await cut(chain: chain, through: plan.through, removing: plan.removable, olderThan: olderThan)
        }
        try await deleteBehindCut(chain: chain, progress: progress)
        return plan
    }

    private func cut(chain: UUID, through: Int64, removing: Int64, olderThan: Date) async throws {
        let checkpointing = store.checkpointing
        try await store.ownerTransaction(realm: chain) { tx in
            // Holds the head row: no append lands while the cut is made.
            try await tx.sql.raw("UPDATE audit_heads SET sequence = sequence WHERE chain_id = \(bind: chain)").run()
            guard let row = try await tx.sql.raw("""
                SELECT hash FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = \(bind: through)
                """).first() else { throw LedgerError.headUnavailable }
            let now = Date().milliseconds
            let cut = try checkpointing.signCut(chain: chain, through: ChainHead(sequence: through, hash: try row.decode(column: "hash", as: Data.self)),
                                                olderThan: olderThan.milliseconds, now: now)
            // The ledger first, then the cut: the order every ledger write takes its locks in.
            try await Ledger.append(AuditEvent(chain: chain, actor: nil, action: "audit.purge", resourceType: "audit_chain", resource: chain,
                                               outcome: .success,
                                               detail: "through=\(through) removed=\(removing) older_than=\(Timestamp.string(olderThan))"), in: tx)
            try await tx.sql.raw("""
                INSERT INTO audit_retention_cuts (chain_id, sequence, head_hash, older_than_ms, signed_at_ms, key_version, signature)
                VALUES (\(bind: chain), \(bind: cut.sequence), \(bind: cut.headHash), \(bind: cut.olderThanMilliseconds),
                        \(bind: now), \(bind: Int64(cut.keyVersion)), \(bind: cut.signature))
                """).run()
        }
    }

    /// Deletes whatever still lies behind the latest cut, a batch per transaction. The trigger
    /// cannot check a cut's signature, so this does, before anything goes: a cut row forged or
    /// left behind by someone else never gets entries deleted on its word.
    private func deleteBehindCut(chain: UUID, progress: @Sendable (Int64) -> Void) async throws {
        var deleted: Int64 = 0
        let keys = store.checkpointing.keys
        while true {
            let removed = try await store.ownerTransaction(realm: chain) { tx -> Int64 in
                guard let cut = try await Self.latestCut(of: chain, in: tx) else { return 0 }
                let atCut = try await tx.sql.raw("""
                    SELECT hash FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = \(bind: cut.sequence)
                    """).first()?.decode(column: "hash", as: Data.self)
                guard keys.isValid(cut), atCut == nil || atCut == cut.headHash else { throw Refusal.cutNotSigned(sequence: cut.sequence) }
                let through = cut.sequence
                guard let first = try await tx.sql.raw("SELECT MIN(sequence) AS first FROM audit_events WHERE chain_id = \(bind: chain)").first()?
                          .decode(column: "first", as: Int64?.self), first <= through else { return 0 }
                let last = min(through, first + Self.batchSize - 1)
                try await tx.sql.raw("""
                    DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence >= \(bind: first) AND sequence <= \(bind: last)
                    """).run()
                return last - first + 1
            }
            if removed == 0 { return }
            deleted += removed
            progress(deleted)
        }
    }

    /// A chain's most recent cut, if it was ever purged.
    static func latestCut(of chain: UUID, in tx: ScopedSQL) async throws -> RetentionCut? {
        try await tx.sql.raw("""
            SELECT chain_id, sequence, head_hash, older_than_ms, signed_at_ms, key_version, signature FROM audit_retention_cuts
            WHERE chain_id = \(bind: chain) ORDER BY sequence DESC LIMIT 1
            """).first().map { row in
            RetentionCut(chain: try row.decode(column: "chain_id", as: UUID.self), sequence: try row.decode(column: "sequence", as: Int64.self),
                         headHash: try row.decode(column: "head_hash", as: Data.self),
                         olderThanMilliseconds: try row.decode(column: "older_than_ms", as: Int64.self),
                         signedAtMilliseconds: try row.decode(column: "signed_at_ms", as: Int64.self),
                         keyVersion: UInt32(truncatingIfNeeded: try row.decode(column: "key_version", as: Int64.self)),
                         signature: try row.decode(column: "signature", as: Data.self))
        }
    }
}
