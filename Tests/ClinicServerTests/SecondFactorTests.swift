import ClinicDomain
import ClinicTestSupport
import Foundation
import Testing
import Vapor
@testable import ClinicServer

@Suite("Two-factor sign-in (TOTP and recovery codes)")
struct SecondFactorTests {
    // DAO-13, DC-5, ASVS 2.8.1
    @Test("enrolment gives a secret and otpauth URL, and a confirming code answers ten distinct recovery codes", arguments: TestDatabase.allCases)
    func enrol(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let bare = try await app.send(.POST, "/api/v1/me/totp", json: [:], as: owner)
            #expect(bare.status == .badRequest && bare.errorField == "password")
            let wrongPassword = try await app.send(.POST, "/api/v1/me/totp", json: ["password": "not my password at all"], as: owner)
            #expect(wrongPassword.status == .badRequest && wrongPassword.errorCode == "invalid_credentials")
            let begun = try await app.send(.POST, "/api/v1/me/totp", json: ["password": owner.password], as: owner)
            #expect(begun.status == .created)
            let secret = try #require(begun.json["secret"] as? String)
            let url = try #require(begun.json["otpauthUrl"] as? String)
            #expect(url.hasPrefix("otpauth://totp/ClinicKeep:") && url.contains("secret=\(secret)"))
            let wrong = try await app.send(.POST, "/api/v1/me/totp/confirm", json: ["code": "000000"], as: owner)
            #expect(wrong.status == .badRequest && wrong.errorCode == "invalid_code")
            let confirmed = try await app.send(.POST, "/api/v1/me/totp/confirm", json: ["code": try ClinicTestApp.totpCode(secret: secret)], as: owner)
            let codes = try #require(confirmed.json["recoveryCodes"] as? [String])
            #expect(codes.count == 10 && Set(codes).count == 10)
            #expect((try await app.send(.GET, "/api/v1/me", as: owner).json["mfa"] as? [String: Any])?["totp"] as? Bool == true)
            #expect(try await app.send(.POST, "/api/v1/me/totp", json: ["password": owner.password], as: owner).status == .conflict)
        }
    }

    // ASVS 2.8.1, 3.2.1
    @Test("a password alone opens only a pending session; the code completes sign-in with a new session", arguments: TestDatabase.allCases)
    func twoSteps(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (secret, _) = try await app.enrolTOTP(owner)
            let (login, pending) = try await app.passwordStep(email: owner.email, password: owner.password, like: owner)
            #expect(login.json["next"] as? String == "mfa")
            let half = try #require(pending)
            let refused = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients", as: half)
            #expect(refused.status == .unauthorized && refused.errorCode == "mfa_required")
            let done = try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": try ClinicTestApp.totpCode(secret: secret, offset: 1)], as: half)
            #expect(done.status == .ok && done.json["next"] as? String == "done")
            let cookie = try #require(done.setCookie("__Host-clinickeep-session")?.value)
            #expect(cookie != half.cookie)
            let full = half.replacing(cookie: cookie, csrfToken: try #require(done.json["csrfToken"] as? String))
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients", as: full).status == .ok)
            #expect(try await app.send(.GET, "/api/v1/me", as: half).status == .unauthorized)
        }
    }

    // ASVS 2.8.4
    @Test("a TOTP code is accepted once: the same code in a second sign-in is refused", arguments: TestDatabase.allCases)
    func totpOnce(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            // Taken before enrolment: the step confirmed there is this one or later, however slow the run.
            let enrolment = Date()
            let (secret, _) = try await app.enrolTOTP(owner)
            let code = try ClinicTestApp.totpCode(secret: secret, offset: 1)
            let first = try #require(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).session)
            #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": code], as: first).status == .ok)
            let second = try #require(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).session)
            let replay = try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": code], as: second)
            #expect(replay.status == .unauthorized && replay.errorCode == "invalid_code")
            // The code of the step confirmed at enrolment is spent too.
            let third = try #require(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).session)
            #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": try ClinicTestApp.totpCode(secret: secret, at: enrolment)],
                                       as: third).status == .unauthorized)
        }
    }

    // DAO-13, ASVS 2.6.1
    @Test("a recovery code signs in once and is refused the second time", arguments: TestDatabase.allCases)
    func recoveryOnce(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (_, codes) = try await app.enrolTOTP(owner)
            let first = try #require(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).session)
            #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": codes[3].uppercased()], as: first).status == .ok)
            let second = try #require(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).session)
            #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": codes[3]], as: second).status == .unauthorized)
            #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": codes[4]], as: second).status == .ok)
        }
    }

    // ASVS 2.2.1
    @Test("five wrong codes lock the second factor: 429 with Retry-After, even for a right code", arguments: TestDatabase.allCases)
    func wrongCodesLock(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (secret, _) = try await app.enrolTOTP(owner)
            let pending = try #require(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).session)
            for _ in 0..<5 {
                #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": "123456"], as: pending).status == .unauthorized)
            }
            let locked = try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": try ClinicTestApp.totpCode(secret: secret, offset: 1)], as: pending)
            #expect(locked.status == .tooManyRequests)
            #expect(Int(locked.headers.first(name: .retryAfter) ?? "") ?? 0 > 0)
        }
    }

    // DAO-13, ASVS 2.6.1, 2.8.x: new recovery codes need the password and retire every earlier one
    @Test("regenerating recovery codes needs the password; the old codes stop working and the new ones sign in", arguments: TestDatabase.allCases)
    func regenerateRecoveryCodes(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (_, old) = try await app.enrolTOTP(owner)
            let wrong = try await app.send(.POST, "/api/v1/me/recovery-codes", json: ["password": "not the password at all"], as: owner)
            #expect(wrong.status == .badRequest && wrong.errorCode == "invalid_credentials")
            let fresh = try await app.send(.POST, "/api/v1/me/recovery-codes", json: ["password": owner.password], as: owner)
            #expect(fresh.status == .ok)
            let codes = try #require(fresh.json["recoveryCodes"] as? [String])
            #expect(Set(codes).count == 10 && Set(codes).isDisjoint(with: old))
            let pending = try #require(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).session)
            #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": old[0]], as: pending).status == .unauthorized)
            #expect(try await app.send(.POST, "/api/v1/auth/mfa", json: ["code": codes[0]], as: pending).status == .ok)
        }
    }

    @Test("regenerating recovery codes without an authenticator is a conflict", arguments: [TestDatabase.sqlite])
    func regenerateWithoutTOTP(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let answer = try await app.send(.POST, "/api/v1/me/recovery-codes", json: ["password": owner.password], as: owner)
            #expect(answer.status == .conflict && answer.errorCode == "totp_not_enrolled")
        }
    }

    // ASVS 2.8.x re-authentication
    @Test("turning TOTP off needs the password, and then the password alone signs in", arguments: TestDatabase.allCases)
    func disable(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await app.enrolTOTP(owner)
            let wrong = try await app.send(.POST, "/api/v1/me/totp/disable", json: ["password": "not the password at all"], as: owner)
            #expect(wrong.status == .badRequest && wrong.errorCode == "invalid_credentials")
            #expect(try await app.send(.POST, "/api/v1/me/totp/disable", json: ["password": owner.password], as: owner).status == .noContent)
            #expect(try await app.passwordStep(email: owner.email, password: owner.password, like: owner).response.json["next"] as? String == "done")
        }
    }
}

