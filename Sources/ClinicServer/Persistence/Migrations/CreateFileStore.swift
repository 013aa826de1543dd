import Fluent
import SQLKit

/// A patient's files (consent scans, referral letters, attachments) and every version of each.
/// The bytes live outside the database, encrypted in chunks (`FileCipher`); a version's row
/// holds its file key and plaintext hash sealed with the clinic's keys, so the row without the
/// clinic's keys opens nothing and the bytes without the row open nothing.
///
/// Versions are only ever added: the server's role may not delete one (PostgreSQL grants; a
/// trigger on SQLite), and may update only the sealed columns, which `keys reencrypt` moves
/// forward.
struct CreateFileStore: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("files", "clinic_id"), ("file_versions", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE files (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL,
                name \(t.bytes) NOT NULL,
                created_by \(t.uuid) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                UNIQUE (clinic_id, id),
                FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id)
            )
            """,
            "CREATE INDEX files_by_patient ON files (clinic_id, patient_id, created_at_ms)",
            """
            CREATE TABLE file_versions (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL,
                file_id \(t.uuid) NOT NULL,
                version \(t.int64) NOT NULL,
                size_bytes \(t.int64) NOT NULL,
                kind \(t.text) NOT NULL,
                file_key \(t.bytes) NOT NULL,
                sha256 \(t.bytes) NOT NULL,
                created_by \(t.uuid) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                UNIQUE (file_id, version),
                FOREIGN KEY (clinic_id, file_id) REFERENCES files (clinic_id, id)
            )
            """,
        ])
        if sql.kind == .sqlite {
            let refuse = "SELECT RAISE(ABORT, 'clinickeep: file versions are kept')"
            try await sql.execute([
                "CREATE TRIGGER file_versions_no_delete BEFORE DELETE ON file_versions BEGIN \(refuse); END",
                "CREATE TRIGGER files_no_delete BEFORE DELETE ON files BEGIN \(refuse); END",
            ])
        }
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE file_versions", "DROP TABLE files"])
    }
}
