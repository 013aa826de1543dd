import AuditLedger
import Foundation
import SQLKit
import Vapor

/// What the audit ledger costs: an append (claim the chain's head, hash, insert, move the head,
/// sign a checkpoint every N) against a plain insert of the same row into a table of the same
/// shape and the same row-level security, each in its own transaction, measured in the same run
/// on the same database; and how fast `audit verify` recomputes chains.
public enum LedgerBenchmark {
    public struct Figure: Sendable, Codable {
        public let writers: Int
        public let clinics: Int
        public let plainPerSecond: Double
        public let appendPerSecond: Double
        public var appendOverPlain: Double { appendPerSecond / plainPerSecond }
    }

    public struct Report: Sendable, Codable {
        public let database: String
        public let secondsPerFigure: Double
        public var figures: [Figure] = []
        public var verifiedEntries: Int64 = 0
        public var verifyPerSecond: Double = 0
    }

    /// Migrations and startup speak at info; a measurement's output is its table. Call once, first.
    public static func quietLogging() {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
    }

    /// The configurations the audit-ledger issue asks for: (writers, clinics).
    public static let configurations = [(1, 1), (32, 1), (32, 32)]

    public static func run(settings: ServerSettings, seconds: Double, progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        let app = try await Application.make(.production)
        do {
            let report = try await measure(app, settings: settings, seconds: seconds, progress: progress)
            try await app.asyncShutdown()
            return report
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    private static func measure(_ app: Application, settings: ServerSettings, seconds: Double,
                                progress: @escaping @Sendable (String) -> Void) async throws -> Report {
        try await ClinicKeepApp.configure(app, settings: settings, migrate: true)
        let store = app.clinicServices.store
        try await createPlainTable(store: store, serverRole: settings.databaseURL.flatMap { URLComponents(string: $0)?.user })
        var report = Report(database: store.kind.rawValue, secondsPerFigure: seconds)
        var chains: [UUID] = []
        for (writers, clinicCount) in configurations {
            let clinics = (0..<clinicCount).map { _ in UUID() }
            chains += clinics
            let measurePlain = {
                try await rate(writers: writers, clinics: clinics, seconds: seconds) { clinic, writer, n in
                    try await store.transaction(realm: clinic) { tx in try await insertPlain(event(clinic), sequence: Int64(writer) << 32 | n, in: tx) }
                }
            }
            let measureAppend = {
                try await rate(writers: writers, clinics: clinics, seconds: seconds) { clinic, _, _ in
                    try await store.transaction(realm: clinic) { tx in try await Ledger.append(event(clinic), in: tx) }
                }
            }
            // Alternate which goes first, so the tables' growth does not weigh on one side only.
            let plain, append: Double
            if report.figures.count % 2 == 0 {
                plain = try await measurePlain()
                append = try await measureAppend()
            } else {
                append = try await measureAppend()
                plain = try await measurePlain()
            }
            let figure = Figure(writers: writers, clinics: clinicCount, plainPerSecond: plain, appendPerSecond: append)
            progress(String(format: "%@: %d writers, %d clinics: plain insert %.0f/s, ledger append %.0f/s (%.2fx)",
                            store.kind.rawValue, writers, clinicCount, plain, append, figure.appendOverPlain))
            report.figures.append(figure)
        }
        let verification = LedgerVerification(store: store)
        let started = ContinuousClock.now
        for chain in chains {
            let result = try await verification.run(only: chain)
            if let fault = result.fault { throw BenchmarkFailure("the benchmark's own ledger failed verification: \(fault)") }
            report.verifiedEntries += result.totalEntries
        }
        report.verifyPerSecond = Double(report.verifiedEntries) / Self.seconds(of: started.duration(to: .now))
        progress(String(format: "%@: verify %lld entries at %.0f entries/s", store.kind.rawValue, report.verifiedEntries, report.verifyPerSecond))
        return report
    }

    /// Operations per second of `writers` concurrent loops, writer i working on clinic i mod n.
    private static func rate(writers: Int, clinics: [UUID], seconds: Double,
                             _ operation: @escaping @Sendable (UUID, Int, Int64) async throws -> Void) async throws -> Double {
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int64(seconds * 1000))
        let total = try await withThrowingTaskGroup(of: Int64.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var done: Int64 = 0
                    while ContinuousClock.now < deadline {
                        try await operation(clinics[writer % clinics.count], writer, done)
                        done += 1
                    }
                    return done
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / Self.seconds(of: started.duration(to: .now))
    }

    private static func seconds(of duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// A read of a patient, as the ledger records one: ids and fixed words.
    private static func event(_ clinic: UUID) -> AuditEvent {
        AuditEvent(chain: clinic, actor: UUID(), action: "patient.read", resourceType: "patient", resource: UUID(), outcome: .success,
                   address: "127.0.0.1", requestID: "bench-0123456789abcdef")
    }

    /// The same columns, key and realm policy as `audit_events`, none of the chain.
    private static func createPlainTable(store: Store, serverRole: String?) async throws {
        try await store.ownerTransaction(realm: UUID()) { tx in
            let t = tx.sql.types
            try await tx.sql.raw("""
                CREATE TABLE bench_plain_events (
                    chain_id \(unsafeRaw: t.uuid) NOT NULL, sequence \(unsafeRaw: t.int64) NOT NULL, occurred_at_ms \(unsafeRaw: t.int64) NOT NULL,
                    actor_id \(unsafeRaw: t.uuid), action \(unsafeRaw: t.text) NOT NULL, resource_type \(unsafeRaw: t.text), resource_id \(unsafeRaw: t.uuid),
                    outcome \(unsafeRaw: t.text) NOT NULL, address \(unsafeRaw: t.text), request_id \(unsafeRaw: t.text), detail \(unsafeRaw: t.text),
                    hash \(unsafeRaw: t.bytes) NOT NULL, PRIMARY KEY (chain_id, sequence)
                )
                """).run()
            // The same secondary indexes as audit_events (CreateTenantTables), so both sides pay for them.
            try await tx.sql.raw("CREATE INDEX bench_plain_by_resource ON bench_plain_events (chain_id, resource_id)").run()
            try await tx.sql.raw("CREATE INDEX bench_plain_by_actor ON bench_plain_events (chain_id, actor_id, occurred_at_ms)").run()
            try await RowLevelSecurity.enable([("bench_plain_events", "chain_id")], on: tx.sql)
            if tx.kind == .postgres, let role = serverRole?.removingPercentEncoding {
                let quoted = "\"" + role.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                try await tx.sql.raw("GRANT SELECT, INSERT ON bench_plain_events TO \(unsafeRaw: quoted)").run()
            }
        }
    }

    private static func insertPlain(_ event: AuditEvent, sequence: Int64, in tx: ScopedSQL) async throws {
        try await tx.sql.raw("""
            INSERT INTO bench_plain_events (chain_id, sequence, occurred_at_ms, actor_id, action, resource_type, resource_id, outcome, address, request_id, detail, hash)
            VALUES (\(bind: event.chain), \(bind: sequence), \(bind: event.occurredAtMilliseconds), \(bind: event.actor), \(bind: event.action),
                    \(bind: event.resourceType), \(bind: event.resource), \(bind: event.outcome.rawValue), \(bind: event.address),
                    \(bind: event.requestID), \(bind: event.detail), \(bind: HashChain.genesis))
            """).run()
    }
}

public struct BenchmarkFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
