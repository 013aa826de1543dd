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

    public static func checkValue(_ value: String) throws(ClinicError) {
        guard !value.isEmpty, value.utf8.count <= maximumLength else {
            throw .invalid("value", "A credential is 1 to \(maximumLength) bytes.")
        }
    }
}
