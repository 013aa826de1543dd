@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// Security review round 2, B3 (DC-22): the operator contains an account during an incident.
@Suite("Account containment")
struct AccountContainmentTests {
    func apply(_ app: ClinicTestApp, _ step: AccountContainment.Step, _ email: String) async throws -> Int? {
        try await AccountContainment(services: app.services).apply(step, to: try EmailAddress(parsing: email), requestID: "test")
    }

    @Test("a locked account's sessions end at once and its sign-in fails as a wrong password does, until unlocked", arguments: TestDatabase.allCases)
    func lockAndUnlock(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let other = try await app.signUpClinic()
            #expect(try await apply(app, .lock, owner.email) == 1)
            #expect(try await app.send(.GET, "/api/v1/me", as: owner).status == .unauthorized)
            let refused = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": owner.password])
            let wrong = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": "not the password at all"])
            #expect(refused.status == .unauthorized && refused.errorCode == wrong.errorCode)
            // Another account is untouched.
            #expect(try await app.send(.GET, "/api/v1/me", as: other).status == .ok)
            #expect(try await apply(app, .unlock, owner.email) == 0)
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": owner.password]).status == .ok)
            #expect(try await app.identityActions().contains("user.lock"))
            #expect(try await app.identityActions().contains("user.unlock"))
        }
    }

    @Test("revoking an account's sessions ends them all, and sign-in still works; an unknown address is told")
    func revokeSessions() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let second = try await app.logIn(email: owner.email, password: owner.password, clinicID: owner.clinicID, userID: owner.userID)
            #expect(try await apply(app, .revokeSessions, owner.email) == 2)
            #expect(try await app.send(.GET, "/api/v1/me", as: owner).status == .unauthorized)
            #expect(try await app.send(.GET, "/api/v1/me", as: second).status == .unauthorized)
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": owner.password]).status == .ok)
            #expect(try await apply(app, .lock, Canary.email()) == nil)
        }
    }
}
