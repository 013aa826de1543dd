import Foundation

/// What a third-party credential a clinic keeps with ClinicKeep is for. Each is sealed like a
/// patient's record and never shown again once stored: only the server uses it.
public enum IntegrationSecretKind: String, CaseIterable, Sendable, Codable {
    /// An OAuth access or refresh token from a payment provider.
    case paymentProviderToken = "payment-provider-token"
    /// An API key of an integration (SMS gateway, pathology lab, accounting).
    case integrationKey = "integration-key"
    /// A secret that signs or checks webhooks.
    case webhookSecret = "webhook-secret"
    /// The clinic's own Twilio account for its patients' SMS and WhatsApp, used instead of the
    /// operator's: `ACCOUNT_SID:AUTH_TOKEN:+SENDER` (`SMSProviderCredential`).
    case smsProvider = "sms-provider"
}

/// A clinic's Twilio account as it stores it: the account SID, the auth token and the number
/// messages come from, in one value `ACCOUNT_SID:AUTH_TOKEN:+61400000000`, checked when stored
/// so that a typo is a 400 at the desk, not a failed reminder a day later.
public struct SMSProviderCredential: Sendable, Equatable {
    public let accountSID: String
    public let authToken: String
    public let from: String

    public init(parsing value: String) throws(ClinicError) {
        let parts = value.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else {
            throw .invalid("value", "An SMS provider credential is ACCOUNT_SID:AUTH_TOKEN:+SENDER, such as AC0123…:9f86…:+61400000000.")
        }
        let token = parts[1]
        guard (2...64).contains(parts[0].count), parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .invalid("value", "The account SID is 2 to 64 letters and digits.")
        }
        guard (1...256).contains(token.count), token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw .invalid("value", "The auth token is 1 to 256 visible ASCII characters.")
        }
        guard PhoneNumber.isE164(parts[2]) else {
            throw .invalid("value", "The sender is a number in E.164 form, such as +61400000000.")
        }
        (accountSID, authToken, from) = (parts[0], token, parts[2])
    }
}

/// Checks a credential before it is sealed: named, and of a size a credential has.
public enum IntegrationSecretRules {
    public static let maximumLength = 4096
    public static let maximumLabelLength = 100

    public static func checkLabel(_ label: String) throws(ClinicError) -> String {
        let trimmed = label.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.count <= maximumLabelLength, trimmed.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw .invalid("label", "Name the credential in 1 to \(maximumLabelLength) characters, on one line.")
        }
        return trimmed
    }

    public static func checkValue(_ value: String, kind: IntegrationSecretKind) throws(ClinicError) {
        guard !value.isEmpty, value.utf8.count <= maximumLength else {
            throw .invalid("value", "A credential is 1 to \(maximumLength) bytes.")
        }
        if kind == .smsProvider { _ = try SMSProviderCredential(parsing: value) }
    }
}
