import ClinicDomain
import Foundation
import SQLKit

/// Case-based access in the database (`CaseAccess` holds the rule): who is involved in a
/// patient's care, and the refusal, recorded, for someone who is not.
///
/// Involved means: booked with the patient by someone else (a practitioner cannot make
/// themselves involved by booking or by moving a booking to themselves, and a cancelled or
/// missed booking does not count), the author
/// of one of their consultations or prescriptions (writing one needs involvement already), on
/// their care team, or holding an unexpired break-glass grant for them.
enum PatientInvolvement {
    /// Whether this scope's reads of `resource` are narrowed to patients it is involved with.
    static func applies(to scope: ClinicScope, _ resource: ClinicResource) -> Bool {
        scope.caseBasedAccess && CaseAccess.requiresInvolvement(scope.roles, for: resource)
    }

    /// The ids of the patients the scope's person is involved with, as a subquery.
    static func involvedPatients(_ scope: ClinicScope, now: Int64) -> SQLQueryString {
        let clinic = scope.realm, person = scope.actor.rawValue
        return """
            SELECT patient_id FROM appointments WHERE clinic_id = \(bind: clinic) AND practitioner_id = \(bind: person)
                AND COALESCE(assigned_by, created_by) <> \(bind: person) AND status IN ('booked', 'arrived', 'completed')
            UNION SELECT patient_id FROM consultations WHERE clinic_id = \(bind: clinic) AND practitioner_id = \(bind: person)
            UNION SELECT patient_id FROM prescriptions WHERE clinic_id = \(bind: clinic) AND prescriber_id = \(bind: person)
            UNION SELECT patient_id FROM care_team_members WHERE clinic_id = \(bind: clinic) AND practitioner_id = \(bind: person)
            UNION SELECT patient_id FROM break_glass_grants WHERE clinic_id = \(bind: clinic) AND user_id = \(bind: person) AND expires_at_ms > \(bind: now)
            """
    }

    /// For lists: ` AND patient_id IN (…)` when the scope is narrowed for `resource`, else nothing.
    static func listFilter(_ scope: ClinicScope, _ resource: ClinicResource) -> SQLQueryString? {
        guard applies(to: scope, resource) else { return nil }
        return " AND patient_id IN (" + involvedPatients(scope, now: Date().milliseconds) + ")"
    }

    /// nil when the scope may read this patient's `resource`. Otherwise the refusal, already
    /// appended to the clinic's chain: the caller ends its unit of work with `Outcome.refused`,
    /// so the denial commits and the error is thrown after.
    static func refusal(_ scope: ClinicScope, patient: PatientID, _ resource: ClinicResource, in tx: ScopedSQL) async throws -> ClinicError? {
        guard applies(to: scope, resource) else { return nil }
        // A made-up id is not a patient seen: no denial names it (breach scoping counts them), and
        // the caller answers as it does for anyone (an empty list).
        guard try await ClinicReferences.patientExists(patient, clinic: scope.realm, in: tx) else { return nil }
        let query: SQLQueryString = "SELECT id FROM patients WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: patient.rawValue) AND id IN ("
            + involvedPatients(scope, now: Date().milliseconds) + ")"
        guard try await tx.sql.raw(query).first() == nil else { return nil }
        try await Ledger.append(scope.event("access.denied", resourceType: "patient", resource: patient.rawValue, outcome: .denied,
                                            detail: "needs=involvement resource=\(resource.rawValue)"), in: tx)
        return .breakGlassRequired
    }
}
