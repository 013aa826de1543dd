import ClinicDomain
import Foundation
import SQLKit

/// Checks, inside a clinic's transaction, that ids named in a request body are this clinic's.
/// A foreign or unknown id is bad input (400 naming the field), the same answer either way.
enum ClinicReferences {
    static func requirePatient(_ id: PatientID, clinic: UUID, in tx: ScopedSQL, field: String = "patientId") async throws {
        guard try await patientExists(id, clinic: clinic, in: tx) else {
            throw ClinicError.invalid(field, "No patient with this id in this clinic.", code: "unknown_reference")
        }
    }

    /// For routes with the patient in the path: another clinic's patient, like one that does
    /// not exist, answers 404.
    static func requirePatientInPath(_ id: PatientID, clinic: UUID, in tx: ScopedSQL) async throws {
        guard try await patientExists(id, clinic: clinic, in: tx) else { throw ClinicError.notFound }
    }

    static func patientExists(_ id: PatientID, clinic: UUID, in tx: ScopedSQL) async throws -> Bool {
        try await tx.sql.raw("SELECT id FROM patients WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)").first() != nil
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
