import Fluent
import SQLKit

/// Retention of the audit ledger: signed cuts, and the one kind of removal the ledger allows.
///
/// `audit_retention_cuts` holds each purge's signed cut (append-only, read-only to the server's
/// role). The delete trigger on `audit_events` is replaced by one that admits removing an entry
/// only when a cut at or beyond it exists; update stays refused. The trigger cannot check the
/// cut's signature; `audit verify` does, so a cut row forged to allow a deletion is caught.
struct CreateAuditRetention: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("audit_retention_cuts", "chain_id")]

    func prepare(on database: any Database) async throws {
        // One transaction: a failure half-way must never leave the ledger without its delete guard.
        try await database.transaction { database in try await prepareInTransaction(database as! any SQLDatabase) }
    }

    private func prepareInTransaction(_ sql: any SQLDatabase) async throws {
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE audit_retention_cuts (
                chain_id \(t.uuid) NOT NULL,
                sequence \(t.int64) NOT NULL,
                head_hash \(t.bytes) NOT NULL,
                older_than_ms \(t.int64) NOT NULL,
                signed_at_ms \(t.int64) NOT NULL,
                key_version \(t.int64) NOT NULL,
                signature \(t.bytes) NOT NULL,
                PRIMARY KEY (chain_id, sequence)
            )
            """,
        ])
        switch sql.kind {
        case .sqlite:
            try await sql.raw("DROP TRIGGER audit_events_no_delete").run()
        case .postgres:
            try await sql.execute([
                "DROP TRIGGER audit_events_append_only ON audit_events",
                """
                CREATE FUNCTION clinickeep_refuse_unpurged_delete() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM audit_retention_cuts c WHERE c.chain_id = OLD.chain_id AND c.sequence >= OLD.sequence) THEN
                        RAISE EXCEPTION 'clinickeep: the audit ledger is append-only; only entries behind a signed retention cut may be removed';
                    END IF;
                    RETURN OLD;
                END
                $$
                """,
            ])
        }
        try await sql.execute(Self.createdHere(kind: sql.kind).map(\.create))
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    /// Every trigger that keeps the ledger append-only once this migration has run, so a test can
    /// act as someone who switches them off (`table` for PostgreSQL's ALTER TABLE ... DISABLE).
    static func triggers(kind: DatabaseKind) -> [(table: String, name: String, create: String)] {
        let appendOnly = ["audit_checkpoints", "audit_signing_keys", "audit_retention_cuts"]
        switch kind {
        case .sqlite:
            let refuse = "SELECT RAISE(ABORT, 'clinickeep: the audit ledger is append-only')"
            let refuseUnpurged = "SELECT RAISE(ABORT, 'clinickeep: the audit ledger is append-only; only entries behind a signed retention cut may be removed')"
            var all: [(table: String, name: String, create: String)] = appendOnly.flatMap { table in
                [(table, "\(table)_no_update", "CREATE TRIGGER \(table)_no_update BEFORE UPDATE ON \(table) BEGIN \(refuse); END"),
                 (table, "\(table)_no_delete", "CREATE TRIGGER \(table)_no_delete BEFORE DELETE ON \(table) BEGIN \(refuse); END")]
            }
            all.append(("audit_events", "audit_events_no_update", "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events BEGIN \(refuse); END"))
            all.append(("audit_events", "audit_events_no_delete", """
                CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
                WHEN NOT EXISTS (SELECT 1 FROM audit_retention_cuts c WHERE c.chain_id = OLD.chain_id AND c.sequence >= OLD.sequence)
                BEGIN \(refuseUnpurged); END
                """))
            return all
        case .postgres:
            // audit_events first: the order appends take their locks in, so a test switching the
            // triggers off while other work runs waits for it instead of deadlocking with it.
            var all: [(table: String, name: String, create: String)] = [
                ("audit_events", "audit_events_append_only",
                 "CREATE TRIGGER audit_events_append_only BEFORE UPDATE ON audit_events FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_change()"),
                ("audit_events", "audit_events_retention_only",
                 "CREATE TRIGGER audit_events_retention_only BEFORE DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_unpurged_delete()"),
            ]
            all += appendOnly.map { table in
                (table, "\(table)_append_only",
                 "CREATE TRIGGER \(table)_append_only BEFORE UPDATE OR DELETE ON \(table) FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_change()")
            }
            return all
        }
    }

    /// Triggers this migration created (the others came with `CreateAuditCheckpoints`).
    private static func createdHere(kind: DatabaseKind) -> [(table: String, name: String, create: String)] {
        triggers(kind: kind).filter { trigger in
            trigger.table == "audit_retention_cuts" || trigger.name == "audit_events_no_delete" || (trigger.table == "audit_events" && kind == .postgres)
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        for trigger in Self.createdHere(kind: sql.kind) {
            try await sql.raw("DROP TRIGGER \(unsafeRaw: trigger.name)\(unsafeRaw: sql.kind == .postgres ? " ON " + trigger.table : "")").run()
        }
        try await sql.raw("DROP TABLE audit_retention_cuts").run()
        if sql.kind == .postgres { try await sql.raw("DROP FUNCTION clinickeep_refuse_unpurged_delete()").run() }
        // Back to the delete guard CreateAuditCheckpoints made.
        try await sql.execute(CreateAuditCheckpoints.appendOnlyTriggers(kind: sql.kind).filter { $0.contains("DELETE ON audit_events ") })
    }
}
