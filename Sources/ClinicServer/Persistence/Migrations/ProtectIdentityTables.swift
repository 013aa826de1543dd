import Fluent
import SQLKit

/// Row-level security on the three tables that hold a clinic's id but are read before a clinic
/// is known (review round 2, A9): memberships (a person's clinics at sign-in), invitations (by
/// token) and API tokens (by hash). The server's role sees a clinic's rows in that clinic's
/// realm, and every row only in the identity realm, where sign-in, invitations and tokens are
/// looked up; without a realm it sees nothing, so a query that forgets its scope finds no row.
struct ProtectIdentityTables: AsyncMigration {
    static let tables = ["memberships", "invitations", "api_tokens"]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.kind == .postgres else { return }
        let realm = "NULLIF(current_setting('clinickeep.realm', true), '')::uuid"
        let allowed = "(clinic_id = \(realm) OR \(realm) = '\(IdentityRealm.id.uuidString.lowercased())'::uuid)"
        for table in Self.tables {
            try await sql.execute([
                "ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE \(table) FORCE ROW LEVEL SECURITY",
                "CREATE POLICY realm_isolation ON \(table) USING \(allowed) WITH CHECK \(allowed)",
            ])
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.kind == .postgres else { return }
        for table in Self.tables {
            try await sql.execute(["DROP POLICY realm_isolation ON \(table)", "ALTER TABLE \(table) NO FORCE ROW LEVEL SECURITY",
                                   "ALTER TABLE \(table) DISABLE ROW LEVEL SECURITY"])
        }
    }
}
