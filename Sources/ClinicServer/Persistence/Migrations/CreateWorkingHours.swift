import Fluent
import SQLKit

/// Practitioners' working weeks (a tenant table under row-level security) and the clinic's time
/// zone they are read in.
struct CreateWorkingHours: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("working_hours", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            "ALTER TABLE clinics ADD COLUMN time_zone \(t.text) NOT NULL DEFAULT 'UTC'",
            """
            CREATE TABLE working_hours (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                practitioner_id \(t.uuid) NOT NULL REFERENCES users(id),
                weekday \(t.text) NOT NULL,
                start_minute \(t.int64) NOT NULL CHECK (start_minute >= 0 AND start_minute < 1440),
                end_minute \(t.int64) NOT NULL CHECK (end_minute > start_minute AND end_minute <= 1440)
            )
            """,
            "CREATE INDEX working_hours_by_practitioner ON working_hours (clinic_id, practitioner_id)",
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE working_hours", "ALTER TABLE clinics DROP COLUMN time_zone"])
    }
}
