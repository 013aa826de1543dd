import Fluent
import SQLKit

/// One row per prescription written from a library formula, for the practice's figures (top
/// formulas) without unsealing a prescription: the formula, the prescriber and the quarter hour.
/// No patient and no prescription id, so the table links nobody to a formula; the quarter hour
/// (every time zone's offset is a whole number of quarters) still counts a day in any zone.
struct CreateFormulaTally: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("formula_prescriptions", "clinic_id")]

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
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE formula_prescriptions"])
    }
}
