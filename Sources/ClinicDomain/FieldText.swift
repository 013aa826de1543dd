import Foundation

/// The checks every free-text field of a record gets: trimmed, bounded, and free of control
/// characters (which have no place in a name or an address and can forge log lines).
public enum FieldText {
    public static func isBlank(_ text: String) -> Bool { text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

    /// A required field: present and not blank.
    public static func required(_ value: String?, field: String, maximum: Int, singleLine: Bool = false,
                                message: String = "This field is required.") throws(ClinicError) -> String {
        guard let value, !isBlank(value) else { throw .invalid(field, message, code: "required") }
        return try checked(value, field: field, maximum: maximum, singleLine: singleLine)
    }

    /// An optional field as sent in a change: nil leaves it, blank clears it.
    public static func optional(_ value: String?, field: String, maximum: Int, singleLine: Bool = false) throws(ClinicError) -> String?? {
        guard let value else { return .none }
        return .some(isBlank(value) ? nil : try checked(value, field: field, maximum: maximum, singleLine: singleLine))
    }

    public static func checked(_ value: String, field: String, maximum: Int, singleLine: Bool = false) throws(ClinicError) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        // Code points, as JSON Schema's maxLength counts them: one letter with a hundred combining
        // marks is one Character but a hundred and one code points (and as many bytes stored).
        guard trimmed.unicodeScalars.count <= maximum else { throw .invalid(field, "Use at most \(maximum) characters.") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw .invalid(field, "Remove the control characters from this field.")
        }
        // A name or code is one line, and reads the way it is stored: no line or paragraph
        // separators, no direction overrides that make a list show something else.
        if singleLine, trimmed.unicodeScalars.contains(where: { $0 == "\n" || lineBreaking.contains($0.properties.generalCategory) || directionControls.contains($0.value) }) {
            throw .invalid(field, "Keep this field to one line of plain text.")
        }
        return trimmed
    }

    private static let lineBreaking: Set<Unicode.GeneralCategory> = [.lineSeparator, .paragraphSeparator]
    private static let directionControls: Set<UInt32> = [0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069]
}
