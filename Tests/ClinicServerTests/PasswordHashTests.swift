import ClinicTestSupport
import Foundation
import Testing
@testable import ClinicServer

@Suite("Stored password hashes")
struct PasswordHashTests {
    // ASVS 2.4.1: bcrypt reads 72 bytes; the versioned pre-hash makes every byte count.
    @Test("two passwords that share their first 72 bytes are different passwords")
    func beyond72Bytes() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let head = String(repeating: "ab", count: 36)
            let hash = try await app.services.hashPassword(head + " first ending")
            #expect(hash.hasPrefix("$ck1$$2"))
            #expect(try await app.services.verifyPassword(head + " first ending", hash: hash))
            #expect(try await !app.services.verifyPassword(head + " other ending", hash: hash))
        }
    }
}
