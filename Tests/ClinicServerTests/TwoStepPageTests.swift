import ClinicTestSupport
import Foundation
import Testing
import Vapor
import SQLKit
@testable import ClinicServer

/// The two-step sign-in page: set up an authenticator, see recovery codes once, replace them,
/// turn it off (DAO-13, PRX-6; ASVS 2.8 re-authentication for the last two).
@Suite("Two-step sign-in page")
struct TwoStepPageTests {
    func post(_ app: ClinicTestApp, _ path: String, _ form: String, as session: TestSession) async throws -> TestResponse {
        try await app.send(.POST, path, as: session, csrf: false, headers: ["Content-Type": "application/x-www-form-urlencoded"],
                           rawBody: "csrfToken=\(session.csrfToken)&" + form)
    }

    /// The secret shown on the page, without the spaces between its groups.
    func secret(in page: String) throws -> String {
        let start = try #require(page.range(of: "id=\"totp-secret\">"))
        let end = try #require(page.range(of: "</p>", range: start.upperBound..<page.endIndex))
        return page[start.upperBound..<end.lowerBound].replacingOccurrences(of: "<code>", with: "")
            .replacingOccurrences(of: "</code>", with: "").replacingOccurrences(of: " ", with: "")
    }

    func recoveryCodes(in page: String) -> [String] {
        page.components(separatedBy: "<li><code>").dropFirst().compactMap { $0.components(separatedBy: "</code>").first }
    }

    @Test("setting up shows a secret once; a wrong code asks again without it; the right one shows ten recovery codes once",
          arguments: TestDatabase.allCases)
    func setUp(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let off = try await app.send(.GET, "/me/two-step", as: owner)
            #expect(off.status == .ok && off.text.contains("is <strong>off</strong>"))
            let begun = try await post(app, "/me/two-step/begin", "password=" + owner.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!, as: owner)
            #expect(begun.status == .ok)
            let key = try secret(in: begun.text)
            #expect(key.count >= 32)
            #expect(begun.text.contains("otpauth://totp/"))
            let wrong = try await post(app, "/me/two-step/confirm", "code=000000", as: owner)
            #expect(wrong.status == .badRequest)
            #expect(!wrong.text.contains("totp-secret") && !wrong.text.contains(String(key.prefix(8))))
            let right = try await post(app, "/me/two-step/confirm", "code=\(try ClinicTestApp.totpCode(secret: key))", as: owner)
            #expect(right.status == .ok)
            #expect(Set(recoveryCodes(in: right.text)).count == 10)
            let on = try await app.send(.GET, "/me/two-step", as: owner)
            #expect(on.text.contains("is <strong>on</strong>") && recoveryCodes(in: on.text).isEmpty)
            // The next sign-in asks for the second step.
            #expect(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).response.json["next"] as? String == "mfa")
        }
    }

    @Test("replacing recovery codes and turning two-step off need the password", arguments: [TestDatabase.sqlite])
    func needsPassword(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (_, old) = try await app.enrolTOTP(owner)
            let refused = try await post(app, "/me/two-step/recovery-codes", "password=wrong-password-entirely", as: owner)
            #expect(refused.status == .badRequest && refused.text.contains("not your current password"))
            let replaced = try await post(app, "/me/two-step/recovery-codes", "password=\(owner.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", as: owner)
            let codes = recoveryCodes(in: replaced.text)
            #expect(codes.count == 10 && Set(codes).isDisjoint(with: old))
            #expect(try await post(app, "/me/two-step/disable", "password=wrong-password-entirely", as: owner).status == .badRequest)
            // Each wrong password from inside the session is in the identity chain.
            let failures = try await app.services.store.transaction(realm: IdentityRealm.id) { tx in
                try await tx.sql.raw("SELECT sequence FROM audit_events WHERE chain_id = \(bind: IdentityRealm.id) AND action = 'auth.reauthenticate' AND actor_id = \(bind: UUID(uuidString: owner.userID)!)").all().count
            }
            #expect(failures == 2)
            let disabled = try await post(app, "/me/two-step/disable", "password=\(owner.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)", as: owner)
            #expect(disabled.status == .seeOther)
            #expect(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).response.json["next"] as? String == "done")
        }
    }

    // PRX-6: a member of a clinic that requires MFA of their role is sent here before any clinic page
    @Test("a clinic page sends a member who must use two-step sign-in to set it up", arguments: [TestDatabase.sqlite])
    func requiredSendsHere(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let receptionist = try await app.addMember(to: owner, roles: ["receptionist"])
            let policy = try await app.send(.PUT, "/api/v1/clinics/\(owner.clinicID)/security", json: ["mfaRequiredRoles": ["receptionist"]], as: owner)
            try #require(policy.status == .ok, "\(policy.text)")
            let page = try await app.send(.GET, "/clinics/\(owner.clinicID)/patients", as: receptionist)
            #expect(page.status == .seeOther)
            #expect(page.headers.first(name: .location) == "/me/two-step")
            #expect(try await app.send(.GET, "/me/two-step", as: receptionist).status == .ok)
        }
    }

    // PRX-6: required for administrators, whatever the clinic's policy says of other roles
    @Test("an owner or admin past the grace period is sent to set up two-step sign-in; a practitioner is not",
          arguments: TestDatabase.allCases)
    func administratorsAfterGrace(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let practitioner = try await app.addMember(to: owner, roles: ["practitioner"])
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            #expect(try await app.send(.GET, patients, as: owner).status == .ok)
            let eightDaysAgo = Date().addingTimeInterval(-8 * 86_400).milliseconds
            // This clinic's memberships only: the PostgreSQL test database is shared by tests running at once.
            // In the clinic's realm: memberships are under row-level security (review round 2, A9).
            let clinic = UUID(uuidString: owner.clinicID)!
            try await app.services.store.transaction(realm: clinic) { tx in
                try await tx.sql.raw("UPDATE memberships SET created_at_ms = \(bind: eightDaysAgo) WHERE clinic_id = \(bind: clinic)").run()
            }
            let refused = try await app.send(.GET, patients, as: owner)
            #expect(refused.status == .forbidden && refused.errorCode == "mfa_enrolment_required")
            #expect(try await app.send(.GET, "/clinics/\(owner.clinicID)/patients", as: owner).headers.first(name: .location) == "/me/two-step")
            #expect(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).response.json["mfaEnrolmentRequired"] as? Bool == true)
            #expect(try await app.send(.GET, patients, as: admin).errorCode == "mfa_enrolment_required")
            #expect(try await app.send(.GET, patients, as: practitioner).status == .ok)
            _ = try await app.enrolTOTP(owner)
            #expect(try await app.send(.GET, patients, as: owner).status == .ok)
        }
    }
}
