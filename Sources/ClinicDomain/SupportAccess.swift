import Foundation

/// The operator's access to a clinic, only by the clinic's consent: the operator asks (from the
/// command line, with a reason and a number of hours), an owner grants or refuses it in the app,
/// and while it is granted and unexpired a read-only support identity may sign in to that
/// clinic. The owner can revoke it at any time; it ends by itself when its hours are up.
public enum SupportAccess {
    /// A day is plenty for a support case; a longer need is asked for again.
    public static let maximumHours = 72
    public static let reasonLimit = 500
    public static let operatorLimit = 100

    /// What a support identity may do: read, never change; and never the clinical record, the
    /// patients' files, the clinic's money or its audit trail, which consent to a support case
    /// does not extend to.
    public static func allows(_ resource: ClinicResource, _ action: ClinicAction) -> Bool {
        guard action == .read else { return false }
        switch resource {
        case .patient, .schedule, .catalogue, .contact, .formulary, .staff, .clinicSettings: return true
        case .stock, .clinicalNote, .document, .finance, .auditLog, .report, .analytics, .export: return false
        }
    }

    public static func validatedHours(_ hours: Int?) throws(ClinicError) -> Int {
        guard let hours, (1...maximumHours).contains(hours) else {
            throw .invalid("hours", "Ask for between 1 and \(maximumHours) hours.")
        }
        return hours
    }

    /// A line of text from the operator (a reason, their name): required, bounded, no control characters.
    public static func validatedLine(_ text: String?, field: String, limit: Int) throws(ClinicError) -> String {
        let line = (text ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !line.isEmpty else { throw .invalid(field, "Give the \(field).", code: "required") }
        guard line.count <= limit else { throw .invalid(field, "Keep the \(field) under \(limit) characters.", code: "too_long") }
        guard !line.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalid(field, "The \(field) may not hold control characters.")
        }
        return line
    }
}

/// Where a support request stands. Requested → granted or refused; granted → revoked. Expiry is
/// not a state: a granted request whose hours are up simply no longer admits anyone.
public enum SupportAccessState: String, CaseIterable, Sendable {
    case requested, granted, refused, revoked

    public var next: Set<SupportAccessState> {
        switch self {
        case .requested: [.granted, .refused]
        case .granted: [.revoked]
        case .refused, .revoked: []
        }
    }

    public func checkedMove(to state: SupportAccessState) throws(ClinicError) -> SupportAccessState {
        guard next.contains(state) else {
            throw .conflict("invalid_transition", "A support request that is \(rawValue) cannot become \(state.rawValue).")
        }
        return state
    }
}
