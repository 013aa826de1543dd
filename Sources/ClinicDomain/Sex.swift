import Foundation

/// A patient's sex as recorded for care, in HL7 FHIR's administrative-gender codes: the words a
/// clinic's forms and other systems already use. Optional on a patient, and sealed like the rest.
public enum Sex: String, CaseIterable, Sendable, Hashable {
    case female, male, other, unknown

    public init(parsing input: String) throws(ClinicError) {
        guard let sex = Sex(rawValue: input.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw ClinicError.invalid("sex", "Choose female, male, other or unknown.")
        }
        self = sex
    }
}
