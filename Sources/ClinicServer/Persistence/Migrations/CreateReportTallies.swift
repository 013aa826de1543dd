import Fluent
import SQLKit

/// Tallies for the practice's figures, written beside the sealed records they count, so that a
/// sum never unseals a record. Neither names a patient, a prescription or an invoice, so neither
/// links anybody to what they were prescribed or sold; times are kept to the quarter hour (every
/// time zone's offset is a whole number of quarters, so a day in any zone is still counted).
/// - `formula_prescriptions`: one row per prescription written from a library formula.
/// - `product_sales`: what an issued invoice charged for each product, by its practitioner; a
///   voided one adds the same amounts negated, at the same quarter, so the two cancel. Only an
///   invoice whose sales were tallied (`invoices.sales_tallied`) is taken back: one issued before
///   this version never was, and taking it back would leave a negative sum.
struct CreateReportTallies: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("formula_prescriptions", "clinic_id"), ("product_sales", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE formula_prescriptions (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                formula_id \(t.uuid) NOT NULL,
                prescriber_id \(t.uuid) NOT NULL,
                prescribed_quarter_ms \(t.int64) NOT NULL
            )
            """,
            "CREATE INDEX formula_prescriptions_by_time ON formula_prescriptions (clinic_id, prescribed_quarter_ms)",
            """
            CREATE TABLE product_sales (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                product_id \(t.uuid) NOT NULL,
                practitioner_id \(t.uuid),
                cents \(t.int64) NOT NULL,
                issued_quarter_ms \(t.int64) NOT NULL
            )
            """,
            "CREATE INDEX product_sales_by_time ON product_sales (clinic_id, issued_quarter_ms)",
            "ALTER TABLE invoices ADD COLUMN sales_tallied \(t.int64) NOT NULL DEFAULT 0",
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["ALTER TABLE invoices DROP COLUMN sales_tallied", "DROP TABLE product_sales", "DROP TABLE formula_prescriptions"])
    }

    /// A time in milliseconds, down to its quarter hour.
    static func quarter(_ milliseconds: Int64) -> Int64 {
        let quarter: Int64 = 15 * 60 * 1000
        return milliseconds / quarter * quarter
    }
}
