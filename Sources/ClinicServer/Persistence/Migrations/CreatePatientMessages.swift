import Fluent
import SQLKit

/// Messages to patients (a tenant table under row-level security): sealed with the clinic's
/// keys, written in the same transaction as the booking change they are about, and sent by the
/// delivery worker. Kept after sending, so a patient's chart lists what went to them.
struct CreatePatientMessages: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("patient_messages", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE patient_messages (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL REFERENCES patients(id),
                appointment_id \(t.uuid) REFERENCES appointments(id),
                kind \(t.text) NOT NULL,
                channel \(t.text) NOT NULL,
                recipient \(t.bytes) NOT NULL,
                subject \(t.bytes) NOT NULL,
                body \(t.bytes) NOT NULL,
                status \(t.text) NOT NULL CHECK (status IN ('queued', 'sent', 'failed')),
                attempts \(t.int64) NOT NULL DEFAULT 0,
                lease_id \(t.uuid),
                next_attempt_at_ms \(t.int64) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                sent_at_ms \(t.int64),
                failure_reason \(t.text)
            )
            """,
            "CREATE INDEX patient_messages_due ON patient_messages (clinic_id, status, next_attempt_at_ms)",
            "CREATE INDEX patient_messages_by_patient ON patient_messages (clinic_id, patient_id, created_at_ms)",
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE patient_messages"])
    }
}
