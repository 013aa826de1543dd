import ClinicDomain
import Foundation
import SQLKit

/// Checks, inside a clinic's transaction, that ids named in a request body are this clinic's.
/// A foreign or unknown id is bad input (400 naming the field), the same answer either way.
enum ClinicReferences {
    static func requirePatient(_ id: PatientID, clinic: UUID, in tx: ScopedSQL, field: String = "patientId") async throws {
        let row = try await tx.sql.raw("SELECT id FROM patients WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)").first()
        guard row != nil else { throw ClinicError.invalid(field, "No patient with this id in this clinic.", code: "unknown_reference") }
    }

    /// The person must be a member of the clinic holding the practitioner role.
    static func requirePractitioner(_ id: UserID, clinic: UUID, in tx: ScopedSQL, field: String = "practitionerId") async throws {
        let row = try await tx.sql.raw("""
            SELECT roles FROM memberships WHERE clinic_id = \(bind: clinic) AND user_id = \(bind: id.rawValue)
            """).first()
        let roles = try row.flatMap { Role.parseList(try $0.decode(column: "roles", as: String.self)) } ?? []
        guard roles.contains(.practitioner) else {
            throw ClinicError.invalid(field, "No practitioner with this id in this clinic.", code: "unknown_reference")
        }
    }
}
