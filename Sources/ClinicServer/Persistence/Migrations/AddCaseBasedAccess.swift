import Fluent
import SQLKit

/// Case-based clinical access: the clinic's switch (off for clinics that exist before this
/// migration, until their owner turns it on; `IdentityDirectory.createClinic` turns it on for
/// new ones), patients' care teams, and break-glass grants. Both tables are tenant tables.
struct AddCaseBasedAccess: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("care_team_members", "clinic_id"), ("break_glass_grants", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            "ALTER TABLE clinics ADD COLUMN case_based_access \(t.int64) NOT NULL DEFAULT 0",
            // When the owners were last sent the day's break-glass summary.
            "ALTER TABLE clinics ADD COLUMN break_glass_summary_at_ms \(t.int64)",
            // Who last gave the appointment its practitioner, when not whoever booked it: a
            // practitioner who moves a booking to themselves does not become involved by it.
            "ALTER TABLE appointments ADD COLUMN assigned_by \(t.uuid)",
            """
            CREATE TABLE care_team_members (
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL,
                practitioner_id \(t.uuid) NOT NULL REFERENCES users(id),
                added_by \(t.uuid) NOT NULL,
                added_at_ms \(t.int64) NOT NULL,
                PRIMARY KEY (clinic_id, patient_id, practitioner_id),
                FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
            )
            """,
            "CREATE INDEX care_team_by_practitioner ON care_team_members (clinic_id, practitioner_id)",
            """
            CREATE TABLE break_glass_grants (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL,
                user_id \(t.uuid) NOT NULL REFERENCES users(id),
                reason \(t.bytes) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                expires_at_ms \(t.int64) NOT NULL,
                CHECK (expires_at_ms > created_at_ms),
                FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
            )
            """,
            "CREATE INDEX break_glass_by_user ON break_glass_grants (clinic_id, user_id, expires_at_ms)",
            "CREATE INDEX break_glass_by_created ON break_glass_grants (clinic_id, created_at_ms)",
            // Consultations and prescriptions are found by their author when a list is narrowed.
            "CREATE INDEX consultations_by_practitioner ON consultations (clinic_id, practitioner_id)",
            "CREATE INDEX prescriptions_by_prescriber ON prescriptions (clinic_id, prescriber_id)",
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute([
            "DROP INDEX prescriptions_by_prescriber", "DROP INDEX consultations_by_practitioner",
            "DROP TABLE break_glass_grants", "DROP TABLE care_team_members",
            "ALTER TABLE appointments DROP COLUMN assigned_by", "ALTER TABLE clinics DROP COLUMN break_glass_summary_at_ms", "ALTER TABLE clinics DROP COLUMN case_based_access",
        ])
    }
}
