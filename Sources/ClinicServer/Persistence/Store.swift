import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Dispatch
import Foundation
import SQLKit
import Logging
import NIOConcurrencyHelpers

/// Which database engine is behind the store; the few places SQL differs ask this.
public enum DatabaseKind: String, Sendable { case sqlite, postgres }

/// The only door to tenant rows. Every unit of work is one transaction that names its realm
/// (a clinic, or the identity realm); on PostgreSQL the realm is set transaction-locally with
/// `set_config(..., true)` and row-level security admits only that realm's rows.
public struct Store: Sendable {
    private let databases: Databases
    private let logger: Logger
    public let kind: DatabaseKind
    /// When ledger appends sign a checkpoint, and with which key.
    let checkpointing: AuditCheckpointing

    /// SQLite's one connection (see `database`).
    private let sqliteLoop: (any EventLoop)?
    /// SQLite: whether the connection's pragmas are set.
    private let sqliteTuned = NIOLockedValueBox(false)
    /// PostgreSQL: the tables' owner's connection, when configured (to migrate and to purge the ledger).
    private let owner: DatabaseID?

    init(databases: Databases, kind: DatabaseKind, logger: Logger, checkpointing: AuditCheckpointing, owner: DatabaseID? = nil) {
        self.databases = databases
        self.owner = owner
        self.checkpointing = checkpointing
        self.kind = kind
        self.logger = logger
        self.sqliteLoop = kind == .sqlite ? databases.eventLoopGroup.next() : nil
    }

    /// PostgreSQL: any event loop's pool, so work spreads over every loop's connections.
    /// SQLite: always the same loop's single connection. SQLite has one writer at a time, and
    /// the driver retries a busy database on a blocking-I/O thread without limit: with a second
    /// connection, a writer waiting for the lock can hold the thread the lock's holder needs to
    /// finish (seen as a deadlock under parallel tests). One connection queues work instead.
    var database: any Database {
        databases.database(logger: logger, on: sqliteLoop ?? databases.eventLoopGroup.any())!
    }

    /// Runs `body` in one transaction scoped to `realm`.
    func transaction<T: Sendable>(realm: UUID, _ body: @escaping @Sendable (ScopedSQL) async throws -> T) async throws -> T {
        let asked = DispatchTime.now().uptimeNanoseconds
        Metric.unitStarted("write")
        defer { Metric.unitEnded("write") }
        switch kind {
        case .postgres:
            return try await database.transaction { db in
                let scoped = ScopedSQL(sql: db as! any SQLDatabase, kind: .postgres, checkpointing: checkpointing)
                try await scoped.enter(realm: realm)
                Metric.unitWaited("write", nanoseconds: Self.since(asked))
                return try await body(scoped)
            }
        case .sqlite:
            return try await database.withConnection { db in
                let sql = db as! any SQLDatabase
                // synchronous=NORMAL is safe in WAL mode (no corruption, at worst the last commits
                // before a power cut are lost) and removes an fsync per commit. It belongs to the
                // connection, so once is enough; should the pool ever open a new connection, that
                // one keeps SQLite's default (FULL): slower, never less safe.
                // A 32 MiB page cache instead of SQLite's 2 MiB: the one connection serves every
                // request, and sums over a year of a clinic (the practice's figures) read far more.
                if sqliteTuned.withLockedValue({ tuned in defer { tuned = true }; return !tuned }) {
                    try await sql.raw("PRAGMA synchronous = NORMAL").run()
                    try await sql.raw("PRAGMA cache_size = -32768").run()
                }
                // IMMEDIATE takes the write lock up front: a reading transaction that later
                // appends to the ledger can never fail with a stale snapshot.
                try await sql.raw("BEGIN IMMEDIATE").run()
                Metric.unitWaited("write", nanoseconds: Self.since(asked))
                do {
                    let result = try await body(ScopedSQL(sql: sql, kind: .sqlite, checkpointing: checkpointing))
                    try await sql.raw("COMMIT").run()
                    return result
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
            }
        }
    }

    private static func since(_ start: UInt64) -> Int64 { Int64(DispatchTime.now().uptimeNanoseconds &- start) }

    /// A read scoped to `realm` with no write lock: on PostgreSQL a transaction that sets the
    /// realm (row-level security shows nothing without one); on SQLite, where there is no
    /// row-level security, the statements run as they are, with no `BEGIN IMMEDIATE`.
    func read<T: Sendable>(realm: UUID, _ body: @escaping @Sendable (ScopedSQL) async throws -> T) async throws -> T {
        switch kind {
        case .postgres: return try await transaction(realm: realm, body)
        case .sqlite:
            Metric.unitStarted("read")
            defer { Metric.unitEnded("read") }
            return try await body(ScopedSQL(sql: global, kind: .sqlite, checkpointing: checkpointing))
        }
    }

    /// Runs `body` in one transaction as the tables' owner, scoped to `realm`: the only way to
    /// remove ledger entries past retention, which the server's own role may not delete. SQLite
    /// has one user; its triggers are the whole guard there.
    func ownerTransaction<T: Sendable>(realm: UUID, _ body: @escaping @Sendable (ScopedSQL) async throws -> T) async throws -> T {
        guard kind == .postgres else { return try await transaction(realm: realm, body) }
        guard let owner, let database = databases.database(owner, logger: logger, on: databases.eventLoopGroup.any()) else {
            throw OwnerRoleMissing()
        }
        return try await database.transaction { db in
            let scoped = ScopedSQL(sql: db as! any SQLDatabase, kind: .postgres, checkpointing: checkpointing)
            try await scoped.enter(realm: realm)
            return try await body(scoped)
        }
    }

    /// Statements on global (non-tenant) tables that need no realm: clinics' names, memberships, sessions.
    var global: any SQLDatabase { database as! any SQLDatabase }
}

struct OwnerRoleMissing: Error, CustomStringConvertible {
    var description: String { "this needs the tables' owner: set CLINICKEEP_MIGRATION_DATABASE_URL to the owner's role" }
}

/// A transaction's SQL, scoped to one realm at a time.
struct ScopedSQL: Sendable {
    let sql: any SQLDatabase
    let kind: DatabaseKind
    let checkpointing: AuditCheckpointing

    /// Switches the realm for the rest of the transaction (sign-up creates a person in the
    /// identity realm, then the clinic, in one transaction).
    func enter(realm: UUID) async throws {
        guard kind == .postgres else { return }
        try await sql.raw("SELECT set_config('clinickeep.realm', \(bind: realm.uuidString.lowercased()), true)").run()
    }
}

/// Milliseconds since 1970: the one time representation stored, identical on both databases.
extension Date {
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded(.down)) }
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}
