import Fluent
import SQLKit

/// The clinic's day: appointment types and appointments; its records: consultations with their
/// amendments, the formula library and prescriptions. Tenant tables under row-level security.
///
/// Records that must never change once written are guarded by the database itself, not only
/// by the routes: a signed consultation, an amendment and a prescription refuse UPDATE and
/// DELETE through triggers on both engines, whoever connects.
struct CreateClinicalRecords: AsyncMigration {
    static let tenantTables: [(table: String, column: String)] = [
        ("appointment_types", "clinic_id"),
        ("booking_locks", "clinic_id"),
        ("appointments", "clinic_id"),
        ("consultations", "clinic_id"),
        ("consultation_amendments", "clinic_id"),
        ("formulas", "clinic_id"),
        ("prescriptions", "clinic_id"),
    ]

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE appointment_types (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                name \(t.text) NOT NULL,
                duration_minutes \(t.int64) NOT NULL,
                price_cents \(t.int64),
                active \(t.int64) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                UNIQUE (clinic_id, id)
            )
            """,
            // One row per practitioner: booking takes its row lock first, so two bookings of one
            // practitioner check for overlaps one after the other (SQLite's write lock does the same).
            """
            CREATE TABLE booking_locks (
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                practitioner_id \(t.uuid) NOT NULL,
                version \(t.int64) NOT NULL,
                PRIMARY KEY (clinic_id, practitioner_id)
            )
            """,
            """
            CREATE TABLE appointments (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL,
                practitioner_id \(t.uuid) NOT NULL,
                type_id \(t.uuid) NOT NULL,
                starts_at_ms \(t.int64) NOT NULL,
                ends_at_ms \(t.int64) NOT NULL,
                status \(t.text) NOT NULL,
                reason \(t.bytes),
                created_by \(t.uuid) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL,
                UNIQUE (clinic_id, id),
                CHECK (ends_at_ms > starts_at_ms),
                FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
                FOREIGN KEY (clinic_id, type_id) REFERENCES appointment_types (clinic_id, id)
            )
            """,
            "CREATE INDEX appointments_by_practitioner ON appointments (clinic_id, practitioner_id, starts_at_ms)",
            "CREATE INDEX appointments_by_patient ON appointments (clinic_id, patient_id, starts_at_ms)",
            "CREATE INDEX appointments_by_start ON appointments (clinic_id, starts_at_ms)",
            """
            CREATE TABLE consultations (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL,
                appointment_id \(t.uuid),
                practitioner_id \(t.uuid) NOT NULL,
                subjective \(t.bytes),
                objective \(t.bytes),
                assessment \(t.bytes),
                plan \(t.bytes),
                created_at_ms \(t.int64) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL,
                signed_at_ms \(t.int64),
                UNIQUE (clinic_id, id),
                FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
                FOREIGN KEY (clinic_id, appointment_id) REFERENCES appointments (clinic_id, id)
            )
            """,
            "CREATE INDEX consultations_by_patient ON consultations (clinic_id, patient_id, created_at_ms)",
            """
            CREATE TABLE consultation_amendments (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                consultation_id \(t.uuid) NOT NULL,
                author_id \(t.uuid) NOT NULL,
                reason \(t.bytes) NOT NULL,
                subjective \(t.bytes),
                objective \(t.bytes),
                assessment \(t.bytes),
                plan \(t.bytes),
                created_at_ms \(t.int64) NOT NULL,
                FOREIGN KEY (clinic_id, consultation_id) REFERENCES consultations (clinic_id, id)
            )
            """,
            "CREATE INDEX consultation_amendments_by_consultation ON consultation_amendments (clinic_id, consultation_id, created_at_ms)",
            """
            CREATE TABLE formulas (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                name \(t.text) NOT NULL,
                herbs \(t.text) NOT NULL,
                instructions \(t.text),
                created_at_ms \(t.int64) NOT NULL,
                updated_at_ms \(t.int64) NOT NULL,
                UNIQUE (clinic_id, id)
            )
            """,
            """
            CREATE TABLE prescriptions (
                id \(t.uuid) PRIMARY KEY,
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL,
                consultation_id \(t.uuid),
                prescriber_id \(t.uuid) NOT NULL,
                content \(t.bytes) NOT NULL,
                created_at_ms \(t.int64) NOT NULL,
                FOREIGN KEY (clinic_id, patient_id) REFERENCES patients (clinic_id, id),
                FOREIGN KEY (clinic_id, consultation_id) REFERENCES consultations (clinic_id, id)
            )
            """,
            "CREATE INDEX prescriptions_by_patient ON prescriptions (clinic_id, patient_id, created_at_ms)",
        ])
        try await sql.execute(Self.lockedRecordTriggers(kind: sql.kind))
        try await RowLevelSecurity.enable(Self.tenantTables, on: sql)
    }

    /// Triggers that make written clinical records permanent.
    static func lockedRecordTriggers(kind: DatabaseKind) -> [String] {
        switch kind {
        case .sqlite:
            let refuse = "SELECT RAISE(ABORT, 'clinickeep: this clinical record is locked')"
            return [
                "CREATE TRIGGER consultations_signed_no_update BEFORE UPDATE ON consultations WHEN OLD.signed_at_ms IS NOT NULL BEGIN \(refuse); END",
                "CREATE TRIGGER consultations_signed_no_delete BEFORE DELETE ON consultations WHEN OLD.signed_at_ms IS NOT NULL BEGIN \(refuse); END",
                "CREATE TRIGGER consultation_amendments_no_update BEFORE UPDATE ON consultation_amendments BEGIN \(refuse); END",
                "CREATE TRIGGER consultation_amendments_no_delete BEFORE DELETE ON consultation_amendments BEGIN \(refuse); END",
                "CREATE TRIGGER prescriptions_no_update BEFORE UPDATE ON prescriptions BEGIN \(refuse); END",
                "CREATE TRIGGER prescriptions_no_delete BEFORE DELETE ON prescriptions BEGIN \(refuse); END",
            ]
        case .postgres:
            return [
                """
                CREATE FUNCTION clinickeep_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION 'clinickeep: rows of % are locked once written', TG_TABLE_NAME;
                END
                $$
                """,
                """
                CREATE FUNCTION clinickeep_refuse_signed_change() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF OLD.signed_at_ms IS NOT NULL THEN
                        RAISE EXCEPTION 'clinickeep: a signed consultation is locked';
                    END IF;
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                END
                $$
                """,
                "CREATE TRIGGER consultations_signed_locked BEFORE UPDATE OR DELETE ON consultations FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_signed_change()",
                "CREATE TRIGGER consultation_amendments_locked BEFORE UPDATE OR DELETE ON consultation_amendments FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_change()",
                "CREATE TRIGGER prescriptions_locked BEFORE UPDATE OR DELETE ON prescriptions FOR EACH ROW EXECUTE FUNCTION clinickeep_refuse_change()",
            ]
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(Self.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE prescriptions", "DROP TABLE formulas", "DROP TABLE consultation_amendments",
                               "DROP TABLE consultations", "DROP TABLE appointments", "DROP TABLE booking_locks",
                               "DROP TABLE appointment_types"])
        if sql.kind == .postgres {
            try await sql.execute(["DROP FUNCTION clinickeep_refuse_signed_change()", "DROP FUNCTION clinickeep_refuse_change()"])
        }
    }
}
