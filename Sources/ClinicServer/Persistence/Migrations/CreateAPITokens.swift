import Fluent
import SQLKit

/// Integrations' API tokens: only a hash of each is kept (SHA-256 of 256 random bits, as for
/// sessions), with the clinic, roles and expiry it was issued for. Looked up by hash before the
/// clinic is known, so, like sessions and memberships, it is read outside a clinic's realm;
/// every clinic-side query names the clinic. Tokens are revoked, never deleted, so the audit
/// chain's actor ids stay resolvable.
struct CreateAPITokens: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE api_tokens (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                label \(t.text) NOT NULL,
                roles \(t.text) NOT NULL,
                token_hash \(t.bytes) NOT NULL UNIQUE,
                created_by \(t.uuid) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                expires_at_ms \(t.int64) NOT NULL,
                revoked_at_ms \(t.int64),
                last_used_at_ms \(t.int64)
            )
            """,
            "CREATE INDEX api_tokens_by_clinic ON api_tokens (clinic_id, created_at_ms)",
        ])
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.execute(["DROP TABLE api_tokens"])
    }
}
