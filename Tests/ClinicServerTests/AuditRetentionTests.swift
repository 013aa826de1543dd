import AuditLedger
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
@testable import ClinicServer

/// Retention of the audit ledger (PRX-8: kept at least 12 months, default 7 years): a purge
/// removes only what is past retention, behind a signed cut, and the chain still verifies.
@Suite("Audit retention")
struct AuditRetentionTests {
    static let eightYearsAgo = Date().addingTimeInterval(-8 * 365.25 * 86_400)
    static let sevenYears = AuditRetentionPeriod.years(7).boundary(before: Date())

    /// A chain of `old` events from eight years ago followed by `recent` events from now.
    func chain(_ app: ClinicTestApp, old: Int, recent: Int) async throws -> UUID {
        let chain = UUID()
        let times = Array(repeating: Self.eightYearsAgo, count: old) + Array(repeating: Date(), count: recent)
        for (index, time) in times.enumerated() {
            try await app.services.store.transaction(realm: chain) { tx in
                try await Ledger.append(AuditEvent(chain: chain, occurredAt: time.addingTimeInterval(Double(index)), actor: nil,
                                                   action: "patient.read", outcome: .success), in: tx)
            }
        }
        return chain
    }

    func entryHash(_ app: ClinicTestApp, _ chain: UUID, at sequence: Int64) async throws -> Data {
        try await app.services.store.transaction(realm: chain) { tx in
            try await tx.sql.raw("SELECT hash FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = \(bind: sequence)").first()!
                .decode(column: "hash", as: Data.self)
        }
    }

    /// Writes a cut row as the tables' owner can, whatever signed it (or did not).
    func storeCut(_ app: ClinicTestApp, _ chain: UUID, sequence: Int64, hash: Data, keyVersion: UInt32, signature: Data) async throws {
        try await app.asOwner(realm: chain.uuidString.lowercased()) { sql in
            try await sql.raw("""
                INSERT INTO audit_retention_cuts (chain_id, sequence, head_hash, older_than_ms, signed_at_ms, key_version, signature)
                VALUES (\(bind: chain), \(bind: sequence), \(bind: hash), \(bind: Int64(0)), \(bind: Int64(0)), \(bind: Int64(keyVersion)), \(bind: signature))
                """).run()
        }
    }

    func sequences(_ app: ClinicTestApp, _ chain: UUID) async throws -> [Int64] {
        try await app.services.store.transaction(realm: chain) { tx in
            try await tx.sql.raw("SELECT sequence FROM audit_events WHERE chain_id = \(bind: chain) ORDER BY sequence").all()
                .map { try $0.decode(column: "sequence", as: Int64.self) }
        }
    }

