import Fluent
import Foundation
import SQLKit
@testable import ClinicServer

extension ClinicTestApp {
    /// Runs SQL as the tables' owner inside one realm, as an attacker with database access would
    /// (on PostgreSQL, FORCE ROW LEVEL SECURITY still applies to the owner, so the realm is set).
    public func asOwner<T: Sendable>(realm: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch database {
        case .sqlite:
            return try await body(app.db as! any SQLDatabase)
        case .postgres:
            return try await app.db(ClinicKeepApp.ownerDatabase).transaction { db in
                let sql = db as! any SQLDatabase
                try await sql.raw("SELECT set_config('clinickeep.realm', \(bind: realm), true)").run()
                return try await body(sql)
            }
        }
    }

    /// Runs SQL as someone who owns the database and switches the ledger's append-only triggers
    /// off first, as a determined attacker would (they are back on afterwards).
    public func asTamperer<T: Sendable>(realm: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let triggers = CreateAuditRetention.triggers(kind: database == .sqlite ? .sqlite : .postgres)
        switch database {
        case .sqlite:
            let sql = app.db as! any SQLDatabase
            for trigger in triggers { try await sql.raw("DROP TRIGGER \(unsafeRaw: trigger.name)").run() }
            let result: Result<T, any Error>
            do { result = .success(try await body(sql)) } catch { result = .failure(error) }
            try await sql.execute(triggers.map(\.create))
            return try result.get()
        case .postgres:
            return try await asOwner(realm: realm) { sql in
                for trigger in triggers {
                    try await sql.raw("ALTER TABLE \(unsafeRaw: trigger.table) DISABLE TRIGGER \(unsafeRaw: trigger.name)").run()
                }
                let result = try await body(sql)
                for trigger in triggers {
                    try await sql.raw("ALTER TABLE \(unsafeRaw: trigger.table) ENABLE TRIGGER \(unsafeRaw: trigger.name)").run()
                }
                return result
            }
        }
    }

    /// The server's own connection with no realm set: what a forgotten filter would see.
    public var serverConnectionWithoutRealm: any SQLDatabase { services.store.global }

    /// How many entries a chain has (its head's sequence; 0 before the first).
    public func chainLength(_ chain: UUID) async throws -> Int64 {
        try await services.store.transaction(realm: chain) { tx in
            try await tx.sql.raw("SELECT sequence FROM audit_heads WHERE chain_id = \(bind: chain)").first()?.decode(column: "sequence", as: Int64.self) ?? 0
        }
    }

    /// Verifies the ledger the way `clinickeep audit verify --clinic` does.
    public func verifyLedger(clinic: String) async throws -> LedgerVerification.Report {
        try await LedgerVerification(store: services.store).run(only: UUID(uuidString: clinic)!)
    }
}

extension ClinicTestApp {
    /// Issues the first-run setup token, as `serve` does on a fresh install.
    public func issueSetupToken() async throws -> String? {
        try await SetupLink(services: services).issueIfUnclaimed()
    }
}

extension ClinicTestApp {
    /// The identity chain's actions, oldest first (sign-ins, MFA, lockouts, resets).
    public func identityActions() async throws -> [String] {
        try await asOwner(realm: IdentityRealm.id.uuidString.lowercased()) { sql in
            try await sql.raw("SELECT action FROM audit_events WHERE chain_id = \(bind: IdentityRealm.id) ORDER BY sequence").all()
                .map { try $0.decode(column: "action", as: String.self) }
        }
    }
}
