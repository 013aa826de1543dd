import Foundation
import SQLKit

/// Each patient's first and last attended appointment at the clinic (practitioner
/// `DailyFigures.nobody`) and with each practitioner, so the practice's figures count patients
/// seen and new from one row per patient instead of searching each one's appointments (W7 in
/// bench/run). A patient whose first and last visits fall either side of the period is the one
/// case the row cannot answer, and is looked up in the appointments.
///
/// Derived like the daily sums: refreshed from the appointments in the transaction of every
/// status change that makes a visit attended or takes that back (arrived, then no-show), and
/// cut again whole by `rebuild`. It holds no more than the appointments' own clear columns do.
enum PatientVisits {
    static let tenantTables: [(table: String, column: String)] = [("patient_visits", "clinic_id")]

    /// Reads `patient`'s attended appointments again, overall and with `practitioner`, and
    /// writes their first and last (or removes the row when none is left).
    static func refresh(patient: UUID, practitioner: UUID, clinic: UUID, in tx: ScopedSQL) async throws {
        if tx.kind == .postgres {
            // One change per patient at a time: the second reads the appointments after the
            // first has committed (each statement sees the latest commits), not before.
            try await tx.sql.raw("""
                SELECT id FROM patients WHERE clinic_id = \(bind: clinic) AND id = \(bind: patient) FOR NO KEY UPDATE
                """).run()
        }
        for key in [DailyFigures.nobody, practitioner] {
            let narrowed: SQLQueryString = key == DailyFigures.nobody ? "" : " AND practitioner_id = \(bind: key)"
            let row = try await tx.sql.raw("""
                SELECT MIN(starts_at_ms) AS first_ms, MAX(starts_at_ms) AS last_ms FROM appointments
                WHERE clinic_id = \(bind: clinic) AND patient_id = \(bind: patient) AND status IN (\(binds: PracticeReport.attended))
                """ + narrowed).first()
            if let first = try row?.decode(column: "first_ms", as: Int64?.self), let last = try row?.decode(column: "last_ms", as: Int64?.self) {
                try await tx.sql.raw("""
                    INSERT INTO patient_visits (clinic_id, patient_id, practitioner_id, first_ms, last_ms)
                    VALUES (\(bind: clinic), \(bind: patient), \(bind: key), \(bind: first), \(bind: last))
                    ON CONFLICT (clinic_id, patient_id, practitioner_id) DO UPDATE SET first_ms = excluded.first_ms, last_ms = excluded.last_ms
                    """).run()
            } else {
                try await tx.sql.raw("""
                    DELETE FROM patient_visits WHERE clinic_id = \(bind: clinic) AND patient_id = \(bind: patient) AND practitioner_id = \(bind: key)
                    """).run()
            }
        }
    }

    /// Recomputes every row of `clinic` from its appointments; `sql` must be scoped to it.
    static func rebuild(clinic: UUID, in sql: any SQLDatabase) async throws {
        if sql.kind == .postgres {
            // As a rebuild of the daily sums does: a status change beside it (which share-locks
            // the clinic to read its zone) waits, so no row is written between the delete and
            // the insert, and none is read from before it.
            try await sql.raw("SELECT id FROM clinics WHERE id = \(bind: clinic) FOR UPDATE").run()
        }
        try await sql.raw("DELETE FROM patient_visits WHERE clinic_id = \(bind: clinic)").run()
        try await sql.raw("""
            INSERT INTO patient_visits (clinic_id, patient_id, practitioner_id, first_ms, last_ms)
            SELECT clinic_id, patient_id, \(bind: DailyFigures.nobody), MIN(starts_at_ms), MAX(starts_at_ms) FROM appointments
            WHERE clinic_id = \(bind: clinic) AND status IN (\(binds: PracticeReport.attended)) GROUP BY clinic_id, patient_id
            """).run()
        try await sql.raw("""
            INSERT INTO patient_visits (clinic_id, patient_id, practitioner_id, first_ms, last_ms)
            SELECT clinic_id, patient_id, practitioner_id, MIN(starts_at_ms), MAX(starts_at_ms) FROM appointments
            WHERE clinic_id = \(bind: clinic) AND status IN (\(binds: PracticeReport.attended)) GROUP BY clinic_id, patient_id, practitioner_id
            """).run()
    }
}
