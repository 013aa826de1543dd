import Fluent
import SQLKit

/// Staff invitations (global: accepted by token, before the invitee belongs to the clinic),
/// and where a session was opened from, so a person can recognise and revoke their sessions.
/// E-mail, name, address and user agent are sealed in the identity realm.
struct CreateInvitations: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE invitations (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                token_hash \(t.bytes) NOT NULL UNIQUE,
                email_index \(t.bytes) NOT NULL,
                email \(t.bytes) NOT NULL,
                name \(t.bytes) NOT NULL,
                roles \(t.text) NOT NULL,
                invited_by \(t.uuid) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                expires_at_ms \(t.int64) NOT NULL,
                accepted_at_ms \(t.int64)
            )
            """,
            "CREATE INDEX invitations_by_clinic ON invitations (clinic_id)",
            "ALTER TABLE sessions ADD COLUMN address \(t.bytes)",
            "ALTER TABLE sessions ADD COLUMN user_agent \(t.bytes)",
        ])
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.execute(["DROP TABLE invitations", "ALTER TABLE sessions DROP COLUMN address", "ALTER TABLE sessions DROP COLUMN user_agent"])
    }
}