    // PRX-8
    @Test("a purge removes only the events past retention and records itself; the chain still verifies, checkpoints and all",
          arguments: TestDatabase.allCases)
    func purgeKeepsChainVerifiable(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 5 }) { app in
            let chain = try await chain(app, old: 10, recent: 3)
            let retention = AuditRetention(store: app.services.store)
            let plan = try await retention.purge(chain: chain, olderThan: Self.sevenYears)
            #expect(plan.through == 10)
            #expect(plan.removable == 10)
            #expect(try await sequences(app, chain) == [11, 12, 13, 14])
            let purge = try await app.services.store.transaction(realm: chain) { tx in
                try await tx.sql.raw("SELECT \(unsafeRaw: Ledger.entryColumns) FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = 14")
                    .first().map(Ledger.entry(from:))
            }
            #expect(purge?.event.action == "audit.purge")
            #expect(purge?.event.detail?.hasPrefix("through=10 removed=10 ") == true)
            // The checkpoint at 10 is checked against the cut; the one at 5 lies behind it.
            let report = try await LedgerVerification(store: app.services.store).run(only: chain)
            #expect(report.fault == nil)
            #expect(report.totalEntries == 4)
            #expect(try await retention.purge(chain: chain, olderThan: Self.sevenYears).removable == 0)
        }
    }

    @Test("a chain with nothing past retention is left whole", arguments: TestDatabase.allCases)
    func nothingPastRetention(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let chain = try await chain(app, old: 0, recent: 3)
            #expect(try await AuditRetention(store: app.services.store).purge(chain: chain, olderThan: Self.sevenYears).removable == 0)
            #expect(try await sequences(app, chain) == [1, 2, 3])
        }
    }

    // PRX-8: a recent event after an old one keeps everything after it, whatever its clock says
    @Test("the cut stops at the first event inside retention", arguments: TestDatabase.allCases)
    func cutStopsAtFirstKept(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 1 }) { app in
            let chain = try await chain(app, old: 2, recent: 1)
            try await app.services.store.transaction(realm: chain) { tx in
                try await Ledger.append(AuditEvent(chain: chain, occurredAt: Self.eightYearsAgo, actor: nil, action: "patient.read", outcome: .success), in: tx)
            }
            #expect(try await AuditRetention(store: app.services.store).plan(chain: chain, olderThan: Self.sevenYears).through == 2)
        }
    }

    // PRX-8: evidence of tampering is never purged away
    @Test("a chain that does not verify is refused, and nothing is removed", arguments: TestDatabase.allCases)
    func tamperedChainNotPurged(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 2 }) { app in
            let chain = try await chain(app, old: 4, recent: 1)
            try await app.asTamperer(realm: chain.uuidString.lowercased()) { sql in
                try await sql.raw("UPDATE audit_events SET action = 'patient.list' WHERE chain_id = \(bind: chain) AND sequence = 2").run()
            }
            await #expect(throws: AuditRetention.Refusal.self) {
                try await AuditRetention(store: app.services.store).purge(chain: chain, olderThan: Self.sevenYears)
            }
            #expect(try await sequences(app, chain) == [1, 2, 3, 4, 5])
        }
    }

    // PRX-8: only the signing key makes a cut; a checkpoint's signature replayed as one is caught
    @Test("entries removed behind a forged cut are caught by verify", arguments: TestDatabase.allCases)
    func forgedCutCaught(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let chain = try await chain(app, old: 0, recent: 6)
            let store = app.services.store
            let hash = try await entryHash(app, chain, at: 4)
            let checkpoint = try store.checkpointing.sign(chain: chain, head: ChainHead(sequence: 4, hash: hash), now: 0)
            try await storeCut(app, chain, sequence: 4, hash: hash, keyVersion: checkpoint.keyVersion, signature: checkpoint.signature)
            // A purge deletes nothing on the word of a cut it cannot verify.
            await #expect(throws: AuditRetention.Refusal.self) {
                try await AuditRetention(store: store).purge(chain: chain, olderThan: Self.sevenYears)
            }
            #expect(try await sequences(app, chain) == [1, 2, 3, 4, 5, 6])
            try await app.asTamperer(realm: chain.uuidString.lowercased()) { sql in
                try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence <= 4").run()
            }
            let fault = try #require(try await LedgerVerification(store: store).run(only: chain).fault)
            #expect(fault.reason == .retentionCutSignature)
            #expect(fault.sequence == 4)
        }
    }

    // PRX-8: the delete trigger admits only what lies behind a cut, for the owner too
    @Test("after a purge, the owner still cannot delete an entry in front of the cut", arguments: TestDatabase.allCases)
    func deleteInFrontOfCutRefused(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 3 }) { app in
            let chain = try await chain(app, old: 3, recent: 2)
            _ = try await AuditRetention(store: app.services.store).purge(chain: chain, olderThan: Self.sevenYears)
            let refusal = await #expect(throws: (any Error).self) {
                try await app.asOwner(realm: chain.uuidString.lowercased()) { sql in
                    try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = 4").run()
                }
            }
            #expect(String(reflecting: refusal).contains("clinickeep:"), "\(String(reflecting: refusal))")
            #expect(try await sequences(app, chain) == [4, 5, 6])
        }
    }

    // PRX-8: only a signed checkpoint vouches for entries a cut seals
    @Test("the cut lands on the last signed checkpoint past retention; with none, nothing is removed", arguments: TestDatabase.allCases)
    func cutAtCheckpoint(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 5 }) { app in
            let covered = try await chain(app, old: 7, recent: 1)
            let retention = AuditRetention(store: app.services.store)
            #expect(try await retention.purge(chain: covered, olderThan: Self.sevenYears).through == 5)
            #expect(try await sequences(app, covered) == [6, 7, 8, 9])
            let uncovered = try await chain(app, old: 4, recent: 1)
            #expect(try await retention.purge(chain: uncovered, olderThan: Self.sevenYears).removable == 0)
            #expect(try await sequences(app, uncovered) == [1, 2, 3, 4, 5])
        }
    }

    // PRX-8: a purge killed between its cut and its deletions
    @Test("entries left behind a cut do not disturb verify, and the next purge deletes them", arguments: TestDatabase.allCases)
    func interruptedPurgeResumes(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.auditCheckpointEvents = 3 }) { app in
            let chain = try await chain(app, old: 4, recent: 1)
            let store = app.services.store
            let hash = try await entryHash(app, chain, at: 3)
            let cut = try store.checkpointing.signCut(chain: chain, through: ChainHead(sequence: 3, hash: hash), olderThan: 0, now: 0)
            try await storeCut(app, chain, sequence: 3, hash: hash, keyVersion: cut.keyVersion, signature: cut.signature)
            let report = try await LedgerVerification(store: store).run(only: chain)
            #expect(report.fault == nil)
            #expect(report.totalEntries == 2)
            #expect(try await AuditRetention(store: store).purge(chain: chain, olderThan: Self.sevenYears).removable == 0)
            #expect(try await sequences(app, chain) == [4, 5])
            #expect(try await LedgerVerification(store: store).run(only: chain).fault == nil)
        }
    }

    // PRX-8: the server's own role never removes ledger entries, even behind a cut
    @Test("the server's PostgreSQL role cannot delete even entries behind a cut")
    func serverRoleCannotPurge() async throws {
        try await ClinicTestApp.with(.postgres) { app in
            let chain = try await chain(app, old: 3, recent: 1)
            let store = app.services.store
            let hash = try await entryHash(app, chain, at: 3)
            let cut = try store.checkpointing.signCut(chain: chain, through: ChainHead(sequence: 3, hash: hash), olderThan: 0, now: 0)
            try await storeCut(app, chain, sequence: 3, hash: hash, keyVersion: cut.keyVersion, signature: cut.signature)
            let refusal = await #expect(throws: (any Error).self) {
                try await store.transaction(realm: chain) { tx in
                    try await tx.sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = 1").run()
                }
            }
            #expect(String(reflecting: refusal).contains("permission denied"), "\(String(reflecting: refusal))")
        }
    }

    // PRX-8: kept at least 12 months
    @Test("the retention period is at least twelve months, seven years by default")
    func retentionSetting() throws {
        #expect(ServerSettings().auditRetention == .years(7))
        #expect(try ServerSettings.fromEnvironment(["CLINICKEEP_AUDIT_RETENTION": "366d"]).auditRetention == .days(366))
        #expect(try ServerSettings.fromEnvironment(["CLINICKEEP_AUDIT_RETENTION": "1y"]).auditRetention == .years(1))
        for refused in ["365d", "0y", "11m", "6mo", "y", "101y", "-1y"] {
            #expect(throws: SettingsError.self, "\(refused)") { try ServerSettings.fromEnvironment(["CLINICKEEP_AUDIT_RETENTION": refused]) }
        }
    }
}
