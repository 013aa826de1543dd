import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// Security review round 2, B4 (PRX-9): rate limits beyond sign-in, scaled for test suites.
@Suite("Rate limits")
struct RateLimitTests {
    @Test("open sign-up is limited per address: past the limit 429 with Retry-After")
    func signUpLimited() async throws {
        // 20 an hour, scaled to 2.
        try await ClinicTestApp.with(.sqlite, adjust: { $0.rateLimitScale = 0.1 }) { app in
            _ = try await app.signUpClinic()
            _ = try await app.signUpClinic()
            let third = try await app.send(.POST, "/api/v1/clinics", json: [
                "name": "Clinic", "owner": ["email": Canary.email(), "name": "Owner", "password": Canary.password] as [String: any Sendable]])
            #expect(third.status == .tooManyRequests && third.errorCode == "too_many_attempts")
            #expect(third.headers.first(name: .retryAfter).flatMap(Int.init).map { $0 > 0 } == true)
        }
    }

    @Test("an API token's requests are limited per token; another token is not held up", arguments: TestDatabase.allCases)
    func apiTokenLimited(_ database: TestDatabase) async throws {
        // 1200 a minute, scaled to 3.
        try await ClinicTestApp.with(database, adjust: { $0.rateLimitScale = 0.0025 }) { app in
            let owner = try await app.signUpClinic()
            let (_, first) = try await APITokenTests.issue(app, owner)
            let (_, second) = try await APITokenTests.issue(app, owner)
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            for _ in 0..<3 { #expect(try await app.send(.GET, patients, headers: APITokenTests.bearer(first)).status == .ok) }
            let limited = try await app.send(.GET, patients, headers: APITokenTests.bearer(first))
            #expect(limited.status == .tooManyRequests && limited.headers.first(name: .retryAfter) != nil)
            #expect(try await app.send(.GET, patients, headers: APITokenTests.bearer(second)).status == .ok)
        }
    }
}
