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
            let hash = HashChain.hash(sequence: entry.sequence, event: entry.event, previous: previous)
            try await sql.raw("""
                UPDATE audit_events SET action = \(bind: entry.event.action), hash = \(bind: hash)
                WHERE chain_id = \(bind: chain) AND sequence = \(bind: entry.sequence)
                """).run()
            previous = hash
        }
        try await sql.raw("UPDATE audit_heads SET head_hash = \(bind: previous) WHERE chain_id = \(bind: chain)").run()
    }
}
