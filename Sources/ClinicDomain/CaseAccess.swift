import Foundation

/// Case-based clinical access, for clinics that turn it on: a practitioner reads the clinical
/// record (consultations, prescriptions, files) only of patients they are involved with —
/// booked with them, treated by them, or on the patient's care team — and reaches anyone else's
/// only by breaking the glass: a stated reason, an hour's access, and the owners told.
///
/// The permission matrix still decides what a role may do at all; this narrows, for one
/// patient, what a practitioner's role alone would allow.
public enum CaseAccess {
    /// How long a break-glass grant opens a patient's record.
    public static let breakGlassLifetime: TimeInterval = 3600
    /// A reason is a sentence for the owners to read, not a document.
    public static let reasonLimit = 500

    /// Whether someone holding `roles` reads `resource` of a patient only when involved with
    /// them. Owners never are restricted (their reads are audited as always). Files are also
    /// the front desk's (consent forms, referral letters): an admin or receptionist keeps the
    /// access that role gives, so only a reader whose access to files comes from being a
    /// practitioner is narrowed.
    public static func requiresInvolvement(_ roles: Set<Role>, for resource: ClinicResource) -> Bool {
        guard !roles.contains(.owner), roles.contains(.practitioner) else { return false }
        switch resource {
        case .clinicalNote: return true
        case .document: return roles.isDisjoint(with: [.admin, .receptionist])
        default: return false
        }
    }

    /// The reason given for breaking the glass: required, one paragraph, bounded.
    public static func validatedReason(_ text: String?) throws(ClinicError) -> String {
        let reason = (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw .invalid("reason", "Say why you need this patient's record; the clinic's owners read it.", code: "required")
        }
        guard reason.count <= reasonLimit else {
            throw .invalid("reason", "Keep the reason under \(reasonLimit) characters.", code: "too_long")
        }
        guard !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw .invalid("reason", "The reason may not hold control characters.")
        }
        return reason
    }
}

extension ClinicError {
    /// A practitioner asked for the clinical record of a patient they are not involved with,
    /// in a clinic with case-based access: break the glass first.
    public static let breakGlassRequired = ClinicError(
        status: 403, code: "break_glass_required",
        message: "You are not involved in this patient's care. To read their record, give a reason (POST …/patients/{patientId}/break-glass); the clinic's owners are told.")
}
