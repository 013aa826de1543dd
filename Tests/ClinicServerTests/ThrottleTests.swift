import ClinicTestSupport
import Foundation
import Testing
import Vapor
@testable import ClinicServer

@Suite("Throttling and lockout")
struct ThrottleTests {
    func wrongLogins(_ app: ClinicTestApp, email: String, count: Int) async throws -> [HTTPStatus] {
        var statuses: [HTTPStatus] = []
        for _ in 0..<count {
            statuses.append(try await app.send(.POST, "/api/v1/auth/login", json: ["email": email, "password": "wrong password \(UUID())"]).status)
        }
        return statuses
    }

    // DC-8, DC-9, ASVS 2.2.1
    @Test("ten wrong passwords lock the account: 429 with Retry-After, even for the right password", arguments: TestDatabase.allCases)
    func lockout(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let statuses = try await wrongLogins(app, email: owner.email, count: 12)
            #expect(statuses.prefix(10).allSatisfy { $0 == .unauthorized })
            #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests })
            let right = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": owner.password])
            #expect(right.status == .tooManyRequests && right.errorCode == "too_many_attempts")
            let retry = try #require(Int(right.headers.first(name: .retryAfter) ?? ""))
            #expect(retry > 0 && retry <= 15 * 60)
        }
    }

    // ASVS 2.2.1, and no account oracle
    @Test("an unknown e-mail is counted and locked exactly like a known one", arguments: TestDatabase.allCases)
    func unknownLikeKnown(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let known = try await wrongLogins(app, email: owner.email, count: 11)
            let unknown = try await wrongLogins(app, email: Canary.email(), count: 11)
            #expect(known == unknown)
        }
    }

    @Test("another account on the same address still signs in with its own password", arguments: TestDatabase.allCases)
    func otherAccountUnaffected(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let locked = try await app.signUpClinic()
            let other = try await app.signUpClinic()
            _ = try await wrongLogins(app, email: locked.email, count: 11)
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": other.email, "password": other.password]).status == .ok)
        }
    }

    // DC-9, ASVS 2.2.3
    @Test("the account's owner is e-mailed when it locks, once", arguments: TestDatabase.allCases)
    func lockoutMail(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await wrongLogins(app, email: owner.email, count: 12)
            let mails = try await app.outbox().filter { $0.recipient == owner.email && $0.subject.contains("locked") }
            #expect(mails.count == 1)
        }
    }

    // DC-9, PRX-9
    @Test("every failure and lockout lands in the identity ledger", arguments: TestDatabase.allCases)
    func audited(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await wrongLogins(app, email: owner.email, count: 11)
            let actions = try await app.identityActions()
            #expect(actions.filter { $0 == "auth.login" }.count >= 11)
            #expect(actions.contains("auth.lockout"))
            #expect(actions.contains("auth.throttled"))
        }
    }

    // Security review round 2, A5: a locked account hammered is an entry a minute, not one per try.
    // SQLite only: the identity chain of the shared PostgreSQL database takes every test's sign-ins.
    @Test("sign-ins refused while locked are recorded once a minute with a count, not once each")
    func throttledCoalesced() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let started = Date()
            let statuses = try await wrongLogins(app, email: owner.email, count: 16)
            #expect(statuses.filter { $0 == .tooManyRequests }.count >= 5)
            let throttled = try await app.identityActions().filter { $0 == "auth.throttled" }.count
            #expect(throttled >= 1 && throttled <= Int(Date().timeIntervalSince(started) / 60) + 1)
        }
    }

    @Test("the progressive delay is nothing for two failures, then doubles to eight times its base")
    func delaySchedule() {
        let delays = (1...8).map { SignInThrottle.delay(afterFailures: Int64($0), base: 0.25) }
        #expect(delays == [0, 0, 0.25, 0.5, 1, 2, 2, 2])
        #expect(SignInThrottle.delay(afterFailures: 9, base: 0) == 0)
    }
}
