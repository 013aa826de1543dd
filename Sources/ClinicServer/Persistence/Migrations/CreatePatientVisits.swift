import Fluent
import Foundation
import SQLKit

/// Each patient's first and last attended appointment (`PatientVisits`), filled from what each
/// clinic already holds, so patients seen and new are read from one row per patient.
struct CreatePatientVisits: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            """
            CREATE TABLE patient_visits (
                clinic_id \(t.uuid) NOT NULL REFERENCES clinics(id),
                patient_id \(t.uuid) NOT NULL REFERENCES patients(id),
                practitioner_id \(t.uuid) NOT NULL,
                first_ms \(t.int64) NOT NULL,
                last_ms \(t.int64) NOT NULL,
                PRIMARY KEY (clinic_id, practitioner_id, patient_id)
            )
            """,
        ])
        try await RowLevelSecurity.enable(PatientVisits.tenantTables, on: sql)
        // Each clinic's rows are written in its own realm: row-level security admits no other.
        let clinics = try await sql.raw("SELECT id FROM clinics").all().map { try $0.decode(column: "id", as: UUID.self) }
        for clinic in clinics {
            try await database.transaction { db in
                let scoped = db as! any SQLDatabase
                if scoped.kind == .postgres {
                    try await scoped.raw("SELECT set_config('clinickeep.realm', \(bind: clinic.uuidString.lowercased()), true)").run()
                }
                try await PatientVisits.rebuild(clinic: clinic, in: scoped)
            }
        }
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await RowLevelSecurity.disable(PatientVisits.tenantTables, on: sql)
        try await sql.execute(["DROP TABLE patient_visits"])
    }
}
