import ClinicDomain
import Fluent
import Foundation
import SQLKit

/// What reminders need, three tenant tables under row-level security: a clinic's communication
/// settings (absent: the defaults), a patient's contact preferences (absent: every channel the
/// clinic uses), and one row per appointment and lead time once its reminder is decided, so that
/// no reminder is queued twice, by one server or several.
struct AddCommunicationSettings: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [
        ("clinic_communications", "clinic_id"), ("patient_contact_preferences", "clinic_id"), ("appointment_reminders", "clinic_id"),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE clinic_communications (
                clinic_id \(t.uuid) PRIMARY KEY REFERENCES clinics(id),
                reminder_lead_hours \(t.text) NOT NULL,
                quiet_start_minute \(t.int64) NOT NULL CHECK (quiet_start_minute >= 0 AND quiet_start_minute < 1440),
                quiet_end_minute \(t.int64) NOT NULL CHECK (quiet_end_minute >= 0 AND quiet_end_minute < 1440),
                channels \(t.text) NOT NULL,
                sender_name \(t.text),
                sensitive_type_ids \(t.text) NOT NULL,
                updated_by \(t.uuid) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL
            )
            """,
            """
            CREATE TABLE patient_contact_preferences (
                patient_id \(t.uuid) PRIMARY KEY REFERENCES patients(id),
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                channels \(t.text) NOT NULL,
                changed_by \(t.uuid) NOT NULL,
                changed_at_ms \(t.int64) NOT NULL
            )
            """,
            """
            CREATE TABLE appointment_reminders (
                appointment_id \(t.uuid) NOT NULL REFERENCES appointments(id),
                lead_hours \(t.int64) NOT NULL,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                decision \(t.text) NOT NULL CHECK (decision IN ('queued', 'skipped')),
                decided_at_ms \(t.int64) NOT NULL,
                PRIMARY KEY (appointment_id, lead_hours)
            )
            """,
        ])
        // Clinics that exist before this version send nothing until an owner turns a channel on:
        // an upgrade never starts messaging their patients on its own. New clinics get the
        // defaults (e-mail, 24 hours). Written before row-level security is on, as the owner.
        let migration = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        try await sql.raw("""
            INSERT INTO clinic_communications (clinic_id, reminder_lead_hours, quiet_start_minute, quiet_end_minute, channels,
                                               sender_name, sensitive_type_ids, updated_by, updated_at_ms)
            SELECT id, '24', \(bind: Int64(QuietHours.standard.startMinute)), \(bind: Int64(QuietHours.standard.endMinute)), '', NULL, '',
                   \(bind: migration), \(bind: Date().milliseconds) FROM clinics
            """).run()
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE appointment_reminders", "DROP TABLE patient_contact_preferences", "DROP TABLE clinic_communications"])
    }
}
