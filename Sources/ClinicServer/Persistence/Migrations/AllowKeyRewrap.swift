import Fluent
import SQLKit

/// The checkpoint-signing keys stay append-only but for one change: `keys rewrap` wrapping the
/// same private key again under a new key-encryption key. Version, public key and creation time
/// never change, and a wrapped key that no longer matches its public key is refused when loaded
/// (`AuditSigningKeys.load`), so nothing but the wrapping can be altered this way.
struct AllowKeyRewrap: AsyncMigration {
    static let unchanged = ["version", "public_key", "created_at_ms"]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        switch sql.kind {
        case .sqlite:
            let same = Self.unchanged.map { "NEW.\($0) IS OLD.\($0)" }.joined(separator: " AND ")
            try await sql.execute([
                "DROP TRIGGER audit_signing_keys_no_update",
                """
                CREATE TRIGGER audit_signing_keys_no_update BEFORE UPDATE ON audit_signing_keys WHEN NOT COALESCE((\(same)), 0)
                BEGIN SELECT RAISE(ABORT, 'clinickeep: the audit ledger is append-only'); END
                """,
            ])
        case .postgres:
            let new = Self.unchanged.map { "NEW.\($0)" }.joined(separator: ", ")
            let old = Self.unchanged.map { "OLD.\($0)" }.joined(separator: ", ")
            try await sql.execute([
                "DROP TRIGGER audit_signing_keys_append_only ON audit_signing_keys",
                """
                CREATE FUNCTION clinickeep_signing_key_rewrap_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP = 'UPDATE' AND ROW(\(new)) IS NOT DISTINCT FROM ROW(\(old)) THEN
                        RETURN NEW;
                    END IF;
                    RAISE EXCEPTION 'clinickeep: the audit ledger is append-only';
                END
                $$
                """,
                "CREATE TRIGGER audit_signing_keys_append_only BEFORE UPDATE OR DELETE ON audit_signing_keys FOR EACH ROW EXECUTE FUNCTION clinickeep_signing_key_rewrap_only()",
            ])
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        switch sql.kind {
        case .sqlite:
            try await sql.execute([
                "DROP TRIGGER audit_signing_keys_no_update",
                "CREATE TRIGGER audit_signing_keys_no_update BEFORE UPDATE ON audit_signing_keys BEGIN SELECT RAISE(ABORT, 'clinickeep: the audit ledger is append-only'); END",
            ])
        case .postgres:
            try await sql.execute([
                "DROP TRIGGER audit_signing_keys_append_only ON audit_signing_keys",
                "DROP FUNCTION clinickeep_signing_key_rewrap_only()",
                "CREATE TRIGGER audit_signing_keys_append_only BEFORE UPDATE OR DELETE ON audit_signing_keys FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_change()",
            ])
        }
    }
}
