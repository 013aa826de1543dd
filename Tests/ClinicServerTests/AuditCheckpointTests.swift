import AuditLedger
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor
@testable import ClinicServer

/// Signed checkpoints, their export, and a ledger no role may change.
@Suite("Audit checkpoints")
struct AuditCheckpointTests {
    /// A clinic whose chain has `reads + 3` entries: clinic, membership, patient, then the reads.
    func activity(_ app: ClinicTestApp, reads: Int) async throws -> (owner: TestSession, chain: UUID) {
        let owner = try await app.signUpClinic()
        let (id, _) = try await app.createPatient(owner)
        for _ in 0..<reads { _ = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", as: owner) }
        return (owner, UUID(uuidString: owner.clinicID)!)
    }

    func checkpointSequences(_ app: ClinicTestApp, _ chain: UUID) async throws -> [Int64] {
        try await app.services.store.transaction(realm: chain) { tx in
            try await LedgerVerification.checkpoints(of: chain, in: tx).map(\.sequence)
        }
    }

    // PRX-8, POR-8
    @Test("appends sign a checkpoint every N events of the chain", arguments: TestDatabase.allCases)
    func everyNEvents(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 4 }) { app in
            let (owner, chain) = try await activity(app, reads: 6)
            #expect(try await checkpointSequences(app, chain) == [4, 8])
            #expect(try await app.verifyLedger(clinic: owner.clinicID).fault == nil)
        }
    }

    @Test("the sweep leaves a chain alone until its interval has passed; an export checkpoints every head at once",
          arguments: TestDatabase.allCases)
    func sweepAndForce(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointInterval = 3600 }) { app in
            let (_, chain) = try await activity(app, reads: 2)
            let store = app.services.store
            #expect(try await store.checkpointing.checkpointHead(of: chain, store: store, force: false) == false)
            #expect(try await store.checkpointing.checkpointHead(of: chain, store: store, force: true))
            #expect(try await checkpointSequences(app, chain) == [5])
            // Nothing new since: no second checkpoint of the same head.
            #expect(try await store.checkpointing.checkpointHead(of: chain, store: store, force: true) == false)
        }
    }

    // PRX-8: a rewrite that recomputes every hash and the head passes the chain check alone
    @Test("a chain rewritten with every hash recomputed is caught by the signed checkpoint after it", arguments: TestDatabase.allCases)
    func consistentRewriteCaught(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 6 }) { app in
            let (owner, chain) = try await activity(app, reads: 5)
            try await app.asTamperer(realm: owner.clinicID) { sql in
                try await Rewrite.from(sequence: 4, chain: chain, on: sql) { $0.action = "patient.list" }
            }
            let fault = try #require(try await app.verifyLedger(clinic: owner.clinicID).fault)
            #expect(fault.reason == .checkpointMismatch)
            #expect(fault.sequence == 6)
        }
    }

    /// What someone with the server's database credentials (and not its key provider) can
    /// write: an event after the head, linked as well as they can, with the head moved to it.
    func forgeRead(_ app: ClinicTestApp, chain: UUID, key: ChainKey?) async throws -> Int64 {
        try await app.services.store.transaction(realm: chain) { tx in
            let head = try await tx.sql.raw("SELECT sequence, head_hash FROM audit_heads WHERE chain_id = \(bind: chain)").first()!
            let sequence = try head.decode(column: "sequence", as: Int64.self) + 1
            let event = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSinceNow: -86_400 * 30), actor: UUID(), action: "patient.read",
                                   resourceType: "patient", resource: UUID(), outcome: .success)
            let hash = HashChain.hash(sequence: sequence, event: event, previous: try head.decode(column: "head_hash", as: Data.self), key: key)
            try await tx.sql.raw("""
                INSERT INTO audit_events (\(unsafeRaw: Ledger.entryColumns))
                VALUES (\(bind: chain), \(bind: sequence), \(bind: event.occurredAtMilliseconds), \(bind: event.actor), \(bind: event.action),
                        \(bind: event.resourceType), \(bind: event.resource), \(bind: event.outcome.rawValue), NULL, NULL, NULL, \(bind: hash),
                        \(bind: key.map { Int64($0.version) }))
                """).run()
            try await tx.sql.raw("UPDATE audit_heads SET sequence = \(bind: sequence), head_hash = \(bind: hash) WHERE chain_id = \(bind: chain)").run()
            return sequence
        }
    }

    // Security review round 2, A14 (HIGH): a database writer appended a backdated read and the
    // next checkpoint (or an export) signed it. Now the chain is keyed and a checkpoint is only
    // signed over entries that verify.
    @Test("a backdated event forged by a database writer is never signed and verify names it", arguments: TestDatabase.allCases)
    func forgedEventNeverSigned(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointInterval = 3600 }) { app in
            let (owner, chain) = try await activity(app, reads: 2)
            let store = app.services.store
            let before = try await checkpointSequences(app, chain)
            let forged = try await forgeRead(app, chain: chain, key: nil)
            let refusal = await #expect(throws: ChainFault.self) { try await store.checkpointing.checkpointHead(of: chain, store: store, force: true) }
            #expect(refusal?.reason == .unkeyedEntry)
            #expect(refusal?.sequence == forged)
            #expect(try await checkpointSequences(app, chain) == before)
            let fault = try #require(try await app.verifyLedger(clinic: owner.clinicID).fault)
            #expect(fault.reason == .unkeyedEntry)
            #expect(fault.sequence == forged)
            // The server keeps working, and signs nothing over the forged entry.
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients", as: owner).status == .ok)
            #expect(try await checkpointSequences(app, chain) == before)
        }
    }

    @Test("a ledger written before chains were keyed is keyed once on start, and an unkeyed entry after that is caught", arguments: TestDatabase.allCases)
    func legacyChainKeyedOnce(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointInterval = 3600 }) { app in
            let (owner, chain) = try await activity(app, reads: 2)
            // As the previous version wrote it: plain SHA-256 links, no key version, no checkpoint yet.
            try await app.asTamperer(realm: owner.clinicID) { sql in try await Rewrite.from(sequence: 1, chain: chain, on: sql) { _ in } }
            let store = app.services.store
            try await store.checkpointing.keyLegacyChains(store: store)
            #expect(try await app.verifyLedger(clinic: owner.clinicID).fault == nil)
            let keyedAt = try #require(try await checkpointSequences(app, chain).last)
            let forged = try await forgeRead(app, chain: chain, key: nil)
            #expect(forged == keyedAt + 1)
            try await store.checkpointing.keyLegacyChains(store: store)
            #expect(try await checkpointSequences(app, chain).last == keyedAt)
            let fault = try #require(try await app.verifyLedger(clinic: owner.clinicID).fault)
            #expect(fault.reason == .unkeyedEntry)
            #expect(fault.sequence == forged)
        }
    }

    // Security review round 2, A19: chains were listed from `clinics` alone.
    @Test("a chain with no clinic row is still listed for verification", arguments: TestDatabase.allCases)
    func chainWithoutClinicListed(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let store = app.services.store
            let orphan = UUID()
            try await store.transaction(realm: orphan) { tx in
                for _ in 0..<3 { try await Ledger.append(AuditEvent(chain: orphan, actor: nil, action: "patient.read", outcome: .success), in: tx) }
            }
            #expect(try await LedgerVerification.chainIDs(store: store).contains(orphan))
        }
    }

    @Test("an event linked under a guessed key fails the MAC and is never signed", arguments: TestDatabase.allCases)
    func guessedKeyNeverSigned(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointInterval = 3600 }) { app in
            let (owner, chain) = try await activity(app, reads: 2)
            let store = app.services.store
            let guess = ChainKey(version: try store.checkpointing.currentChainKey().version, rawKey: Data(repeating: 1, count: 32))
            let forged = try await forgeRead(app, chain: chain, key: guess)
            let refusal = await #expect(throws: ChainFault.self) { try await store.checkpointing.checkpointHead(of: chain, store: store, force: true) }
            #expect(refusal?.reason == .hashMismatch)
            #expect(refusal?.sequence == forged)
            let fault = try #require(try await app.verifyLedger(clinic: owner.clinicID).fault)
            #expect(fault.reason == .hashMismatch)
            #expect(fault.sequence == forged)
        }
    }

    @Test("a replaced checkpoint signature is caught and named", arguments: TestDatabase.allCases)
    func signatureReplaced(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 3 }) { app in
            let (owner, chain) = try await activity(app, reads: 4)
            try await app.asTamperer(realm: owner.clinicID) { sql in
                let other = try await sql.raw("SELECT signature FROM audit_checkpoints WHERE chain_id = \(bind: chain) AND sequence = 6").first()!
                    .decode(column: "signature", as: Data.self)
                try await sql.raw("UPDATE audit_checkpoints SET signature = \(bind: other) WHERE chain_id = \(bind: chain) AND sequence = 3").run()
            }
            let fault = try #require(try await app.verifyLedger(clinic: owner.clinicID).fault)
            #expect(fault.reason == .checkpointSignature)
            #expect(fault.sequence == 3)
        }
    }

    // PRX-8, POR-8: checkpoints kept elsewhere catch what the database alone cannot
    @Test("a ledger cut back after an export verifies alone but not against the export", arguments: TestDatabase.allCases)
    func truncationAfterExportCaught(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointInterval = 3600 }) { app in
            let (owner, chain) = try await activity(app, reads: 4)
            let store = app.services.store
            try await store.checkpointing.checkpointHead(of: chain, store: store, force: true)
            let checkpoints = try await store.transaction(realm: chain) { tx in try await LedgerVerification.checkpoints(of: chain, in: tx) }
            let export = CheckpointExport(exportedAtMs: 0, keys: store.checkpointing.keys, checkpoints: checkpoints)
            // Entries 6 and 7 removed, the head and checkpoints made to agree: nothing left inside disagrees.
            try await app.asTamperer(realm: owner.clinicID) { sql in
                try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence > 5").run()
                try await sql.raw("DELETE FROM audit_checkpoints WHERE chain_id = \(bind: chain)").run()
                let hash = try await sql.raw("SELECT hash FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = 5").first()!
                    .decode(column: "hash", as: Data.self)
                try await sql.raw("UPDATE audit_heads SET sequence = 5, head_hash = \(bind: hash) WHERE chain_id = \(bind: chain)").run()
            }
            #expect(try await app.verifyLedger(clinic: owner.clinicID).fault == nil)
            let fault = try #require(try await LedgerVerification(store: store).run(only: chain, exported: try CheckpointExport.decode(export.encoded())).fault)
            #expect(fault.reason == .exportedCheckpointBeyondChain)
            #expect(fault.sequence == 6)
        }
    }

    // PRX-8: append-only for every role
    @Test("the tables' owner cannot update or delete ledger entries or checkpoints", arguments: TestDatabase.allCases)
    func ownerRefused(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 2 }) { app in
            let (owner, chain) = try await activity(app, reads: 1)
            for statement in ["UPDATE audit_events SET action = 'x' WHERE chain_id = ", "DELETE FROM audit_events WHERE chain_id = ",
                              "UPDATE audit_checkpoints SET signature = signature WHERE chain_id = ",
                              "DELETE FROM audit_checkpoints WHERE chain_id = ", "DELETE FROM audit_signing_keys WHERE version > "] {
                let refusal = await #expect(throws: (any Error).self, "\(statement)") {
                    try await app.asOwner(realm: owner.clinicID) { sql in
                        var query = SQLQueryString(statement)
                        if statement.hasSuffix("version > ") { query.appendInterpolation(bind: Int64(0)) } else { query.appendInterpolation(bind: chain) }
                        try await sql.raw(query).run()
                    }
                }
                // The trigger refused it, not something else.
                #expect(String(reflecting: refusal).contains("clinickeep:"), "\(statement): \(String(reflecting: refusal))")
            }
            #expect(try await app.verifyLedger(clinic: owner.clinicID).fault == nil)
        }
    }

    // PRX-8: the server's role may only insert and read the ledger
    @Test("the server's PostgreSQL role cannot update or delete the ledger, even with its realm set")
    func serverRoleRefused() async throws {
        try await ClinicTestApp.with(.postgres) { app in
            let (_, chain) = try await activity(app, reads: 1)
            for statement in ["UPDATE audit_events SET action = 'x' WHERE chain_id = ", "DELETE FROM audit_events WHERE chain_id = ",
                              "DELETE FROM audit_checkpoints WHERE chain_id = "] {
                let refusal = await #expect(throws: (any Error).self, "\(statement)") {
                    try await app.services.store.transaction(realm: chain) { tx in
                        var sql = SQLQueryString(statement)
                        sql.appendInterpolation(bind: chain)
                        try await tx.sql.raw(sql).run()
                    }
                }
                #expect(String(reflecting: refusal).contains("permission denied"), "\(statement): \(String(reflecting: refusal))")
            }
        }
    }
}

