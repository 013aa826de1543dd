import ClinicTestSupport
import Testing
import SQLKit
import Vapor
@testable import ClinicServer

@Suite("Health, headers and errors")
struct HealthAndHeadersTests {
    @Test("healthz answers 200", arguments: TestDatabase.allCases)
    func healthz(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let response = try await app.send(.GET, "/healthz")
            #expect(response.status == .ok)
        }
    }

    // A load balancer's probe costs no database work, even with a browser's cookie: an expired
    // session presented to /healthz is still in the table afterwards, where any route that
    // resumes sessions removes it.
    @Test("healthz never resumes the session the cookie names", arguments: TestDatabase.allCases)
    func healthzLeavesTheSessionAlone(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.sessionIdleTimeout = 1 }) { app in
            let owner = try await app.signUpClinic()
            try await Task.sleep(nanoseconds: 1_200_000_000)
            let sessions = { () async throws -> Int in
                try await app.services.store.global.raw("SELECT COUNT(*) AS n FROM sessions WHERE user_id = \(bind: UUID(uuidString: owner.userID)!)")
                    .first()!.decode(column: "n", as: Int.self)
            }

            #expect(try await app.send(.GET, "/healthz", as: owner).status == .ok)
            #expect(try await sessions() == 1)

            #expect(try await app.send(.GET, "/api/v1/me", as: owner).status == .unauthorized)
            #expect(try await sessions() == 0)
        }
    }

    // DC-14, DU-4, DAO-4
    @Test("every response, errors included, carries the security headers", arguments: ["/healthz", "/api/v1/nowhere", "/login"])
    func securityHeaders(_ path: String) async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.GET, path)
            let csp = try #require(response.headers.first(name: "Content-Security-Policy"))
            #expect(csp.contains("script-src 'self'"))
            #expect(csp.contains("frame-ancestors 'none'"))
            #expect(!csp.contains("unsafe-inline"))
            #expect(response.headers.first(name: "Strict-Transport-Security")?.contains("max-age=") == true)
            #expect(response.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(response.headers.first(name: "Referrer-Policy") == "same-origin")
            #expect(response.headers.first(name: "Cache-Control") == "no-store")
        }
    }

    @Test("a database that stays busy past the pool's wait answers 503 busy with Retry-After, not 500")
    func busyDatabase() {
        let (status, detail, headers) = ErrorResponseMiddleware.describe(ConnectionPoolTimeoutError.connectionRequestTimeout)
        #expect(status == .serviceUnavailable)
        #expect(detail.code == "busy")
        #expect(headers.first(name: .retryAfter) == "5")
    }

    @Test("an unknown API path answers 404 in the error shape")
    func notFoundShape() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.GET, "/api/v1/nowhere")
            #expect(response.status == .notFound)
            #expect(response.errorCode == "not_found")
        }
    }

    // DAO-20, DU-11
    @Test("security.txt names a contact and an expiry")
    func securityTxt() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let response = try await app.send(.GET, "/.well-known/security.txt")
            #expect(response.status == .ok)
            #expect(response.text.contains("Contact: mailto:security@clinickeep.invalid"))
            #expect(response.text.contains("Expires: "))
            #expect(response.text.contains("/.well-known/security-policy"))
            let policy = try await app.send(.GET, "/.well-known/security-policy")
            #expect(policy.status == .ok && policy.text.contains("within 24 hours"))
        }
    }

    // DAO-20, DU-11 (review round 2, A12): the operator's contact and policy, not ours
    @Test("security.txt names the operator's contact and policy when set, and the settings refuse anything else")
    func securityTxtConfigured() async throws {
        try await ClinicTestApp.with(.sqlite, adjust: {
            $0.securityContact = "mailto:psirt@clinic.example"
            $0.securityPolicyURLSetting = "https://clinic.example/security"
        }) { app in
            let response = try await app.send(.GET, "/.well-known/security.txt")
            #expect(response.text.contains("Contact: mailto:psirt@clinic.example"))
            #expect(response.text.contains("Policy: https://clinic.example/security"))
            #expect(!response.text.contains("clinickeep.invalid"))
        }
        #expect(throws: SettingsError.self) { try ServerSettings.fromEnvironment(["CLINICKEEP_SECURITY_CONTACT": "call us"]) }
        #expect(throws: SettingsError.self) { try ServerSettings.fromEnvironment(["CLINICKEEP_SECURITY_POLICY_URL": "http://clinic.example/p"]) }
        #expect(try ServerSettings.fromEnvironment(["CLINICKEEP_SECURITY_CONTACT": "https://clinic.example/report"]).securityContact == "https://clinic.example/report")
    }
}
