import Fluent
import SQLKit

/// A patient's sex and postcode, sealed like every other demographic column, so the pseudonymised
/// analytics export can band by them without reading the free-text address.
struct AddPatientDemographics: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let t = sql.types
        try await sql.execute([
            "ALTER TABLE patients ADD COLUMN sex \(t.bytes)",
            "ALTER TABLE patients ADD COLUMN postcode \(t.bytes)",
        ])
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.execute(["ALTER TABLE patients DROP COLUMN postcode", "ALTER TABLE patients DROP COLUMN sex"])
    }
}