/// What someone with write access and no signing key can do: change an entry and recompute
/// every hash after it, and the head, so the chain alone still verifies.
enum Rewrite {
    static func from(sequence: Int64, chain: UUID, on sql: any SQLDatabase, change: (inout AuditEvent) -> Void) async throws {
        let rows = try await sql.raw("""
            SELECT \(unsafeRaw: Ledger.entryColumns) FROM audit_events WHERE chain_id = \(bind: chain) AND sequence >= \(bind: sequence - 1) ORDER BY sequence
            """).all().map(Ledger.entry(from:))
        var previous = sequence == 1 ? HashChain.genesis : rows[0].hash
        for var entry in rows where entry.sequence >= sequence {
            if entry.sequence == sequence { change(&entry.event) }
            // Without the chain key the best a writer can do is a plain SHA-256 link.
            let hash = HashChain.hash(sequence: entry.sequence, event: entry.event, previous: previous, key: nil)
            try await sql.raw("""
                UPDATE audit_events SET action = \(bind: entry.event.action), hash = \(bind: hash), key_version = NULL
                WHERE chain_id = \(bind: chain) AND sequence = \(bind: entry.sequence)
                """).run()
            previous = hash
        }
        try await sql.raw("UPDATE audit_heads SET head_hash = \(bind: previous) WHERE chain_id = \(bind: chain)").run()
    }
}
