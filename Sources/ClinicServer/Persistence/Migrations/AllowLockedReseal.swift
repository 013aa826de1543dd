import Fluent
import SQLKit

/// Locked records (a signed consultation, an amendment, a prescription) refuse every change but
/// one: a sealed column replaced by a value of the same shape under a strictly newer key
/// version, every other column untouched. That is what `keys reencrypt` writes, so a clinic's old
/// key version can be retired without leaving its signed records behind.
///
/// What the database cannot check is that the newer value holds the same plaintext: only whoever
/// holds the clinic's keys can seal one, and each version admits one such step per column, never
/// back. The triggers name every other column: a column added to these tables later must be
/// added here too, or it becomes changeable.
struct AllowLockedReseal: AsyncMigration {
    struct LockedTable {
        let name: String
        let fixed: [String]
        let sealed: [String]
        /// Locked only once this column is set (a consultation, once signed); otherwise from the start.
        let lockedWhenSet: String?
    }

    static let tables = [
        LockedTable(name: "consultations",
                    fixed: ["id", "clinic_id", "patient_id", "appointment_id", "practitioner_id", "created_at_ms", "updated_at_ms", "signed_at_ms"],
                    sealed: ["subjective", "objective", "assessment", "plan"], lockedWhenSet: "signed_at_ms"),
        LockedTable(name: "consultation_amendments",
                    fixed: ["id", "clinic_id", "consultation_id", "author_id", "created_at_ms"],
                    sealed: ["reason", "subjective", "objective", "assessment", "plan"], lockedWhenSet: nil),
        LockedTable(name: "prescriptions",
                    fixed: ["id", "clinic_id", "patient_id", "consultation_id", "prescriber_id", "created_at_ms"],
                    sealed: ["content"], lockedWhenSet: nil),
    ]

    /// The smallest sealed value: header (5), nonce (12), tag (16).
    private static let minimumSealed = 33

    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        switch sql.kind {
        case .sqlite:
            var statements: [String] = []
            for table in Self.tables {
                let oldTrigger = table.lockedWhenSet == nil ? "\(table.name)_no_update" : "\(table.name)_signed_no_update"
                let reseal = table.fixed.map { "NEW.\($0) IS OLD.\($0)" } + table.sealed.map { column in
                    "(NEW.\(column) IS OLD.\(column) OR (OLD.\(column) IS NOT NULL AND NEW.\(column) IS NOT NULL"
                        + " AND length(NEW.\(column)) >= \(Self.minimumSealed) AND substr(NEW.\(column), 1, 1) = X'01'"
                        + " AND substr(NEW.\(column), 2, 4) > substr(OLD.\(column), 2, 4)))"
                }
                let locked = table.lockedWhenSet.map { "OLD.\($0) IS NOT NULL AND " } ?? ""
                statements += [
                    "DROP TRIGGER \(oldTrigger)",
                    """
                    CREATE TRIGGER \(oldTrigger) BEFORE UPDATE ON \(table.name)
                    WHEN \(locked)NOT COALESCE((\(reseal.joined(separator: " AND "))), 0)
                    BEGIN SELECT RAISE(ABORT, 'clinickeep: this clinical record is locked'); END
                    """,
                ]
            }
            try await sql.execute(statements)
        case .postgres:
            var statements = [
                """
                CREATE FUNCTION clinickeep_is_reseal(old_value bytea, new_value bytea) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
                    SELECT COALESCE(new_value IS NOT DISTINCT FROM old_value
                        OR (old_value IS NOT NULL AND new_value IS NOT NULL AND length(new_value) >= \(Self.minimumSealed)
                            AND substring(new_value from 1 for 1) = decode('01', 'hex')
                            AND substring(new_value from 2 for 4) > substring(old_value from 2 for 4)), false)
                $$
                """,
            ]
            for table in Self.tables {
                let oldTrigger = table.lockedWhenSet == nil ? "\(table.name)_locked" : "\(table.name)_signed_locked"
                let fixedNew = table.fixed.map { "NEW.\($0)" }.joined(separator: ", ")
                let fixedOld = table.fixed.map { "OLD.\($0)" }.joined(separator: ", ")
                let sealed = table.sealed.map { "clinickeep_is_reseal(OLD.\($0), NEW.\($0))" }.joined(separator: " AND ")
                let unlocked = table.lockedWhenSet.map { column in
                    "IF OLD.\(column) IS NULL THEN IF TG_OP = 'DELETE' THEN RETURN OLD; END IF; RETURN NEW; END IF;"
                } ?? ""
                statements += [
                    "DROP TRIGGER \(oldTrigger) ON \(table.name)",
                    """
                    CREATE FUNCTION clinickeep_\(table.name)_locked() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        \(unlocked)
                        IF TG_OP = 'UPDATE' AND ROW(\(fixedNew)) IS NOT DISTINCT FROM ROW(\(fixedOld)) AND \(sealed) THEN
                            RETURN NEW;
                        END IF;
                        RAISE EXCEPTION 'clinickeep: rows of % are locked once written', TG_TABLE_NAME;
                    END
                    $$
                    """,
                    "CREATE TRIGGER \(oldTrigger) BEFORE UPDATE OR DELETE ON \(table.name) FOR EACH ROW EXECUTE FUNCTION clinickeep_\(table.name)_locked()",
                ]
            }
            try await sql.execute(statements)
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        switch sql.kind {
        case .sqlite:
            try await sql.execute(Self.tables.map { table in
                "DROP TRIGGER " + (table.lockedWhenSet == nil ? "\(table.name)_no_update" : "\(table.name)_signed_no_update")
            })
            try await sql.execute(CreateClinicalRecords.lockedRecordTriggers(kind: .sqlite).filter { $0.contains("_no_update") })
        case .postgres:
            for table in Self.tables {
                let trigger = table.lockedWhenSet == nil ? "\(table.name)_locked" : "\(table.name)_signed_locked"
                try await sql.execute(["DROP TRIGGER \(trigger) ON \(table.name)", "DROP FUNCTION clinickeep_\(table.name)_locked()"])
            }
            try await sql.execute(["DROP FUNCTION clinickeep_is_reseal(bytea, bytea)"])
            try await sql.execute(CreateClinicalRecords.lockedRecordTriggers(kind: .postgres).filter { $0.hasPrefix("CREATE TRIGGER") })
        }
    }
}
