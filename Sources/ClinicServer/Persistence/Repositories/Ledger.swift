import AuditLedger
import Foundation
import SQLKit

/// Appends events to a realm's hash chain inside the caller's transaction, so an event is
/// stored if and only if the change it records is.
///
/// The chain head row is updated first: on PostgreSQL that row lock orders concurrent appends
/// of one clinic (and only of that clinic); on SQLite the write lock does.
enum Ledger {
    /// `acceptingUnkeyed` only for `AuditCheckpointing.keyLegacyChains`: the checkpoint this
    /// entry triggers may then cover entries written before chains were keyed.
    static func append(_ recorded: AuditEvent, in tx: ScopedSQL, acceptingUnkeyed: Bool = false) async throws {
        let sql = tx.sql
        let key = try tx.checkpointing.currentChainKey()
        // The client's address is kept as its network and a keyed hash, never in the clear.
        var event = recorded
        if let address = recorded.address { event.address = try tx.checkpointing.addressPseudonyms().pseudonym(address, chain: recorded.chain) }
        let claim = SQLQueryString("""
            UPDATE audit_heads SET sequence = sequence + 1 WHERE chain_id = \(bind: event.chain)
            RETURNING sequence, head_hash, checkpoint_sequence, checkpoint_at_ms
            """)
        var claimed = try await sql.raw(claim).first()
        if claimed == nil {
            // A new chain's clock for time-based checkpoints starts now.
            try await sql.raw("""
                INSERT INTO audit_heads (chain_id, sequence, head_hash, checkpoint_sequence, checkpoint_at_ms)
                VALUES (\(bind: event.chain), \(bind: Int64(0)), \(bind: HashChain.genesis), \(bind: Int64(0)), \(bind: Date().milliseconds))
                ON CONFLICT (chain_id) DO NOTHING
                """).run()
            claimed = try await sql.raw(claim).first()
        }
        guard let claimed else { throw LedgerError.headUnavailable }
        let sequence = try claimed.decode(column: "sequence", as: Int64.self)
        let previous = try claimed.decode(column: "head_hash", as: Data.self)
        let entry = LedgerEntry(sequence: sequence, event: event,
                                hash: HashChain.hash(sequence: sequence, event: event, previous: previous, key: key), keyVersion: key.version)
        let insert = SQLQueryString("""
            INSERT INTO audit_events (chain_id, sequence, occurred_at_ms, actor_id, action, resource_type, resource_id, outcome, address, request_id, detail, hash, key_version)
            VALUES (\(bind: event.chain), \(bind: sequence), \(bind: event.occurredAtMilliseconds), \(bind: event.actor), \(bind: event.action),
                    \(bind: event.resourceType), \(bind: event.resource), \(bind: event.outcome.rawValue), \(bind: event.address),
                    \(bind: event.requestID), \(bind: event.detail), \(bind: entry.hash), \(bind: Int64(key.version)))
            """)
        let moveHead = SQLQueryString("UPDATE audit_heads SET head_hash = \(bind: entry.hash) WHERE chain_id = \(bind: event.chain)")
        switch tx.kind {
        case .postgres:
            // One round trip for both: a data-modifying WITH runs whether or not it is read.
            try await sql.raw(SQLQueryString("WITH appended AS (") + insert + SQLQueryString(") ") + moveHead).run()
        case .sqlite:
            try await sql.raw(insert).run()
            try await sql.raw(moveHead).run()
        }
        Metric.ledgerAppended()
        let now = Date().milliseconds
        let due = tx.checkpointing.isDue(sequence: sequence, lastCheckpoint: try claimed.decode(column: "checkpoint_sequence", as: Int64.self),
                                         lastCheckpointAt: try claimed.decode(column: "checkpoint_at_ms", as: Int64.self), now: now)
        if acceptingUnkeyed || due {
            do {
                try await tx.checkpointing.record(chain: event.chain, head: ChainHead(sequence: sequence, hash: entry.hash), now: now, in: tx,
                                                  acceptingUnkeyed: acceptingUnkeyed)
            } catch let fault as ChainFault where !acceptingUnkeyed {
                tx.checkpointing.refused(fault)
            }
        }
    }

    static func entry(from row: any SQLRow) throws -> LedgerEntry {
        let event = AuditEvent(
            chain: try row.decode(column: "chain_id", as: UUID.self),
            occurredAt: Date(milliseconds: try row.decode(column: "occurred_at_ms", as: Int64.self)),
            actor: try row.decode(column: "actor_id", as: UUID?.self),
            action: try row.decode(column: "action", as: String.self),
            resourceType: try row.decode(column: "resource_type", as: String?.self),
            resource: try row.decode(column: "resource_id", as: UUID?.self),
            outcome: AuditEvent.Outcome(rawValue: try row.decode(column: "outcome", as: String.self)) ?? .failure,
            address: try row.decode(column: "address", as: String?.self),
            requestID: try row.decode(column: "request_id", as: String?.self),
            detail: try row.decode(column: "detail", as: String?.self)
        )
        return LedgerEntry(sequence: try row.decode(column: "sequence", as: Int64.self), event: event,
                           hash: try row.decode(column: "hash", as: Data.self),
                           keyVersion: try row.decode(column: "key_version", as: Int64?.self).map { UInt32(truncatingIfNeeded: $0) })
    }

    static let entryColumns = "chain_id, sequence, occurred_at_ms, actor_id, action, resource_type, resource_id, outcome, address, request_id, detail, hash, key_version"
}

enum LedgerError: Error, CustomStringConvertible {
    case headUnavailable
    case noSigningKey
    case signingKeyMismatch(version: UInt32)
    case signingKeyNotPinned(version: UInt32, pins: String)

    var description: String {
        switch self {
        case .headUnavailable: "the audit chain's head row could not be claimed"
        case .noSigningKey: "no audit checkpoint-signing key is loaded"
        case .signingKeyMismatch(let version):
            "audit signing key v\(version) does not match its stored public key (the key table was altered)"
        case let .signingKeyNotPinned(version, pins):
            "audit signing key v\(version) in the database is not the one pinned in \(pins): this is another database than the key store's, or its key table was replaced; if this is a new database on purpose, remove that file"
        }
    }
}
