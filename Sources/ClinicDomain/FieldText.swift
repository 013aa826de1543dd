import Foundation

/// The checks every free-text field of a record gets: trimmed, bounded, and free of control
/// characters (which have no place in a name or an address and can forge log lines).
public enum FieldText {
    public static func isBlank(_ text: String) -> Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

    /// A required field: present and not blank.
    public static func required(_ value: String?, field: String, maximum: Int, message: String = "This field is required.") throws(ClinicError) -> String {
        guard let value, !isBlank(value) else { throw .invalid(field, message, code: "required") }
        return try checked(value, field: field, maximum: maximum)
    }

    /// An optional field as sent in a change: nil leaves it, blank clears it.
    public static func optional(_ value: String?, field: String, maximum: Int) throws(ClinicError) -> String?? {
        guard let value else { return .none }
        return .some(isBlank(value) ? nil : try checked(value, field: field, maximum: maximum))
    }

    public static func checked(_ value: String, field: String, maximum: Int) throws(ClinicError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count <= maximum else { throw .invalid(field, "Use at most \(maximum) characters.") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw .invalid(field, "Remove the control characters from this field.")
        }
        return trimmed
    }
}
