import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Password reset by e-mailed link")
struct PasswordResetTests {
    func token(in body: String) throws -> String {
        let range = try #require(body.range(of: "reset-password?token="))
        return String(body[range.upperBound...].prefix(43))
    }

    // ASVS 2.5.1, 2.5.6, 3.3.3
    @Test("the e-mailed link sets a new password once and ends every session", arguments: TestDatabase.allCases)
    func reset(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            #expect(try await app.send(.POST, "/api/v1/auth/password-reset", json: ["email": owner.email]).status == .accepted)
            let body = try #require(try await app.awaitMail(to: owner.email, subjectContains: "reset"))
            let token = try token(in: body)
            let newPassword = "a brand new passphrase 42"
            let done = try await app.send(.POST, "/api/v1/auth/password-reset/complete", json: ["token": token, "newPassword": newPassword])
            #expect(done.status == .noContent)
            #expect(try await app.send(.GET, "/api/v1/me", as: owner).status == .unauthorized)
            let again = try await app.send(.POST, "/api/v1/auth/password-reset/complete", json: ["token": token, "newPassword": "yet another passphrase 7"])
            #expect(again.status == .badRequest && again.errorCode == "reset_token_invalid")
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": newPassword]).status == .ok)
            #expect(try await app.identityActions().contains("password.reset.complete"))
        }
    }

    // Security review round 2, A18: a link mailed before a password change no longer sets a password.
    @Test("changing the password spends every outstanding reset link", arguments: TestDatabase.allCases)
    func changeSpendsLinks(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await app.send(.POST, "/api/v1/auth/password-reset", json: ["email": owner.email])
            let token = try token(in: try #require(try await app.awaitMail(to: owner.email, subjectContains: "reset")))
            let changed = try await app.send(.POST, "/api/v1/me/password", json: ["currentPassword": owner.password, "newPassword": "a changed passphrase 31"], as: owner)
            #expect(changed.status == .noContent)
            let late = try await app.send(.POST, "/api/v1/auth/password-reset/complete", json: ["token": token, "newPassword": "an attackers passphrase 5"])
            #expect(late.status == .badRequest && late.errorCode == "reset_token_invalid")
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": "a changed passphrase 31"]).status == .ok)
        }
    }

    @Test("an unknown e-mail gets the same 202 and no mail is written", arguments: TestDatabase.allCases)
    func unknown(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let stranger = Canary.email()
            let answer = try await app.send(.POST, "/api/v1/auth/password-reset", json: ["email": stranger])
            #expect(answer.status == .accepted)
            let mail = try await app.awaitMail(to: stranger, subjectContains: "reset", timeout: 1)
            #expect(mail == nil)
        }
    }

    @Test("a new password that breaks the policy is refused and the link still works", arguments: TestDatabase.allCases)
    func policyKeepsToken(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await app.send(.POST, "/api/v1/auth/password-reset", json: ["email": owner.email])
            let token = try token(in: try #require(try await app.awaitMail(to: owner.email, subjectContains: "reset")))
            let short = try await app.send(.POST, "/api/v1/auth/password-reset/complete", json: ["token": token, "newPassword": "short"])
            #expect(short.status == .badRequest && short.errorCode == "password_too_short")
            let fine = try await app.send(.POST, "/api/v1/auth/password-reset/complete", json: ["token": token, "newPassword": "long enough and unusual 9"])
            #expect(fine.status == .noContent)
        }
    }

    // DC-9
    @Test("a reset lifts the sign-in lockout", arguments: TestDatabase.allCases)
    func liftsLockout(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            for _ in 0..<10 { _ = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": "wrong password here"]) }
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": owner.password]).status == .tooManyRequests)
            _ = try await app.send(.POST, "/api/v1/auth/password-reset", json: ["email": owner.email])
            let token = try token(in: try #require(try await app.awaitMail(to: owner.email, subjectContains: "reset")))
            let newPassword = "after the lockout passphrase"
            #expect(try await app.send(.POST, "/api/v1/auth/password-reset/complete", json: ["token": token, "newPassword": newPassword]).status == .noContent)
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": newPassword]).status == .ok)
        }
    }

    // ASVS 2.2.1
    @Test("reset requests are limited per account: the fourth in fifteen minutes is 429", arguments: TestDatabase.allCases)
    func requestsLimited(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let email = Canary.email()
            var statuses: [HTTPStatus] = []
            for _ in 0..<4 { statuses.append(try await app.send(.POST, "/api/v1/auth/password-reset", json: ["email": email]).status) }
            #expect(statuses == [.accepted, .accepted, .accepted, .tooManyRequests])
        }
    }
}
