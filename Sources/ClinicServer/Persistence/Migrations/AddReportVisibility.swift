import Fluent
import SQLKit

/// What a clinic's owners allow others to see of the practice's figures (`ReportVisibility`):
/// two switches on the clinic, off until an owner turns them on.
struct AddReportVisibility: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            "ALTER TABLE clinics ADD COLUMN report_practitioner_revenue \(t.int64) NOT NULL DEFAULT 0",
            "ALTER TABLE clinics ADD COLUMN report_admin_revenue \(t.int64) NOT NULL DEFAULT 0",
        ])
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.execute(["ALTER TABLE clinics DROP COLUMN report_admin_revenue", "ALTER TABLE clinics DROP COLUMN report_practitioner_revenue"])
    }
}
