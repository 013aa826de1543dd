import Testing
import ClinicDomain

@Suite("Password policy (ASVS 2.1, NIST SP 800-63B)")
struct PasswordPolicyTests {
    let policy = PasswordPolicy(commonPasswords: PasswordPolicy.commonPasswords(fromList: "password1234\nqwertyuiopas\n"))

    // DC-4, ASVS 2.1.1
    @Test("fewer than 12 characters is refused")
    func tooShort() {
        do {
            try policy.check("short pass1")
            Issue.record("accepted an 11-character password")
        } catch {
            #expect(error.code == "password_too_short")
            #expect(error.field == "password")
        }
    }

    // ASVS 2.1.2
    @Test("up to 128 characters is accepted, more is refused")
    func maximum() throws {
        try policy.check(String(repeating: "a", count: 128))
        #expect(throws: ClinicError.self) { try policy.check(String(repeating: "a", count: 129)) }
    }

    // ASVS 2.1.7, DC-4
    @Test("a common password is refused whatever its case")
    func common() {
        #expect(throws: ClinicError.self) { try policy.check("Password1234") }
    }

    // ASVS 2.1.9, 2.1.4
    @Test("no composition rules: lower-case words and any Unicode are fine")
    func noComposition() throws {
        try policy.check("correct horse battery staple")
        try policy.check("мой пароль очень длинный")
    }

    @Test("a composed and a decomposed accent count as one character")
    func normalisedLength() throws {
        let decomposed = String(repeating: "e\u{0301}", count: 12)
        try policy.check(decomposed)
    }
}

