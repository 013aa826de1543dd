import Fluent
import SQLKit

/// PostgreSQL's second wall: on every tenant table a policy admits only rows of the realm set
/// for the current transaction, and FORCE applies it to the tables' owner too. A query that
/// forgets its filter, or runs with no realm set, sees nothing.
struct EnableRowLevelSecurity: AsyncMigration {
    /// Tenant table and the column that names its realm.
    static let tenantTables: [(table: String, column: String)] = [
        ("realm_keys", "realm_id"),
        ("patients", "clinic_id"),
        ("patient_name_tokens", "clinic_id"),
        ("audit_events", "chain_id"),
        ("audit_heads", "chain_id"),
    ]

    func prepare(on database: any Database) async throws {
        try await RowLevelSecurity.enable(Self.tenantTables, on: database as! any SQLDatabase)
    }

    func revert(on database: any Database) async throws {
        try await RowLevelSecurity.disable(Self.tenantTables, on: database as! any SQLDatabase)
    }
}

/// The policy every tenant table carries on PostgreSQL (SQLite has no such wall).
enum RowLevelSecurity {
    static func enable(_ tables: [(table: String, column: String)], on sql: any SQLDatabase) async throws {
        guard sql.kind == .postgres else { return }
        for (table, column) in tables {
            let realm = "NULLIF(current_setting('clinickeep.realm', true), '')::uuid"
            try await sql.execute([
                "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
                "CREATE POLICY realm_isolation ON \(table) USING (\(column) = \(realm)) WITH CHECK (\(column) = \(realm))",
            ])
        }
    }

    static func disable(_ tables: [(table: String, column: String)], on sql: any SQLDatabase) async throws {
        guard sql.kind == .postgres else { return }
        for (table, _) in tables {
            try await sql.execute(["DROP POLICY realm_isolation ON \(table)", "ALTER TABLE \(table) DISABLE ROW LEVEL SECURITY"])
        }
    }
}

/// What the server's own role may do, granted by the owner at every migrate so it follows the
/// schema: rows of the ordinary tables, and only insert and read on the audit ledger.
enum ServerRoleGrants {
    static func apply(to role: String, on sql: any SQLDatabase) async throws {
        guard sql.kind == .postgres else { return }
        let quoted = "\"" + role.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try await sql.execute([
            "REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(quoted)",
            "GRANT USAGE ON SCHEMA public TO \(quoted)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON clinics, users, memberships, sessions, setup_tokens, invitations, realm_keys, patients, patient_name_tokens, recovery_codes, sign_in_throttles, password_resets, outbox TO \(quoted)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON appointment_types, booking_locks, appointments, consultations, formulas, integration_secrets TO \(quoted)",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON contacts TO \(quoted)",
            // Products are retired (active = false), never removed: invoices will name them.
            "GRANT SELECT, INSERT, UPDATE ON products TO \(quoted)",
            // Invoices are voided, never removed, so their numbers have no holes; payments are
            // only ever added (a refund would be a payment of its own, not an edit).
            "GRANT SELECT, INSERT, UPDATE ON invoices TO \(quoted)",
            "GRANT SELECT, INSERT ON payments TO \(quoted)",
            "GRANT UPDATE (reference) ON payments TO \(quoted)",
            // A practitioner's week is replaced whole.
            "GRANT SELECT, INSERT, DELETE ON working_hours TO \(quoted)",
            // Written once: amendments and prescriptions are only ever added. The one change is
            // `keys reencrypt` sealing a column again under a newer key version: only the sealed
            // columns may be updated, and the triggers admit nothing else (AllowLockedReseal).
            "GRANT SELECT, INSERT ON consultation_amendments, prescriptions TO \(quoted)",
            "GRANT UPDATE (reason, subjective, objective, assessment, plan) ON consultation_amendments TO \(quoted)",
            "GRANT UPDATE (content) ON prescriptions TO \(quoted)",
            // Tokens are revoked, never removed.
            "GRANT SELECT, INSERT ON api_tokens TO \(quoted)",
            "GRANT UPDATE (revoked_at_ms, last_used_at_ms) ON api_tokens TO \(quoted)",
            // Files and their versions are kept: added, and their sealed columns moved forward.
            "GRANT SELECT, INSERT ON files, file_versions TO \(quoted)",
            "GRANT UPDATE (name) ON files TO \(quoted)",
            "GRANT UPDATE (file_key, sha256) ON file_versions TO \(quoted)",
            // A care team is replaced whole; a break-glass grant is kept as given (only its
            // sealed reason moves forward at a key rotation), so the owners' list cannot lose one.
            "GRANT SELECT, INSERT, DELETE ON care_team_members TO \(quoted)",
            "GRANT SELECT, INSERT ON break_glass_grants TO \(quoted)",
            "GRANT UPDATE (reason) ON break_glass_grants TO \(quoted)",
            // Support requests move through their states; none is ever deleted.
            "GRANT SELECT, INSERT, UPDATE ON support_access TO \(quoted)",
            // Messages to patients are kept once sent: their delivery state changes, nothing is removed.
            "GRANT SELECT, INSERT, UPDATE ON patient_messages, clinic_communications TO \(quoted)",
            // A patient's preferences go with the patient.
            "GRANT SELECT, INSERT, UPDATE, DELETE ON patient_contact_preferences TO \(quoted)",
            // A moved appointment's reminder decisions are dropped, so the new time gets its own.
            "GRANT SELECT, INSERT, DELETE ON appointment_reminders TO \(quoted)",
            // The figures' tallies are only ever added to (a void adds the negated amounts).
            "GRANT SELECT, INSERT ON formula_prescriptions, product_sales TO \(quoted)",
            // Daily sums are added to in place, and cut again whole when the clinic's zone changes.
            "GRANT SELECT, INSERT, UPDATE, DELETE ON appointment_days, revenue_days TO \(quoted)",
            // A patient's first and last visits are rewritten with each change of an attended one.
            "GRANT SELECT, INSERT, UPDATE, DELETE ON patient_visits TO \(quoted)",
            // The server refreshes reporting tables; only `reporting grant` (the owner) makes one.
            // A deleted clinic's grant goes at the next refresh, with its table's rows.
            "GRANT SELECT, DELETE, UPDATE (refreshed_at_ms) ON reporting_grants TO \(quoted)",
            "GRANT SELECT, INSERT, UPDATE ON audit_heads TO \(quoted)",
            "GRANT SELECT, INSERT ON audit_events, audit_checkpoints, audit_signing_keys TO \(quoted)",
            // `keys rewrap` wraps the same signing keys again; the triggers admit nothing else (AllowKeyRewrap).
            "GRANT UPDATE (wrapped_key, kek_id) ON audit_signing_keys TO \(quoted)",
            // Only `audit purge`, as the owner, cuts the ledger.
            "GRANT SELECT ON audit_retention_cuts TO \(quoted)",
        ])
    }
}
