import AuditLedger
import Foundation
import SQLKit

/// Recomputes every chain (each clinic's and the identity realm's) from the stored events and
/// compares it with the recorded head and the signed checkpoints. Reads in bounded batches, so
/// memory stays flat however long the ledger is.
public struct LedgerVerification: Sendable {
    public struct ChainSummary: Sendable {
        public let chain: UUID
        public let entries: Int64
        /// The last entry a stored signed checkpoint covers; entries after it rest on the hash chain alone.
        public let signedThrough: Int64?
        public let head: Int64
    }

    public struct Report: Sendable {
        public var chains: [ChainSummary] = []
        public var fault: ChainFault?
        public var totalEntries: Int64 { chains.reduce(0) { $0 + $1.entries } }
    }

    let store: Store

    init(store: Store) { self.store = store }

    /// Every chain: the identity realm's, then each clinic's, then any other the heads name (a
    /// chain whose clinic row is gone is verified too, never passed over).
    static func chainIDs(store: Store) async throws -> [UUID] {
        var chains = [IdentityRealm.id]
        for row in try await store.global.raw("SELECT id FROM clinics ORDER BY created_at_ms").all() {
            chains.append(try row.decode(column: "id", as: UUID.self))
        }
        let heads = try await store.transaction(realm: IdentityRealm.id) { tx -> [UUID] in
            if tx.kind == .postgres { try await tx.sql.raw("SELECT set_config('clinickeep.list_chains', 'on', true)").run() }
            return try await tx.sql.raw("SELECT chain_id FROM audit_heads ORDER BY chain_id").all().map { try $0.decode(column: "chain_id", as: UUID.self) }
        }
        let known = Set(chains)
        chains += heads.filter { !known.contains($0) }
        return chains
    }

    /// Verifies one chain, or every chain when `only` is nil, against the checkpoints stored
    /// beside it and, when given, an exported copy; stops at the first fault.
    public func run(only: UUID? = nil, exported: CheckpointExport? = nil) async throws -> Report {
        var chains: [UUID]
        if let only { chains = [only] } else { chains = try await Self.chainIDs(store: store) }
        let exportedCheckpoints = exported?.decodedCheckpoints ?? []
        if only == nil {
            // A chain the export knows and the database no longer lists was removed whole.
            for chain in Set(exportedCheckpoints.map(\.chain)).subtracting(chains).sorted(by: { $0.uuidString < $1.uuidString }) {
                chains.append(chain)
            }
        }
        var report = Report()
        for chain in chains {
            do {
                report.chains.append(try await verify(chain: chain, exported: exportedCheckpoints.filter { $0.chain == chain }))
            } catch let fault as ChainFault {
                report.fault = fault
                return report
            }
        }
        return report
    }

    /// Entries read per transaction: verification never holds a chain for longer than this.
    static let batchSize = 5000

    /// Walks the chain in batches, each its own short transaction, so the clinic keeps working
    /// meanwhile. The last batch first takes the head row (a no-op update), so no append lands
    /// between reading the final entries and comparing them with the head.
    private func verify(chain: UUID, exported: [Checkpoint]) async throws -> ChainSummary {
        let stored = try await store.transaction(realm: chain) { tx in try await Self.checkpoints(of: chain, in: tx) }
        let keys = store.checkpointing.keys, chainKeys = store.checkpointing.chainKeys
        var verifier = ChainVerifier(chain: chain, checkpoints: stored, exported: exported, keys: keys, chainKeys: chainKeys)
        var checked: Int64 = 0
        while true {
            let current = verifier
            let (next, finished, batch) = try await store.transaction(realm: chain) { tx -> (ChainVerifier, Bool, Int64) in
                let head = try await tx.sql.raw("""
                    UPDATE audit_heads SET sequence = sequence WHERE chain_id = \(bind: chain) RETURNING sequence, head_hash
                    """).first().map {
                    ChainHead(sequence: try $0.decode(column: "sequence", as: Int64.self), hash: try $0.decode(column: "head_hash", as: Data.self))
                }
                // After a purge the chain starts behind its signed cut (entries still awaiting
                // deletion there are not read); read each batch, since a purge may cut meanwhile.
                var start = current
                if let cut = try await AuditRetention.latestCut(of: chain, in: tx), cut.sequence > current.verifiedThrough {
                    start = try ChainVerifier.resuming(after: cut, checkpoints: stored, exported: exported, keys: keys, chainKeys: chainKeys)
                }
                let finalBatch = (head?.sequence ?? 0) - start.verifiedThrough <= Self.batchSize
                var sql = SQLQueryString("""
                    SELECT \(unsafeRaw: Ledger.entryColumns) FROM audit_events
                    WHERE chain_id = \(bind: chain) AND sequence > \(bind: start.verifiedThrough) ORDER BY sequence
                    """)
                if !finalBatch { sql.appendInterpolation(unsafeRaw: " LIMIT \(Self.batchSize)") }
                let verifier = try await Self.feed(start, sql, in: tx)
                if finalBatch { try verifier.finish(recordedHead: head) }
                return (verifier, finalBatch, verifier.verifiedCount - start.verifiedCount)
            }
            checked += batch
            verifier = next
            if finished {
                return ChainSummary(chain: chain, entries: checked, signedThrough: stored.last?.sequence, head: next.verifiedThrough)
            }
        }
    }

    /// Checks one batch of rows. The rows are fetched whole (a batch is bounded) and checked in
    /// this task, not in a row callback: that would run on an event loop and stall every request
    /// queued behind it for the length of the batch.
    private static func feed(_ verifier: ChainVerifier, _ sql: SQLQueryString, in tx: ScopedSQL) async throws -> ChainVerifier {
        var checked = verifier
        for row in try await tx.sql.raw(sql).all() {
            try checked.check(try Ledger.entry(from: row))
        }
        return checked
    }

    /// A chain's stored checkpoints, oldest first: a few per thousand entries.
    /// `latestOnly`: just the newest, what a new checkpoint follows on from.
    static func checkpoints(of chain: UUID, in tx: ScopedSQL, latestOnly: Bool = false) async throws -> [Checkpoint] {
        try await tx.sql.raw("""
            SELECT chain_id, sequence, head_hash, signed_at_ms, key_version, signature FROM audit_checkpoints
            WHERE chain_id = \(bind: chain) ORDER BY sequence\(unsafeRaw: latestOnly ? " DESC LIMIT 1" : "")
            """).all().map { row in
            Checkpoint(chain: try row.decode(column: "chain_id", as: UUID.self), sequence: try row.decode(column: "sequence", as: Int64.self),
                       headHash: try row.decode(column: "head_hash", as: Data.self),
                       signedAtMilliseconds: try row.decode(column: "signed_at_ms", as: Int64.self),
                       keyVersion: UInt32(truncatingIfNeeded: try row.decode(column: "key_version", as: Int64.self)),
                       signature: try row.decode(column: "signature", as: Data.self))
        }
    }
}
