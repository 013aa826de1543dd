import Foundation

/// Password rules from NIST SP 800-63B and OWASP ASVS 4.0.3 level 2 (V2.1): length only,
/// no composition rules, no forced rotation, and never a password that is known to be common.
public struct PasswordPolicy: Sendable {
    public var minimumLength: Int
    public var maximumLength: Int
    private let commonPasswords: Set<String>

    /// ASVS 2.1.1 (at least 12) and 2.1.2 (at least 64 allowed, we allow 128).
    public init(minimumLength: Int = 12, maximumLength: Int = 128, commonPasswords: Set<String>) {
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
        self.commonPasswords = commonPasswords
    }

    /// Loads the newline-separated list shipped with the server.
    public static func commonPasswords(fromList text: String) -> Set<String> {
        Set(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
    }

    /// The lowest minimum a clinic may choose, and only when it requires MFA of everyone
    /// (NIST SP 800-63B rev 4: 8 characters when the password is one of two factors).
    public static let lowestMinimumWithMFA = 8

    /// `minimumLength` overrides the default for a person whose clinics chose otherwise.
    public func check(_ password: String, field: String = "password", minimumLength: Int? = nil) throws(ClinicError) {
        // ASVS 2.1.4: any printable Unicode counts; NFC so that one visible character counts once.
        let normalised = password.precomposedStringWithCanonicalMapping
        let length = normalised.count
        let minimumLength = max(minimumLength ?? self.minimumLength, Self.lowestMinimumWithMFA)
        if length < minimumLength {
            throw .invalid(field, "Use at least \(minimumLength) characters; a few unrelated words make a good password.", code: "password_too_short")
        }
        if length > maximumLength {
            throw .invalid(field, "Use at most \(maximumLength) characters.", code: "password_too_long")
        }
        if commonPasswords.contains(normalised.lowercased()) {
            throw .invalid(field, "This password is on the list of commonly used passwords; choose another.", code: "password_common")
        }
    }
}
