import AuditLedger
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
@testable import ClinicServer

/// A ledger of 100,000 events with a signed checkpoint every 1,000 and an export of them; each
/// kind of tampering is applied alone (triggers switched off, as by someone who owns the
/// database), verification must catch it and name the place, and it is undone before the next.
@Suite("Audit mutation harness")
struct AuditMutationHarnessTests {
    static let size: Int64 = 100_000
    static let checkpointEvery: Int64 = 1000

    struct Tampering: Sendable {
        let name: String
        let apply: @Sendable (any SQLDatabase, UUID) async throws -> Void
        let undo: @Sendable (any SQLDatabase, UUID) async throws -> Void
        let expected: (sequence: Int64, reason: ChainFault.Reason)
        /// Caught only against the exported checkpoints.
        var needsExport = false
    }

    // PRX-8, POR-8: every kind of tampering is caught and named; the untouched ledger verifies
    @Test("each kind of tampering with a 100,000-event ledger is caught and named", arguments: TestDatabase.allCases)
    func everyTamperingCaught(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let chain = UUID()
            let realm = chain.uuidString.lowercased()
            let store = app.services.store
            let (entries, checkpoints) = try await Self.fill(app, chain: chain)
            let export = try CheckpointExport.decode(CheckpointExport(
                exportedAtMs: 0, keys: store.checkpointing.keys,
                checkpoints: try await store.transaction(realm: chain) { tx in try await LedgerVerification.checkpoints(of: chain, in: tx) }
            ).encoded())
            let verification = LedgerVerification(store: store)
            let intact = try await verification.run(only: chain, exported: export)
            #expect(intact.fault == nil)
            #expect(intact.totalEntries == Self.size)

            for tampering in Self.tamperings(entries, checkpoints, key: try app.services.store.checkpointing.currentChainKey()) {
                try await app.asTamperer(realm: realm) { sql in try await tampering.apply(sql, chain) }
                let fault = try await verification.run(only: chain, exported: export).fault
                if tampering.needsExport {
                    let alone = try await verification.run(only: chain).fault
                    #expect(alone == nil, "\(tampering.name) caught without the export: \(String(describing: alone))")
                }
                try await app.asTamperer(realm: realm) { sql in try await tampering.undo(sql, chain) }
                let caught = try #require(fault, "\(tampering.name) was not caught")
                #expect(caught.sequence == tampering.expected.sequence, "\(tampering.name): \(caught)")
                #expect(caught.reason == tampering.expected.reason, "\(tampering.name): \(caught)")
            }
            // Every tampering was undone exactly: the ledger verifies whole again.
            #expect(try await verification.run(only: chain, exported: export).fault == nil)
        }
    }

    static func tamperings(_ entries: [LedgerEntry], _ checkpoints: [Checkpoint], key: ChainKey) -> [Tampering] {
        @Sendable func entry(_ sequence: Int64) -> LedgerEntry { entries[Int(sequence - 1)] }
        return [
            Tampering(name: "change a field", apply: { sql, chain in
                try await sql.raw("UPDATE audit_events SET outcome = 'denied' WHERE chain_id = \(bind: chain) AND sequence = 50000").run()
            }, undo: { sql, chain in
                try await sql.raw("UPDATE audit_events SET outcome = 'success' WHERE chain_id = \(bind: chain) AND sequence = 50000").run()
            }, expected: (50000, .hashMismatch)),
            Tampering(name: "delete a row", apply: { sql, chain in
                try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = 60000").run()
            }, undo: { sql, _ in try await insert([entry(60000)], on: sql) }, expected: (60000, .sequenceBreak)),
            Tampering(name: "insert a row", apply: { sql, chain in
                var forged = entry(Self.size)
                forged.sequence = Self.size + 1
                forged.hash = HashChain.hash(sequence: forged.sequence, event: forged.event, previous: entry(Self.size).hash, key: key)
                try await insert([forged], on: sql)
            }, undo: { sql, chain in
                try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = \(bind: Self.size + 1)").run()
            }, expected: (Self.size + 1, .beyondHead)),
            // A14: without the chain key, an appended entry is a plain SHA-256 link, head moved to it.
            Tampering(name: "append an unkeyed entry and move the head", apply: { sql, chain in
                var forged = entry(Self.size)
                forged.sequence = Self.size + 1
                forged.keyVersion = nil
                forged.hash = HashChain.hash(sequence: forged.sequence, event: forged.event, previous: entry(Self.size).hash, key: nil)
                try await insert([forged], on: sql)
                try await sql.raw("UPDATE audit_heads SET sequence = \(bind: Self.size + 1), head_hash = \(bind: forged.hash) WHERE chain_id = \(bind: chain)").run()
            }, undo: { sql, chain in
                try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = \(bind: Self.size + 1)").run()
                try await sql.raw("UPDATE audit_heads SET sequence = \(bind: Self.size), head_hash = \(bind: entry(Self.size).hash) WHERE chain_id = \(bind: chain)").run()
            }, expected: (Self.size + 1, .unkeyedEntry)),
            Tampering(name: "swap two rows", apply: { sql, chain in try await swap(70000, 70001, chain, on: sql) },
                      undo: { sql, chain in try await swap(70000, 70001, chain, on: sql) }, expected: (70000, .hashMismatch)),
            Tampering(name: "rewrite recomputing every hash and the head", apply: { sql, chain in
                try await Rewrite.from(sequence: 99_990, chain: chain, on: sql) { $0.action = "patient.list" }
            }, undo: { sql, chain in
                try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence >= 99990").run()
                try await insert(Array(entries[99_989...]), on: sql)
                try await sql.raw("UPDATE audit_heads SET head_hash = \(bind: entry(Self.size).hash) WHERE chain_id = \(bind: chain)").run()
            }, expected: (Self.size, .checkpointMismatch)),
            Tampering(name: "truncate the tail after an exported checkpoint", apply: { sql, chain in
                // Everything inside made to agree: the head moved back, later checkpoints gone.
                try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence > 99500").run()
                try await sql.raw("DELETE FROM audit_checkpoints WHERE chain_id = \(bind: chain) AND sequence > 99500").run()
                try await sql.raw("UPDATE audit_heads SET sequence = 99500, head_hash = \(bind: entry(99500).hash) WHERE chain_id = \(bind: chain)").run()
            }, undo: { sql, chain in
                try await insert(Array(entries[99_500...]), on: sql)
                try await insert(checkpoints.filter { $0.sequence > 99500 }, on: sql)
                try await sql.raw("UPDATE audit_heads SET sequence = \(bind: Self.size), head_hash = \(bind: entry(Self.size).hash) WHERE chain_id = \(bind: chain)").run()
            }, expected: (99501, .exportedCheckpointBeyondChain), needsExport: true),
            Tampering(name: "replace a signature", apply: { sql, chain in
                try await sql.raw("""
                    UPDATE audit_checkpoints SET signature = (SELECT signature FROM audit_checkpoints WHERE chain_id = \(bind: chain) AND sequence = 31000)
                    WHERE chain_id = \(bind: chain) AND sequence = 30000
                    """).run()
            }, undo: { sql, chain in
                let original = checkpoints.first { $0.sequence == 30000 }!.signature
                try await sql.raw("UPDATE audit_checkpoints SET signature = \(bind: original) WHERE chain_id = \(bind: chain) AND sequence = 30000").run()
            }, expected: (30000, .checkpointSignature)),
        ]
    }

    /// Writes the ledger straight into the tables, in batches, with the checkpoints the server
    /// would have signed (by the server's own key) and the head.
    static func fill(_ app: ClinicTestApp, chain: UUID) async throws -> ([LedgerEntry], [Checkpoint]) {
        let signing = app.services.store.checkpointing
        let key = try signing.currentChainKey()
        var entries: [LedgerEntry] = []
        var checkpoints: [Checkpoint] = []
        entries.reserveCapacity(Int(size))
        let start = Date().milliseconds - size
        for index in 0..<size {
            let event = AuditEvent(chain: chain, occurredAt: Date(milliseconds: start + index), actor: UUID(), action: "patient.read",
                                   resourceType: "patient", resource: UUID(), outcome: .success, address: "192.0.2.7", requestID: "r\(index)")
            let entry = HashChain.append(event, after: entries.last.map { ChainHead(sequence: $0.sequence, hash: $0.hash) }, key: key)
            entries.append(entry)
            if entry.sequence % checkpointEvery == 0 {
                checkpoints.append(try signing.sign(chain: chain, head: ChainHead(sequence: entry.sequence, hash: entry.hash), now: start + index))
            }
        }
        let (allEntries, allCheckpoints) = (entries, checkpoints)
        try await app.asOwner(realm: chain.uuidString.lowercased()) { [allEntries, allCheckpoints] sql in
            let entries = allEntries
            for offset in stride(from: 0, to: entries.count, by: 400) {
                try await insert(Array(entries[offset..<min(offset + 400, entries.count)]), on: sql)
            }
            try await insert(allCheckpoints, on: sql)
            try await sql.raw("""
                INSERT INTO audit_heads (chain_id, sequence, head_hash, checkpoint_sequence, checkpoint_at_ms)
                VALUES (\(bind: chain), \(bind: size), \(bind: entries.last!.hash), \(bind: size), \(bind: Date().milliseconds))
                """).run()
        }
        return (entries, checkpoints)
    }

    static func insert(_ entries: [LedgerEntry], on sql: any SQLDatabase) async throws {
        guard !entries.isEmpty else { return }
        var query = SQLQueryString("INSERT INTO audit_events (\(unsafeRaw: Ledger.entryColumns)) VALUES ")
        for (index, entry) in entries.enumerated() {
            let event = entry.event
            query.appendInterpolation(unsafeRaw: index == 0 ? "(" : ", (")
            for (position, value) in ([event.chain, entry.sequence, event.occurredAtMilliseconds, event.actor, event.action, event.resourceType,
                                       event.resource, event.outcome.rawValue, event.address, event.requestID, event.detail, entry.hash,
                                       entry.keyVersion.map(Int64.init)]
                                      as [any Encodable & Sendable]).enumerated() {
                if position > 0 { query.appendInterpolation(unsafeRaw: ", ") }
                query.appendInterpolation(bind: value)
            }
            query.appendInterpolation(unsafeRaw: ")")
        }
        try await sql.raw(query).run()
    }

    static func insert(_ checkpoints: [Checkpoint], on sql: any SQLDatabase) async throws {
        for checkpoint in checkpoints {
            try await sql.raw("""
                INSERT INTO audit_checkpoints (chain_id, sequence, head_hash, signed_at_ms, key_version, signature)
                VALUES (\(bind: checkpoint.chain), \(bind: checkpoint.sequence), \(bind: checkpoint.headHash),
                        \(bind: checkpoint.signedAtMilliseconds), \(bind: Int64(checkpoint.keyVersion)), \(bind: checkpoint.signature))
                """).run()
        }
    }

    static func swap(_ first: Int64, _ second: Int64, _ chain: UUID, on sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE audit_events SET sequence = -1 WHERE chain_id = \(bind: chain) AND sequence = \(bind: first)").run()
        try await sql.raw("UPDATE audit_events SET sequence = \(bind: first) WHERE chain_id = \(bind: chain) AND sequence = \(bind: second)").run()
        try await sql.raw("UPDATE audit_events SET sequence = \(bind: second) WHERE chain_id = \(bind: chain) AND sequence = -1").run()
    }
}
