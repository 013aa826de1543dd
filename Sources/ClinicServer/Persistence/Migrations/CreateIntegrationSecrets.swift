import Fluent
import SQLKit

/// Third-party credentials a clinic keeps (payment-provider tokens, integration keys), sealed
/// with the clinic's keys like its patients' records. A tenant table under row-level security.
struct CreateIntegrationSecrets: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("integration_secrets", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE integration_secrets (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                kind \(t.text) NOT NULL,
                label \(t.text) NOT NULL,
                secret \(t.bytes) NOT NULL,
                created_by \(t.uuid) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                UNIQUE (clinic_id, kind, label)
            )
            """,
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE integration_secrets"])
    }
}
