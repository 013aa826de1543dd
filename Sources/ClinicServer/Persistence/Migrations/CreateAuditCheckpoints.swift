import Fluent
import SQLKit

/// Signed checkpoints of every chain, the key that signs them, and an append-only ledger.
///
/// `audit_signing_keys` is global: one Ed25519 key per installation (versioned), stored wrapped
/// by the key provider like a clinic's data keys, with its public half beside it. Checkpoints
/// belong to their chain's realm. The head row remembers when its chain was last checkpointed,
/// so an append knows without another query whether a checkpoint is due.
struct CreateAuditCheckpoints: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("audit_checkpoints", "chain_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE audit_signing_keys (
                version \(t.int64) PRIMARY KEY,
                public_key \(t.bytes) NOT NULL,
                wrapped_key \(t.bytes) NOT NULL,
                kek_id \(t.text) NOT NULL,
                created_at_ms \(t.int64) NOT NULL
            )
            """,
            """
            CREATE TABLE audit_checkpoints (
                chain_id \(t.uuid) NOT NULL,
                sequence \(t.int64) NOT NULL,
                head_hash \(t.bytes) NOT NULL,
                signed_at_ms \(t.int64) NOT NULL,
                key_version \(t.int64) NOT NULL,
                signature \(t.bytes) NOT NULL,
                PRIMARY KEY (chain_id, sequence)
            )
            """,
            "ALTER TABLE audit_heads ADD COLUMN checkpoint_sequence \(t.int64) NOT NULL DEFAULT 0",
            "ALTER TABLE audit_heads ADD COLUMN checkpoint_at_ms \(t.int64) NOT NULL DEFAULT 0",
        ])
        try await sql.execute(Self.appendOnlyTriggers(kind: sql.kind))
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    /// Tables whose rows are never changed or removed once written.
    static let appendOnlyTables = ["audit_events", "audit_checkpoints", "audit_signing_keys"]

    /// Triggers that refuse UPDATE and DELETE on the ledger, for every role, the owner included
    /// (on PostgreSQL the server's role has no such privilege either). Someone who owns the
    /// database can still drop a trigger; the hash chain and the signed checkpoints catch what
    /// they do next.
    static func appendOnlyTriggers(kind: DatabaseKind) -> [String] {
        appendOnlyTables.flatMap { table -> [String] in
            switch kind {
            case .sqlite:
                let refuse = "SELECT RAISE(ABORT, 'clinickeep: the audit ledger is append-only')"
                return ["CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) BEGIN \(refuse); END",
                        "CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) BEGIN \(refuse); END"]
            case .postgres:
                // clinickeep_refuse_change() comes with CreateClinicalRecords.
                return ["CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_change()"]
            }
        }
    }

    /// Names of those triggers, so a test can act as someone who drops them.
    static func appendOnlyTriggerNames(kind: DatabaseKind) -> [String] {
        appendOnlyTables.flatMap { table in kind == .sqlite ? ["\(table)_no_update", "\(table)_no_delete"] : ["\(table)_append_only"] }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        for table in Self.appendOnlyTables {
            for name in Self.appendOnlyTriggerNames(kind: sql.kind) where name.hasPrefix(table) {
                try await sql.raw("DROP TRIGGER \(unsafeRaw: name)\(unsafeRaw: sql.kind == .postgres ? " ON " + table : "")").run()
            }
        }
        try await sql.execute(["DROP TABLE audit_checkpoints", "DROP TABLE audit_signing_keys",
                               "ALTER TABLE audit_heads DROP COLUMN checkpoint_at_ms", "ALTER TABLE audit_heads DROP COLUMN checkpoint_sequence"])
    }
}
