import Fluent
import SQLKit

/// Lets verification list every chain from `audit_heads` itself, not only from `clinics`: a
/// chain whose clinic row is gone must still be verified, not passed over. On PostgreSQL the
/// heads are behind forced row-level security; this policy shows every head row (chain ids,
/// sequence numbers and hashes: nothing personal) to a transaction that asks for the listing
/// with a setting of its own, for reading only.
struct ListAuditChains: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.kind == .postgres else { return }
        try await sql.raw("""
            CREATE POLICY chain_listing ON audit_heads FOR SELECT USING (current_setting('clinickeep.list_chains', true) = 'on')
            """).run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        guard sql.kind == .postgres else { return }
        try await sql.raw("DROP POLICY chain_listing ON audit_heads").run()
    }
}
