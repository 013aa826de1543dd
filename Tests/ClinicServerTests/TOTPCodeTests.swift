import Foundation
import Testing
@testable import ClinicServer

@Suite("TOTP codes and secrets")
struct TOTPCodeTests {
    // RFC 6238 appendix B (SHA-1 key "12345678901234567890"), read as six digits.
    @Test("codes match RFC 6238's test vectors", arguments: [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")])
    func vectors(time: Int, code: String) {
        let secret = TOTPSecret(bytes: Data("12345678901234567890".utf8))
        #expect(secret.code(forStep: TOTPSecret.step(at: Date(timeIntervalSince1970: TimeInterval(time)))) == code)
    }

    @Test("a code matches one step either side and never a step already used")
    func window() {
        let secret = TOTPSecret.generate()
        let now = Date()
        let step = TOTPSecret.step(at: now)
        #expect(secret.matchingStep(for: secret.code(forStep: step - 1), at: now, after: nil) == step - 1)
        #expect(secret.matchingStep(for: secret.code(forStep: step + 1), at: now, after: nil) == step + 1)
        #expect(secret.matchingStep(for: secret.code(forStep: step - 2), at: now, after: nil) == nil)
        #expect(secret.matchingStep(for: secret.code(forStep: step), at: now, after: step) == nil)
        #expect(secret.matchingStep(for: "12345", at: now, after: nil) == nil)
    }

    @Test("base32 follows RFC 4648 and round-trips", arguments: [("f", "MY"), ("foo", "MZXW6"), ("foobar", "MZXW6YTBOI")])
    func base32(plain: String, encoded: String) {
        #expect(Base32.encode(Data(plain.utf8)) == encoded)
        #expect(Base32.decode(encoded) == Data(plain.utf8))
    }

    @Test("recovery codes carry 80 bits in four groups and read back however they are typed")
    func recoveryCodes() {
        let code = RecoveryCode.generate()
        #expect(code.count == 19 && code.split(separator: "-").count == 4)
        #expect(RecoveryCode.normalised(" " + code.uppercased().replacingOccurrences(of: "-", with: " ")) == code.replacingOccurrences(of: "-", with: ""))
        #expect(RecoveryCode.normalised("0000-0000-0000-0000") == nil)
    }
}
