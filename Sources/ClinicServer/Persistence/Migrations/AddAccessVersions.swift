import Fluent
import SQLKit

/// Versions that say when what a person may do in a clinic last changed, kept by the database
/// itself so no code path can forget them: a person's `access_version` moves with every change
/// to their memberships (joined, role changed, removed), a clinic's `settings_version` with every
/// change to its row (security settings, status). The session query reads both, so a membership
/// kept in memory (`MembershipCache`) is used only while neither moved, on every server of one
/// database.
struct AddAccessVersions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            "ALTER TABLE users ADD COLUMN access_version \(t.int64) NOT NULL DEFAULT 0",
            "ALTER TABLE clinics ADD COLUMN settings_version \(t.int64) NOT NULL DEFAULT 0",
        ])
        switch sql.kind {
        case .postgres:
            try await sql.execute([
                """
                CREATE FUNCTION clinickeep_bump_access_version() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP <> 'INSERT' THEN UPDATE users SET access_version = access_version + 1 WHERE id = OLD.user_id; END IF;
                    IF TG_OP <> 'DELETE' THEN UPDATE users SET access_version = access_version + 1 WHERE id = NEW.user_id; END IF;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER memberships_access_version AFTER INSERT OR UPDATE OR DELETE ON memberships
                FOR EACH ROW EXECUTE FUNCTION clinickeep_bump_access_version()
                """,
                """
                CREATE FUNCTION clinickeep_bump_settings_version() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    NEW.settings_version := OLD.settings_version + 1;
                    RETURN NEW;
                END $$
                """,
                """
                CREATE TRIGGER clinics_settings_version BEFORE UPDATE ON clinics
                FOR EACH ROW EXECUTE FUNCTION clinickeep_bump_settings_version()
                """,
            ])
        case .sqlite:
            try await sql.execute([
                """
                CREATE TRIGGER memberships_access_version_insert AFTER INSERT ON memberships
                BEGIN UPDATE users SET access_version = access_version + 1 WHERE id = NEW.user_id; END
                """,
                """
                CREATE TRIGGER memberships_access_version_update AFTER UPDATE ON memberships
                BEGIN UPDATE users SET access_version = access_version + 1 WHERE id IN (OLD.user_id, NEW.user_id); END
                """,
                """
                CREATE TRIGGER memberships_access_version_delete AFTER DELETE ON memberships
                BEGIN UPDATE users SET access_version = access_version + 1 WHERE id = OLD.user_id; END
                """,
                // The guard stops the trigger's own update from counting again.
                """
                CREATE TRIGGER clinics_settings_version AFTER UPDATE ON clinics WHEN NEW.settings_version = OLD.settings_version
                BEGIN UPDATE clinics SET settings_version = settings_version + 1 WHERE id = NEW.id; END
                """,
            ])
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        switch sql.kind {
        case .postgres:
            try await sql.execute([
                "DROP TRIGGER memberships_access_version ON memberships",
                "DROP TRIGGER clinics_settings_version ON clinics",
                "DROP FUNCTION clinickeep_bump_access_version()",
                "DROP FUNCTION clinickeep_bump_settings_version()",
            ])
        case .sqlite:
            try await sql.execute([
                "DROP TRIGGER memberships_access_version_insert", "DROP TRIGGER memberships_access_version_update",
                "DROP TRIGGER memberships_access_version_delete", "DROP TRIGGER clinics_settings_version",
            ])
        }
        try await sql.execute(["ALTER TABLE users DROP COLUMN access_version", "ALTER TABLE clinics DROP COLUMN settings_version"])
    }
}
