import Fluent
import SQLKit

/// A clinic's contacts (referrers, insurers, suppliers: every field but the kind sealed) and its
/// products (name, price, GST, stock). Both tenant tables under row-level security.
struct CreateContactsAndProducts: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [("contacts", "clinic_id"), ("products", "clinic_id")]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE contacts (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                kind \(t.text) NOT NULL,
                name \(t.bytes) NOT NULL,
                organisation \(t.bytes),
                phone \(t.bytes),
                email \(t.bytes),
                provider_number \(t.bytes),
                notes \(t.bytes),
                created_at_ms \(t.int64) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL
            )
            """,
            "CREATE INDEX contacts_by_kind ON contacts (clinic_id, kind, created_at_ms)",
            """
            CREATE TABLE products (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                name \(t.text) NOT NULL,
                sku \(t.text),
                price_cents \(t.int64) NOT NULL CHECK (price_cents >= 0),
                gst_applies \(t.int64) NOT NULL,
                stock \(t.int64) NOT NULL DEFAULT 0 CHECK (stock >= 0),
                active \(t.int64) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL
            )
            """,
            "CREATE INDEX products_by_name ON products (clinic_id, name)",
        ])
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE products", "DROP TABLE contacts"])
    }
}
