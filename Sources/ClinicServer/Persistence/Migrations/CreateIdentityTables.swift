import Fluent
import SQLKit

/// Global tables, reached only through identity code: clinics, people, memberships, sessions.
/// People's e-mail and name are sealed in the identity realm; the e-mail is found by blind index.
struct CreateIdentityTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE clinics (
                id \(t.uuid) PRIMARY KEY,
                name \(t.text) NOT NULL,
                country \(t.text) NOT NULL,
                status \(t.text) NOT NULL DEFAULT 'active',
                created_at_ms \(t.int64) NOT NULL
            )
            """,
            """
            CREATE TABLE users (
                id \(t.uuid) PRIMARY KEY,
                email_index \(t.bytes) NOT NULL UNIQUE,
                email \(t.bytes) NOT NULL,
                name \(t.bytes) NOT NULL,
                password_hash \(t.text) NOT NULL,
                created_at_ms \(t.int64) NOT NULL
            )
            """,
            """
            CREATE TABLE memberships (
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                user_id \(t.uuid) NOT NULL REFERENCES users(id),
                roles \(t.text) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                PRIMARY KEY (clinic_id, user_id)
            )
            """,
            "CREATE INDEX memberships_by_user ON memberships (user_id)",
            """
            CREATE TABLE sessions (
                id \(t.uuid) PRIMARY KEY,
                token_hash \(t.bytes) NOT NULL UNIQUE,
                user_id \(t.uuid) NOT NULL REFERENCES users(id),
                created_at_ms \(t.int64) NOT NULL,
                last_seen_at_ms \(t.int64) NOT NULL,
                expires_at_ms \(t.int64) NOT NULL
            )
            """,
            "CREATE INDEX sessions_by_user ON sessions (user_id)",
            """
            CREATE TABLE setup_tokens (
                token_hash \(t.bytes) PRIMARY KEY,
                created_at_ms \(t.int64) NOT NULL,
                used_at_ms \(t.int64)
            )
            """,
        ])
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.execute(["DROP TABLE setup_tokens", "DROP TABLE sessions", "DROP TABLE memberships", "DROP TABLE users", "DROP TABLE clinics"])
    }
}
