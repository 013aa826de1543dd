import Fluent
import SQLKit

/// PostgreSQL reporting roles (`ReportingGrants`): which database role may read which clinic's
/// pseudonymised visits, and the key its pseudonyms are made under, sealed with the clinic's
/// keys. A tenant table like the others: a grant is read and written in its clinic's realm.
struct CreateReportingGrants: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE reporting_grants (
                role_name \(t.text) NOT NULL,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                grant_key \(t.bytes) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                refreshed_at_ms \(t.int64),
                PRIMARY KEY (role_name, clinic_id)
            )
            """,
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    static let tenantTables = [(table: "reporting_grants", column: "clinic_id")]

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE reporting_grants"])
    }
}
