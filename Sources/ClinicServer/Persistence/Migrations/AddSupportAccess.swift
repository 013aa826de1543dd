import Fluent
import SQLKit

/// Support access by the clinic's consent (`SupportGrants`): one row per request, a tenant table.
/// The sign-in link's token is kept only as its hash, and only until it is used or replaced.
struct AddSupportAccess: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("support_access", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE support_access (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                operator_name \(t.text) NOT NULL,
                reason \(t.text) NOT NULL,
                hours \(t.int64) NOT NULL,
                state \(t.text) NOT NULL,
                requested_at_ms \(t.int64) NOT NULL,
                decided_at_ms \(t.int64),
                decided_by \(t.uuid),
                expires_at_ms \(t.int64),
                support_user_id \(t.uuid) REFERENCES users(id),
                login_token_hash \(t.bytes),
                login_expires_at_ms \(t.int64),
                CHECK (state IN ('requested', 'granted', 'refused', 'revoked')),
                CHECK (hours BETWEEN 1 AND 72)
            )
            """,
            "CREATE INDEX support_access_by_clinic ON support_access (clinic_id, requested_at_ms)",
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE support_access"])
    }
}
