import Fluent
import SQLKit

/// Tenant tables: every row carries its realm, every unique key includes it, and foreign keys
/// between tenant rows include it too, so neither a unique violation nor a foreign-key check
/// can tell one clinic that another holds a value.
struct CreateTenantTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            // Data and blind-index keys of each realm, wrapped by the key-encryption key.
            """
            CREATE TABLE realm_keys (
                realm_id \(t.uuid) NOT NULL,
                purpose \(t.text) NOT NULL,
                version \(t.int64) NOT NULL,
                wrapped_key \(t.bytes) NOT NULL,
                kek_id \(t.text) NOT NULL,
                is_current \(t.int64) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                PRIMARY KEY (realm_id, purpose, version)
            )
            """,
            """
            CREATE TABLE patients (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                given_name \(t.bytes) NOT NULL,
                family_name \(t.bytes) NOT NULL,
                birth_date \(t.bytes),
                phone \(t.bytes),
                email \(t.bytes),
                address \(t.bytes),
                medicare_number \(t.bytes),
                phone_index \(t.bytes),
                email_index \(t.bytes),
                medicare_index \(t.bytes),
                created_at_ms \(t.int64) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL,
                UNIQUE (clinic_id, id)
            )
            """,
            "CREATE INDEX patients_by_phone ON patients (clinic_id, phone_index)",
            "CREATE INDEX patients_by_email ON patients (clinic_id, email_index)",
            "CREATE INDEX patients_by_medicare ON patients (clinic_id, medicare_index)",
            "CREATE INDEX patients_by_created ON patients (clinic_id, created_at_ms)",
            """
            CREATE TABLE patient_name_tokens (
                clinic_id \(t.uuid) NOT NULL,
                token_index \(t.bytes) NOT NULL,
                patient_id \(t.uuid) NOT NULL,
                PRIMARY KEY (clinic_id, token_index, patient_id),
                FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id) ON DELETE CASCADE
            )
            """,
            "CREATE INDEX patient_name_tokens_by_patient ON patient_name_tokens (clinic_id, patient_id)",
            // The ledger: one hash chain per clinic (and one for the identity realm).
            """
            CREATE TABLE audit_events (
                chain_id \(t.uuid) NOT NULL,
                sequence \(t.int64) NOT NULL,
                occurred_at_ms \(t.int64) NOT NULL,
                actor_id \(t.uuid),
                action \(t.text) NOT NULL,
                resource_type \(t.text),
                resource_id \(t.uuid),
                outcome \(t.text) NOT NULL,
                address \(t.text),
                request_id \(t.text),
                detail \(t.text),
                hash \(t.bytes) NOT NULL,
                PRIMARY KEY (chain_id, sequence)
            )
            """,
            "CREATE INDEX audit_events_by_resource ON audit_events (chain_id, resource_id)",
            "CREATE INDEX audit_events_by_actor ON audit_events (chain_id, actor_id, occurred_at_ms)",
            """
            CREATE TABLE audit_heads (
                chain_id \(t.uuid) PRIMARY KEY,
                sequence \(t.int64) NOT NULL,
                head_hash \(t.bytes) NOT NULL
            )
            """,
        ])
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.execute(["DROP TABLE audit_heads", "DROP TABLE audit_events", "DROP TABLE patient_name_tokens",
                               "DROP TABLE patients", "DROP TABLE realm_keys"])
    }
}
