import Fluent
import SQLKit

/// An operator's lock on an account (`clinickeep user lock`): while it is set, sign-in is refused
/// as for a wrong password.
struct AddAccountLock: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE users ADD COLUMN locked_at_ms \(unsafeRaw: sql.types.int64)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE users DROP COLUMN locked_at_ms").run()
    }
}
