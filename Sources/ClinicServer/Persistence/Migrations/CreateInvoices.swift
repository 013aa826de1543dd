import Fluent
import SQLKit

/// Invoices (lines, notes and a void's reason sealed; amounts in the clear so the books add up
/// without opening anything), their payments, and each practitioner's provider number. Both
/// tenant tables under row-level security.
struct CreateInvoices: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("invoices", "clinic_id"), ("payments", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE invoices (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL REFERENCES patients(id),
                practitioner_id \(t.uuid) REFERENCES users(id),
                appointment_id \(t.uuid) REFERENCES appointments(id),
                number \(t.int64),
                status \(t.text) NOT NULL,
                lines \(t.bytes) NOT NULL,
                notes \(t.bytes),
                void_reason \(t.bytes),
                provider_number \(t.text),
                total_cents \(t.int64) NOT NULL CHECK (total_cents >= 0),
                gst_cents \(t.int64) NOT NULL CHECK (gst_cents >= 0),
                paid_cents \(t.int64) NOT NULL DEFAULT 0 CHECK (paid_cents >= 0 AND paid_cents <= total_cents),
                issued_at_ms \(t.int64),
                created_at_ms \(t.int64) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL,
                UNIQUE (clinic_id, number)
            )
            """,
            "CREATE INDEX invoices_by_patient ON invoices (clinic_id, patient_id, created_at_ms)",
            "CREATE INDEX invoices_by_status ON invoices (clinic_id, status, created_at_ms)",
            """
            CREATE TABLE payments (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                invoice_id \(t.uuid) NOT NULL REFERENCES invoices(id),
                amount_cents \(t.int64) NOT NULL CHECK (amount_cents > 0),
                method \(t.text) NOT NULL,
                reference \(t.bytes),
                recorded_by \(t.uuid) NOT NULL,
                received_at_ms \(t.int64) NOT NULL
            )
            """,
            "CREATE INDEX payments_by_invoice ON payments (clinic_id, invoice_id, received_at_ms)",
            // A Medicare provider number is the practitioner's at one practice location: it
            // belongs to the membership, not to the person.
            "ALTER TABLE memberships ADD COLUMN provider_number \(t.text)",
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["ALTER TABLE memberships DROP COLUMN provider_number", "DROP TABLE payments", "DROP TABLE invoices"])
    }
}
