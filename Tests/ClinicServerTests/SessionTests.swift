import ClinicTestSupport
import Testing
import Vapor
@testable import ClinicServer

@Suite("Sign-in and sessions")
struct SessionTests {
    // DC-10, ASVS 3.4.1-3.4.3
    @Test("login sets a __Host- cookie that is Secure, HttpOnly and SameSite", arguments: TestDatabase.allCases)
    func cookieAttributes(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let login = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": owner.password])
            #expect(login.status == .ok)
            #expect(login.json["next"] as? String == "done")
            let cookie = try #require(login.setCookie("__Host-clinickeep-session"))
            #expect(cookie.attributes.contains("Secure"))
            #expect(cookie.attributes.contains("HttpOnly"))
            #expect(cookie.attributes.contains("SameSite=Strict"))
            #expect(cookie.attributes.contains("Path=/"))
            #expect(!cookie.attributes.contains { $0.lowercased().hasPrefix("domain=") })
            #expect(cookie.value.count >= 43)
        }
    }

    // DC-10: session fixation
    @Test("every login issues a new session token")
    func newTokenEachLogin() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let first = try await app.signUpClinic()
            let second = try await app.logIn(email: first.email, password: first.password, clinicID: first.clinicID, userID: first.userID)
            #expect(first.cookie != second.cookie)
            #expect(first.csrfToken != second.csrfToken)
        }
    }

    @Test("only a hash of the session token is stored", arguments: TestDatabase.allCases)
    func tokenStoredHashed(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let rows = try await app.serverConnectionWithoutRealm.raw("SELECT token_hash FROM sessions").all()
            let hashes = try rows.map { try $0.decode(column: "token_hash", as: Data.self) }
            #expect(!hashes.contains(Data(owner.cookie.utf8)))
            #expect(hashes.contains(SecureToken.hash(owner.cookie)))
        }
    }

    @Test("a wrong password and an unknown e-mail get the same 401", arguments: TestDatabase.allCases)
    func refusedAlike(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let wrong = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": "not the password at all"])
            let unknown = try await app.send(.POST, "/api/v1/auth/login", json: ["email": Canary.email(), "password": owner.password])
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.errorCode == unknown.errorCode)
            #expect(wrong.setCookie("__Host-clinickeep-session") == nil)
        }
    }

    @Test("me names the person and their clinics", arguments: TestDatabase.allCases)
    func me(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic(name: "Wattle Street Clinic")
            let me = try await app.send(.GET, "/api/v1/me", as: owner)
            #expect(me.status == .ok)
            #expect((me.json["user"] as? [String: Any])?["email"] as? String == owner.email)
            let memberships = try #require(me.json["memberships"] as? [[String: Any]])
            #expect(memberships.count == 1)
            #expect(memberships.first?["clinicId"] as? String == owner.clinicID)
            #expect(memberships.first?["roles"] as? [String] == ["owner"])
        }
    }

    @Test("without a session, me answers 401")
    func meNeedsSession() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.GET, "/api/v1/me")
            #expect(response.status == .unauthorized)
            #expect(response.errorCode == "not_signed_in")
        }
    }

    // DC-7
    @Test("logout ends the session on the server", arguments: TestDatabase.allCases)
    func logout(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            #expect(try await app.send(.POST, "/api/v1/auth/logout", as: owner).status == .noContent)
            #expect(try await app.send(.GET, "/api/v1/me", as: owner).status == .unauthorized)
        }
    }

    // DC-7, ASVS 3.3.2
    @Test("a session idle past the timeout no longer works")
    func idleExpiry() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let store = SessionStore(services: app.services)
            #expect(try await store.resume(token: owner.cookie) != nil)
            #expect(try await store.resume(token: owner.cookie, now: Date().addingTimeInterval(31 * 60)) == nil)
            #expect(try await app.send(.GET, "/api/v1/me", as: owner).status == .unauthorized)
        }
    }
}

@Suite("CSRF and origin")
struct CSRFTests {
    // DC-15
    @Test("a cookie request that changes something needs the session's CSRF token", arguments: TestDatabase.allCases)
    func csrfRequired(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let path = "/api/v1/clinics/\(owner.clinicID)/patients"
            let body: [String: any Sendable] = ["givenName": "Ada", "familyName": Canary.word()]
            let missing = try await app.send(.POST, path, json: body, as: owner, csrf: false)
            #expect(missing.status == .forbidden)
            #expect(missing.errorCode == "csrf_rejected")
            let wrong = try await app.send(.POST, path, json: body, as: owner, csrf: false, headers: ["X-CSRF-Token": String(repeating: "A", count: 43)])
            #expect(wrong.status == .forbidden)
            #expect(try await app.send(.POST, path, json: body, as: owner).status == .created)
        }
    }

    @Test("another session's CSRF token does not work")
    func tokenBoundToSession() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let other = try await app.signUpClinic()
            let response = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/patients", json: ["givenName": "A", "familyName": "B"],
                                              as: owner, csrf: false, headers: ["X-CSRF-Token": other.csrfToken])
            #expect(response.status == .forbidden)
        }
    }

    @Test("a cross-site Origin on an unsafe request is refused")
    func foreignOrigin() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let response = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/patients", json: ["givenName": "A", "familyName": "B"],
                                              as: owner, headers: ["Origin": "https://evil.example", "Host": "clinic.example"])
            #expect(response.status == .forbidden)
            #expect(response.errorCode == "origin_rejected")
        }
    }
}
