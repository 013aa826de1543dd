import Fluent
import Foundation
import SQLKit

/// The day-by-day sums the practice's figures read (`DailyFigures`), filled from what each
/// clinic already holds, and three indexes for what cannot be summed by day:
/// - `invoices_owed`: the issued invoices open at a period's end (a paid one that was still
///   owed then is found by its payments after the end);
/// - `payments_by_time`: payments received after a period's end, which were still owed at it;
/// - `appointments_attended`: whether a patient was seen in a period, found patient by patient
///   (since `PatientVisits`, only for a patient whose first and last visits straddle it).
struct CreateDailyFigures: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE appointment_days (
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                day_ms \(t.int64) NOT NULL,
                practitioner_id \(t.uuid) NOT NULL,
                status \(t.text) NOT NULL,
                appointments \(t.int64) NOT NULL,
                late_cancelled \(t.int64) NOT NULL,
                booked_ms \(t.int64) NOT NULL,
                PRIMARY KEY (clinic_id, day_ms, practitioner_id, status)
            )
            """,
            """
            CREATE TABLE revenue_days (
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                day_ms \(t.int64) NOT NULL,
                practitioner_id \(t.uuid) NOT NULL,
                type_id \(t.uuid) NOT NULL,
                invoices \(t.int64) NOT NULL,
                invoiced_cents \(t.int64) NOT NULL,
                gst_cents \(t.int64) NOT NULL,
                collected_cents \(t.int64) NOT NULL,
                PRIMARY KEY (clinic_id, day_ms, practitioner_id, type_id)
            )
            """,
            "CREATE INDEX invoices_owed ON invoices (clinic_id, status, issued_at_ms, updated_at_ms, practitioner_id, total_cents, paid_cents, id)",
            "CREATE INDEX payments_by_time ON payments (clinic_id, received_at_ms, invoice_id, amount_cents)",
            "CREATE INDEX appointments_attended ON appointments (clinic_id, patient_id, status, starts_at_ms, practitioner_id)",
        ])
        try await RowLevelSecurity.enable(DailyFigures.tenantTables, on: sql)
        // Each clinic's rows are written in its own realm: row-level security admits no other.
        let clinics = try await sql.raw("SELECT id FROM clinics").all().map { try $0.decode(column: "id", as: UUID.self) }
        for clinic in clinics {
            try await database.transaction { db in
                let scoped = db as! any SQLDatabase
                if scoped.kind == .postgres {
                    try await scoped.raw("SELECT set_config('clinickeep.realm', \(bind: clinic.uuidString.lowercased()), true)").run()
                }
                try await DailyFigures.rebuildDays(clinic: clinic, in: scoped)
            }
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(DailyFigures.tenantTables, on: sql)
        try await sql.execute(["DROP INDEX appointments_attended", "DROP INDEX payments_by_time", "DROP INDEX invoices_owed", "DROP TABLE revenue_days", "DROP TABLE appointment_days"])
    }
}
