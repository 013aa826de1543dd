import Fluent
import SQLKit

/// How each session was authenticated: `password`, or `totp` (password and a code). A clinic that
/// requires a second factor checks the session, not the account. Sessions from before this are
/// `password`: a person with a second factor signs in once more where it is required.
struct RecordSessionAssurance: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE sessions ADD COLUMN assurance \(unsafeRaw: sql.types.text) NOT NULL DEFAULT 'password'").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE sessions DROP COLUMN assurance").run()
    }
}