@Suite("The clinic's MFA policy")
struct MFAPolicyTests {
    // PRX-6
    @Test("a role the clinic requires MFA of is sent to enrol before anything else", arguments: TestDatabase.allCases)
    func requiredRole(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let receptionist = try await app.addMember(to: owner, roles: ["receptionist"])
            let set = try await app.send(.PUT, "/api/v1/clinics/\(owner.clinicID)/security", json: ["mfaRequiredRoles": ["receptionist"]], as: owner)
            #expect(set.status == .ok)
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            let refused = try await app.send(.GET, patients, as: receptionist)
            #expect(refused.status == .forbidden && refused.errorCode == "mfa_enrolment_required")
            #expect(try await app.send(.GET, patients, as: owner).status == .ok)
            #expect(try await app.passwordStep(email: receptionist.email, password: receptionist.password, like: receptionist)
                .response.json["mfaEnrolmentRequired"] as? Bool == true)
            _ = try await app.enrolTOTP(receptionist)
            #expect(try await app.send(.GET, patients, as: receptionist).status == .ok)
        }
    }

    // Security review round 2, A3: the requirement was checked against the account, so a
    // session opened by a password alone passed once the person set up a code elsewhere.
    @Test("setting up a second factor ends the person's other sessions; the session that set it up carries it", arguments: TestDatabase.allCases)
    func requirementFollowsTheSession(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let receptionist = try await app.addMember(to: owner, roles: ["receptionist"])
            let elsewhere = try await app.logIn(email: receptionist.email, password: receptionist.password,
                                                clinicID: owner.clinicID, userID: receptionist.userID)
            #expect(try await app.send(.PUT, "/api/v1/clinics/\(owner.clinicID)/security", json: ["mfaRequiredRoles": ["receptionist"]], as: owner).status == .ok)
            _ = try await app.enrolTOTP(receptionist)
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            #expect(try await app.send(.GET, patients, as: receptionist).status == .ok)
            #expect(try await app.send(.GET, patients, as: elsewhere).status == .unauthorized)
            // A fresh sign-in with the code carries it too.
            let (pending, session) = try await app.passwordStep(email: receptionist.email, password: receptionist.password, like: receptionist)
            #expect(pending.json["next"] as? String == "mfa")
            let pendingSession = try #require(session)
            #expect(try await app.send(.GET, patients, as: pendingSession).status == .unauthorized)
            // A full session opened by the password alone, as the old code let one stay open:
            // refused, though the account has a second factor.
            let services = app.services
            let issued = try await services.store.transaction(realm: IdentityRealm.id) { tx in
                try await SessionStore(services: services).open(for: UserID(UUID(uuidString: receptionist.userID)!), client: .init(), in: tx)
            }
            let passwordOnly = TestSession(cookie: issued.token, csrfToken: issued.csrfToken, userID: receptionist.userID,
                                           clinicID: owner.clinicID, email: receptionist.email, password: receptionist.password)
            let refused = try await app.send(.GET, patients, as: passwordOnly)
            #expect(refused.status == .unauthorized && refused.errorCode == "mfa_session_required")
        }
    }

    // DC-12
    @Test("owners see every member's MFA state; only an owner changes the policy", arguments: TestDatabase.allCases)
    func visibility(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            _ = try await app.enrolTOTP(admin)
            let staff = try #require(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/staff", as: owner).json["staff"] as? [[String: Any]])
            let states = Dictionary(uniqueKeysWithValues: staff.map { ($0["userId"] as? String ?? "", ($0["mfa"] as? [String: Any])?["totp"] as? Bool) })
            #expect(states[admin.userID] == true)
            #expect(states[owner.userID] == false)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/security", as: admin).status == .ok)
            #expect(try await app.send(.PUT, "/api/v1/clinics/\(owner.clinicID)/security", json: ["mfaRequiredRoles": [] as [String]], as: admin).status == .forbidden)
        }
    }

    // DC-4, NIST SP 800-63B rev 4
    @Test("a password minimum below 12 is allowed only when every role must use MFA, and then applies", arguments: TestDatabase.allCases)
    func shorterMinimum(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let path = "/api/v1/clinics/\(owner.clinicID)/security"
            let refused = try await app.send(.PUT, path, json: ["passwordMinimumLength": 8], as: owner)
            #expect(refused.status == .badRequest && refused.errorCode == "mfa_required_for_short_passwords")
            let all = ["owner", "admin", "practitioner", "receptionist", "bookkeeper"]
            let set = try await app.send(.PUT, path, json: ["mfaRequiredRoles": all, "passwordMinimumLength": 8], as: owner)
            #expect(set.status == .ok && set.json["passwordMinimumLength"] as? Int == 8)
            _ = try await app.enrolTOTP(owner)
            let changed = try await app.send(.POST, "/api/v1/me/password", json: ["currentPassword": owner.password, "newPassword": "k7#vq2!m"], as: owner)
            #expect(changed.status == .noContent)
            #expect(try await app.send(.PUT, path, json: ["passwordMinimumLength": 7], as: owner).status == .badRequest)
        }
    }
}
