import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
@testable import ClinicServer

/// Issue 26, item 7: what only mattered for a while is purged by the scheduler, and nothing
/// still in use goes with it.
@Suite("Expired rows")
struct ExpiredRowsTests {
    static let hour: Int64 = 3_600_000

    /// Rows of one table matching a condition, as the tables' owner in `realm`. Tests share the
    /// PostgreSQL database, so every check names its own rows, never a table's total.
    func rows(_ app: ClinicTestApp, realm: String, _ query: SQLQueryString) async throws -> Int {
        try await app.asOwner(realm: realm) { sql in
            try await sql.raw("SELECT COUNT(*) AS n FROM " + query).first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }

    func sessions(_ app: ClinicTestApp, _ session: TestSession) async throws -> Int {
        try await rows(app, realm: session.clinicID, "sessions WHERE token_hash = \(bind: SecureToken.hash(session.cookie))")
    }

    func resets(_ app: ClinicTestApp, _ session: TestSession) async throws -> Int {
        try await rows(app, realm: session.clinicID, "password_resets WHERE user_id = \(bind: UUID(uuidString: session.userID)!)")
    }

    func invitations(_ app: ClinicTestApp, of clinic: String) async throws -> Int {
        try await rows(app, realm: clinic, "invitations WHERE clinic_id = \(bind: UUID(uuidString: clinic)!)")
    }

    func throttle(_ app: ClinicTestApp, _ subject: SignInThrottle.Subject) async throws -> Int {
        try await rows(app, realm: IdentityRealm.id.uuidString.lowercased(), "sign_in_throttles WHERE subject = \(bind: subject.key)")
    }

    func mail(_ app: ClinicTestApp, _ id: UUID) async throws -> Int {
        try await rows(app, realm: IdentityRealm.id.uuidString.lowercased(), "outbox WHERE id = \(bind: id)")
    }

    /// The reset mails sent to `email` so far, oldest first, once there are `count` of them.
    func resetMail(_ app: ClinicTestApp, to email: String, count: Int) async throws -> [UUID] {
        for _ in 0..<100 {
            let found = try await Outbox(services: app.services).all().filter { $0.recipient == email && $0.subject.contains("reset") }.map(\.id)
            if found.count >= count { return found }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("\(count) reset mails to \(email) never arrived")
    }

    @Test("expired sessions, reset links, invitations, throttle counts and sent mail go; what is live stays, in every clinic",
          arguments: TestDatabase.allCases)
    func purge(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic(), other = try await app.signUpClinic()
            let stale = try await app.logIn(email: first.email, password: first.password, clinicID: first.clinicID, userID: first.userID)
            let idle = try await app.logIn(email: other.email, password: other.password, clinicID: other.clinicID, userID: other.userID)
            _ = try await app.addMember(to: first, roles: ["practitioner"])  // an accepted invitation
            let kept = try await InvitationTests.invite(app, from: first, email: Canary.email())
            let lapsed = try await InvitationTests.invite(app, from: first, email: Canary.email())
            let lapsedElsewhere = try await InvitationTests.invite(app, from: other, email: Canary.email())
            // Reset links and their mail are written after the answer: wait for each mail.
            for owner in [first, other, first] {
                #expect(try await app.send(.POST, "/api/v1/auth/password-reset", json: ["email": owner.email]).status == .accepted)
            }
            let firstMail = try await resetMail(app, to: first.email, count: 2), otherMail = try await resetMail(app, to: other.email, count: 1)
            let throttles = SignInThrottle(services: app.services)
            let resetCounts = try await throttles.subjects([(.resetAccount, try EmailAddress(parsing: first.email).value),
                                                           (.resetAccount, try EmailAddress(parsing: other.email).value)])
            let now = Date().milliseconds, day = 24 * Self.hour

            // Age one of each, as time would: straight in the database.
            try await app.asOwner(realm: first.clinicID) { sql in
                try await sql.raw("UPDATE sessions SET expires_at_ms = \(bind: now - 1) WHERE token_hash = \(bind: SecureToken.hash(stale.cookie))").run()
                // The older of the first owner's two reset links lapses.
                try await sql.raw("""
                    UPDATE password_resets SET expires_at_ms = \(bind: now - 1)
                    WHERE user_id = \(bind: UUID(uuidString: first.userID)!) AND created_at_ms = (SELECT MIN(created_at_ms) FROM password_resets
                        WHERE user_id = \(bind: UUID(uuidString: first.userID)!))
                    """).run()
                // Every invitation of the clinic but one lapses: the accepted one stays as it is.
                try await sql.raw("""
                    UPDATE invitations SET expires_at_ms = \(bind: now - 1)
                    WHERE clinic_id = \(bind: UUID(uuidString: first.clinicID)!) AND id <> \(bind: UUID(uuidString: kept.id)!)
                    """).run()
                for subject in resetCounts {
                    try await sql.raw("""
                        UPDATE sign_in_throttles SET window_started_at_ms = \(bind: now - 2 * day), locked_until_ms = 0 WHERE subject = \(bind: subject.key)
                        """).run()
                }
                // Of the mail: one sent two days ago, one an hour ago; the first owner's second still waits.
                try await sql.raw("UPDATE outbox SET state = 'sent', sent_at_ms = \(bind: now - 2 * day) WHERE id = \(bind: firstMail[0])").run()
                try await sql.raw("UPDATE outbox SET state = 'sent', sent_at_ms = \(bind: now - Self.hour) WHERE id = \(bind: otherMail[0])").run()
            }
            try await app.asOwner(realm: other.clinicID) { sql in
                let idleSince = now - Int64(app.settings.sessionIdleTimeout * 1000) - 1
                try await sql.raw("UPDATE sessions SET last_seen_at_ms = \(bind: idleSince) WHERE token_hash = \(bind: SecureToken.hash(idle.cookie))").run()
                try await sql.raw("UPDATE invitations SET expires_at_ms = \(bind: now - 1) WHERE id = \(bind: UUID(uuidString: lapsedElsewhere.id)!)").run()
            }
            // A count still counting: a wrong password now.
            _ = try await app.send(.POST, "/api/v1/auth/login", json: ["email": first.email, "password": "not the password at all"])
            let counting = try await throttles.subjects([(.loginAccount, try EmailAddress(parsing: first.email).value)])[0]
            try #require(try await throttle(app, counting) == 1)

            let purged = try await ExpiredRows(services: app.services).purge()

            // Other tests share the PostgreSQL database: their expired rows may go in the same run.
            #expect(purged.sessions >= 2 && purged.passwordResets >= 1 && purged.invitations >= 2 && purged.throttles >= 2 && purged.sentMail >= 1)
            #expect(try await sessions(app, stale) == 0)
            #expect(try await sessions(app, idle) == 0)
            #expect(try await sessions(app, first) == 1)
            #expect(try await sessions(app, other) == 1)
            #expect(try await app.send(.GET, "/api/v1/me", as: first).status == .ok)
            #expect(try await app.send(.GET, "/api/v1/me", as: other).status == .ok)
            #expect(try await resets(app, first) == 1, "the live reset link stays")
            #expect(try await resets(app, other) == 1)
            #expect(try await throttle(app, resetCounts[0]) == 0)
            #expect(try await throttle(app, resetCounts[1]) == 0)
            #expect(try await throttle(app, counting) == 1, "a count within its window stays")
            #expect(try await mail(app, firstMail[0]) == 0, "mail sent two days ago goes")
            #expect(try await mail(app, otherMail[0]) == 1, "mail sent an hour ago stays")
            #expect(try await mail(app, firstMail[1]) == 1, "unsent mail stays")
            // The live and the accepted invitation stay; the lapsed ones are gone, in both clinics.
            #expect(try await invitations(app, of: first.clinicID) == 2)
            #expect(try await invitations(app, of: other.clinicID) == 0)
            let acceptance = InvitationAcceptance(services: app.services)
            #expect(try await acceptance.pending(token: kept.token) != nil)
            #expect(try await acceptance.pending(token: lapsed.token) == nil)
        }
    }
}
