import Fluent
import SQLKit

/// Keyed audit chains: each entry records the version of the chain key its hash is a MAC under.
/// Entries from before have none and verify as plain SHA-256 links, but only where a signed
/// checkpoint covers them (`AuditCheckpointing.keyLegacyChains` covers every chain once).
struct KeyAuditChains: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE audit_events ADD COLUMN key_version \(unsafeRaw: sql.types.int64)").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.raw("ALTER TABLE audit_events DROP COLUMN key_version").run()
    }
}
