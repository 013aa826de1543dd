import Foundation

/// The four parts of a consultation note (SOAP). Every part is clinical free text: sealed
/// before it reaches a database, never logged.
public struct ConsultationNote: Sendable, Equatable, Codable {
    public var subjective: String?
    public var objective: String?
    public var assessment: String?
    public var plan: String?

    public static let parts = ["subjective", "objective", "assessment", "plan"]
    public static let maximumLength = 20_000

    public init(subjective: String? = nil, objective: String? = nil, assessment: String? = nil, plan: String? = nil) {
        self.subjective = subjective
        self.objective = objective
        self.assessment = assessment
        self.plan = plan
    }

    public var isEmpty: Bool { subjective == nil && objective == nil && assessment == nil && plan == nil }

    public subscript(part: String) -> String? {
        switch part {
        case "subjective": return subjective
        case "objective": return objective
        case "assessment": return assessment
        case "plan": return plan
        default: return nil
        }
    }

    /// Checks submitted text; parts left out or blank are empty.
    public static func validated(subjective: String?, objective: String?, assessment: String?, plan: String?) throws(ClinicError) -> ConsultationNote {
        ConsultationNote(
            subjective: try ClinicalText.optional(subjective, field: "subjective", maximum: maximumLength),
            objective: try ClinicalText.optional(objective, field: "objective", maximum: maximumLength),
            assessment: try ClinicalText.optional(assessment, field: "assessment", maximum: maximumLength),
            plan: try ClinicalText.optional(plan, field: "plan", maximum: maximumLength))
    }

    /// A draft change: a part left out stays, a blank one is cleared.
    public func applying(subjective: String?, objective: String?, assessment: String?, plan: String?) throws(ClinicError) -> ConsultationNote {
        var note = self
        if let subjective { note.subjective = try ClinicalText.optional(subjective, field: "subjective", maximum: Self.maximumLength) }
        if let objective { note.objective = try ClinicalText.optional(objective, field: "objective", maximum: Self.maximumLength) }
        if let assessment { note.assessment = try ClinicalText.optional(assessment, field: "assessment", maximum: Self.maximumLength) }
        if let plan { note.plan = try ClinicalText.optional(plan, field: "plan", maximum: Self.maximumLength) }
        return note
    }
}

/// A consultation is a draft until its practitioner signs it; from then on it never changes
/// (the database refuses too), and corrections are amendments that sit beside the original.
public enum ConsultationState: String, Sendable {
    case draft, signed

    public func checkEditable() throws(ClinicError) {
        guard self == .draft else {
            throw .conflict("consultation_signed", "This consultation is signed and locked; add an amendment instead.")
        }
    }

    public func checkAmendable() throws(ClinicError) {
        guard self == .signed else {
            throw .conflict("consultation_not_signed", "This consultation is still a draft; change it directly, or sign it first.")
        }
    }
}

/// A correction to a signed consultation: why, and the parts as they should now read.
public struct Amendment: Sendable, Equatable {
    public let reason: String
    public let note: ConsultationNote

    public static func validated(reason: String?, subjective: String?, objective: String?, assessment: String?,
                                 plan: String?) throws(ClinicError) -> Amendment {
        let reason = try ClinicalText.required(reason, field: "reason", maximum: 1_000)
        let note = try ConsultationNote.validated(subjective: subjective, objective: objective, assessment: assessment, plan: plan)
        guard !note.isEmpty else {
            throw .invalid("subjective", "Give at least one part of the note as it should read.", code: "required")
        }
        return Amendment(reason: reason, note: note)
    }
}
