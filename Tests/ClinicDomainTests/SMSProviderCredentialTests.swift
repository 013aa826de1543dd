import ClinicDomain
import Testing

/// A clinic's own SMS provider account, as stored: checked at the desk, not at the first send.
@Suite("SMS provider credential")
struct SMSProviderCredentialTests {
    @Test("SID, token and an E.164 sender are read from one value")
    func reads() throws {
        let credential = try SMSProviderCredential(parsing: "AC0123456789abcdef:9f86d081884c7d65:+61400000002")
        #expect(credential.accountSID == "AC0123456789abcdef")
        #expect(credential.authToken == "9f86d081884c7d65")
        #expect(credential.from == "+61400000002")
    }

    @Test("a value in the wrong shape is refused, naming the value field",
          arguments: ["AC01:token", "AC01:token:0400000002", "AC01::+61400000002", "AC 01:token:+61400000002",
                      "AC01:tok en:+61400000002", "AC01:token:+61400000002:extra", ""])
    func refuses(_ value: String) {
        do {
            _ = try SMSProviderCredential(parsing: value)
            Issue.record("accepted \(value)")
        } catch {
            #expect(error.status == 400 && error.field == "value")
        }
    }

    @Test("only the sms-provider kind is held to that shape")
    func onlyThatKind() throws {
        #expect(throws: ClinicError.self) { try IntegrationSecretRules.checkValue("just-a-key", kind: .smsProvider) }
        try IntegrationSecretRules.checkValue("just-a-key", kind: .integrationKey)
    }
}
