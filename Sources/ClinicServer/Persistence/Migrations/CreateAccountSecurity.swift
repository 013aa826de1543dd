import Fluent
import SQLKit

/// What keeps accounts safe beyond the password: TOTP and recovery codes, two-stage sessions,
/// each clinic's MFA policy, sign-in throttles shared by every instance, password resets and
/// the e-mail outbox. Global tables: secrets and addresses in them are sealed in the identity
/// realm, and throttle subjects are keyed hashes, never the e-mail or address itself.
struct CreateAccountSecurity: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            "ALTER TABLE users ADD COLUMN totp_secret \(t.bytes)",
            "ALTER TABLE users ADD COLUMN totp_pending_secret \(t.bytes)",
            "ALTER TABLE users ADD COLUMN totp_enabled_at_ms \(t.int64)",
            // The newest TOTP time step accepted: a code is good once (RFC 6238 section 5.2).
            "ALTER TABLE users ADD COLUMN totp_last_step \(t.int64)",
            """
            CREATE TABLE recovery_codes (
                user_id \(t.uuid) NOT NULL REFERENCES users(id),
                code_hash \(t.bytes) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                used_at_ms \(t.int64),
                PRIMARY KEY (user_id, code_hash)
            )
            """,
            // 'full', or 'mfa' between the password and the second factor.
            "ALTER TABLE sessions ADD COLUMN stage \(t.text) NOT NULL DEFAULT 'full'",
            "ALTER TABLE clinics ADD COLUMN mfa_required_roles \(t.text) NOT NULL DEFAULT ''",
            "ALTER TABLE clinics ADD COLUMN password_minimum \(t.int64) NOT NULL DEFAULT 12",
            """
            CREATE TABLE sign_in_throttles (
                subject \(t.bytes) PRIMARY KEY,
                failures \(t.int64) NOT NULL,
                window_started_at_ms \(t.int64) NOT NULL,
                locked_until_ms \(t.int64) NOT NULL
            )
            """,
            """
            CREATE TABLE password_resets (
                token_hash \(t.bytes) PRIMARY KEY,
                user_id \(t.uuid) NOT NULL REFERENCES users(id),
                created_at_ms \(t.int64) NOT NULL,
                expires_at_ms \(t.int64) NOT NULL,
                used_at_ms \(t.int64)
            )
            """,
            """
            CREATE TABLE outbox (
                id \(t.uuid) PRIMARY KEY,
                kind \(t.text) NOT NULL,
                recipient \(t.bytes) NOT NULL,
                subject \(t.bytes) NOT NULL,
                body \(t.bytes) NOT NULL,
                state \(t.text) NOT NULL,
                attempts \(t.int64) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                next_attempt_at_ms \(t.int64) NOT NULL,
                sent_at_ms \(t.int64),
                last_error \(t.text)
            )
            """,
            "CREATE INDEX outbox_due ON outbox (state, next_attempt_at_ms)",
        ])
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.execute([
            "DROP TABLE outbox", "DROP TABLE password_resets", "DROP TABLE sign_in_throttles", "DROP TABLE recovery_codes",
            "ALTER TABLE clinics DROP COLUMN password_minimum", "ALTER TABLE clinics DROP COLUMN mfa_required_roles",
            "ALTER TABLE sessions DROP COLUMN stage",
            "ALTER TABLE users DROP COLUMN totp_last_step", "ALTER TABLE users DROP COLUMN totp_enabled_at_ms",
            "ALTER TABLE users DROP COLUMN totp_pending_secret", "ALTER TABLE users DROP COLUMN totp_secret",
        ])
    }
}
