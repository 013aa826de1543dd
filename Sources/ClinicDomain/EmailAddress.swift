import Foundation

/// An e-mail address, checked for shape and folded for matching: lower case, and Unicode NFC, so
/// the composed and decomposed forms of one address (which look the same) are one address.
public struct EmailAddress: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    public init(parsing input: String, field: String = "email") throws(ClinicError) {
        let text = Self.folded(input.trimmingCharacters(in: .whitespacesAndNewlines))
        let bad = ClinicError.invalid(field, "Enter an e-mail address such as name@example.com.")
        guard text.utf8.count <= 254 else { throw bad }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw bad }
        let local = parts[0], domain = parts[1]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty else { throw bad }
        guard !text.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "<" || $0 == ">" || $0 == "\"" }) else { throw bad }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }) else { throw bad }
        self.value = text
    }
}

extension EmailAddress {
    /// Lower case in Unicode NFC: what addresses are matched and indexed as.
    public static func folded(_ text: String) -> String { text.lowercased().precomposedStringWithCanonicalMapping }

    /// Whether two texts are the same Unicode scalars (Swift's `==` treats canonically
    /// equivalent strings as equal, which is exactly what must be told apart here).
    public static func sameScalars(_ first: String, _ second: String) -> Bool {
        first.unicodeScalars.elementsEqual(second.unicodeScalars)
    }

    /// An address that was validated when it was stored (opened from a sealed field).
    public init(storedValue: String) { self.value = storedValue }
}
