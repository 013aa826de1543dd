import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Your sessions and password")
struct MySessionsTests {
    // DC-7, ASVS 3.3.4
    @Test("a person sees their live sessions, the current one marked", arguments: TestDatabase.allCases)
    func listSessions(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            _ = try await app.logIn(email: first.email, password: first.password, clinicID: first.clinicID, userID: first.userID)
            let response = try await app.send(.GET, "/api/v1/me/sessions", as: first, headers: ["User-Agent": "TestBrowser/1.0"])
            let sessions = try #require(response.json["sessions"] as? [[String: Any]])
            #expect(sessions.count == 2)
            #expect(sessions.filter { $0["current"] as? Bool == true }.count == 1)
        }
    }

    // DC-7
    @Test("a revoked session is refused on its next request", arguments: TestDatabase.allCases)
    func revokeOne(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            let second = try await app.logIn(email: first.email, password: first.password, clinicID: first.clinicID, userID: first.userID)
            let sessions = try await app.send(.GET, "/api/v1/me/sessions", as: first).json["sessions"] as? [[String: Any]] ?? []
            let other = try #require(sessions.first { $0["current"] as? Bool == false }?["id"] as? String)
            #expect(try await app.send(.DELETE, "/api/v1/me/sessions/\(other)", as: first).status == .noContent)
            #expect(try await app.send(.GET, "/api/v1/me", as: second).status == .unauthorized)
            #expect(try await app.send(.GET, "/api/v1/me", as: first).status == .ok)
        }
    }

    @Test("someone else's session cannot be revoked")
    func revokeOthersRefused() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let first = try await app.signUpClinic()
            let stranger = try await app.signUpClinic()
            let theirs = try await app.send(.GET, "/api/v1/me/sessions", as: stranger).json["sessions"] as? [[String: Any]] ?? []
            let id = try #require(theirs.first?["id"] as? String)
            #expect(try await app.send(.DELETE, "/api/v1/me/sessions/\(id)", as: first).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/me", as: stranger).status == .ok)
        }
    }

    // ASVS 3.3.3, 2.1.5
    @Test("changing the password needs the current one and ends every other session", arguments: TestDatabase.allCases)
    func changePassword(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            let other = try await app.logIn(email: first.email, password: first.password, clinicID: first.clinicID, userID: first.userID)
            let wrong = try await app.send(.POST, "/api/v1/me/password", json: ["currentPassword": "not it at all!", "newPassword": "a brand new long passphrase"], as: first)
            #expect(wrong.status == .badRequest)
            #expect(wrong.errorField == "currentPassword")
            let weak = try await app.send(.POST, "/api/v1/me/password", json: ["currentPassword": first.password, "newPassword": "password1234"], as: first)
            #expect(weak.errorField == "newPassword")
            let changed = try await app.send(.POST, "/api/v1/me/password", json: ["currentPassword": first.password, "newPassword": "a brand new long passphrase"], as: first)
            #expect(changed.status == .noContent)
            #expect(try await app.send(.GET, "/api/v1/me", as: other).status == .unauthorized)
            #expect(try await app.send(.GET, "/api/v1/me", as: first).status == .ok)
            let old = try await app.send(.POST, "/api/v1/auth/login", json: ["email": first.email, "password": first.password])
            #expect(old.status == .unauthorized)
            let new = try await app.send(.POST, "/api/v1/auth/login", json: ["email": first.email, "password": "a brand new long passphrase"])
            #expect(new.status == .ok)
        }
    }
}

@Suite("Ending your other sessions")
struct RevokeOthersTests {
    // DC-7, ASVS 3.3.4
    @Test("DELETE /me/sessions ends every other session and keeps this one", arguments: TestDatabase.allCases)
    func revokeOthers(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            let second = try await app.logIn(email: first.email, password: first.password, clinicID: first.clinicID, userID: first.userID)
            let third = try await app.logIn(email: first.email, password: first.password, clinicID: first.clinicID, userID: first.userID)
            let ended = try await app.send(.DELETE, "/api/v1/me/sessions", as: first)
            #expect(ended.status == .ok && ended.json["ended"] as? Int == 2)
            #expect(try await app.send(.GET, "/api/v1/me", as: second).status == .unauthorized)
            #expect(try await app.send(.GET, "/api/v1/me", as: third).status == .unauthorized)
            #expect(try await app.send(.GET, "/api/v1/me", as: first).status == .ok)
        }
    }

    @Test("the sessions page lists your sessions")
    func page() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let first = try await app.signUpClinic()
            let page = try await app.send(.GET, "/me/sessions", as: first)
            #expect(page.status == .ok && page.text.contains("Sign out everywhere else"))
        }
    }
}
