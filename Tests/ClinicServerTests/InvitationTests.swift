import ClinicDomain
import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// Security review round 2, findings A1 and A2: an invitation is no password oracle, cannot
/// take over an account, can be revoked, and never outlives its author's standing.
@Suite("Invitations")
struct InvitationTests {
    /// An invitation from `clinic` to `email`; answers its id and token.
    static func invite(_ app: ClinicTestApp, from clinic: TestSession, email: String, roles: [String] = ["practitioner"]) async throws -> (id: String, token: String) {
        let invited = try await app.send(.POST, "/api/v1/clinics/\(clinic.clinicID)/staff",
                                         json: ["email": email, "name": "Same Person", "roles": roles], as: clinic)
        try #require(invited.status == .created, "invite answered \(invited.status): \(invited.text)")
        return (try #require(invited.json["id"] as? String), try #require(invited.json["inviteToken"] as? String))
    }

    /// A token of the right shape that no invitation has.
    static func unknownToken() -> String {
        String((0..<43).map { _ in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_".randomElement()! })
    }

    @Test("an existing account joins only while signed in as it, with its CSRF token", arguments: TestDatabase.allCases)
    func existingAccountJoinsSignedIn(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            let (_, token) = try await Self.invite(app, from: second, email: first.email)
            let forged = try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": token], as: first, csrf: false)
            #expect(forged.status == .forbidden)
            let joined = try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": token], as: first)
            #expect(joined.status == .created)
            #expect(joined.json["userId"] as? String == first.userID)
            let me = try await app.send(.GET, "/api/v1/me", as: first)
            #expect((me.json["memberships"] as? [Any])?.count == 2)
        }
    }

    // The HIGH finding: a right password used to join the victim to the inviting clinic, and a
    // wrong one answered differently. Now no password is checked and the answer is the same.
    @Test("without a session an existing account's invitation answers 409 whatever password is sent", arguments: TestDatabase.allCases)
    func noPasswordOracle(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let victim = try await app.signUpClinic()
            let attacker = try await app.signUpClinic()
            let (_, token) = try await Self.invite(app, from: attacker, email: victim.email)
            let right = try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": token, "password": victim.password])
            let wrong = try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": token, "password": "some other long password"])
            for answer in [right, wrong] {
                #expect(answer.status == .conflict)
                #expect(answer.errorCode == "sign_in_to_accept")
            }
            #expect((right.json["error"] as? [String: String]) == (wrong.json["error"] as? [String: String]))
            let me = try await app.send(.GET, "/api/v1/me", as: victim)
            #expect((me.json["memberships"] as? [Any])?.count == 1, "the victim was joined to the attacker's clinic")
        }
    }

    @Test("someone else signed in cannot accept an existing account's invitation", arguments: TestDatabase.allCases)
    func otherAccountRefused(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let invited = try await app.signUpClinic()
            let inviting = try await app.signUpClinic()
            let bystander = try await app.signUpClinic()
            let (_, token) = try await Self.invite(app, from: inviting, email: invited.email)
            let answer = try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": token], as: bystander)
            #expect(answer.status == .notFound)
            #expect((try await app.send(.GET, "/api/v1/me", as: bystander).json["memberships"] as? [Any])?.count == 1)
            // An invitation for a new address cannot be taken by a signed-in account either.
            let (_, fresh) = try await Self.invite(app, from: inviting, email: Canary.email())
            #expect(try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": fresh], as: bystander).status == .notFound)
        }
    }

    @Test("unknown tokens are counted per address and answer 429 with Retry-After past the limit")
    func unknownTokensThrottled() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            var statuses: [HTTPStatus] = []
            for _ in 0..<21 {
                let answer = try await app.send(.POST, "/api/v1/invitations/accept",
                                                json: ["inviteToken": Self.unknownToken(), "password": Canary.password])
                statuses.append(answer.status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == .notFound })
            let refused = try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": Self.unknownToken(), "password": Canary.password])
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers.first(name: .retryAfter) != nil)
        }
    }

    @Test("an owner revokes a pending invitation; its link stops working; another clinic's id answers 404", arguments: TestDatabase.allCases)
    func revoke(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let other = try await app.signUpClinic()
            let (id, token) = try await Self.invite(app, from: owner, email: Canary.email())
            #expect(try await app.send(.DELETE, "/api/v1/clinics/\(other.clinicID)/invitations/\(id)", as: other).status == .notFound)
            #expect(try await app.send(.DELETE, "/api/v1/clinics/\(owner.clinicID)/invitations/\(id)", as: owner).status == .noContent)
            #expect(try await app.send(.DELETE, "/api/v1/clinics/\(owner.clinicID)/invitations/\(id)", as: owner).status == .notFound)
            let accept = try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": token, "password": Canary.password])
            #expect(accept.status == .notFound)
            let staff = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/staff", as: owner)
            #expect((staff.json["invitations"] as? [Any])?.isEmpty == true)
            let audit = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/audit", as: owner)
            #expect(audit.text.contains("staff.invitation.revoke"))
        }
    }

    @Test("an admin's pending invitations end when the admin is removed or loses the role", arguments: TestDatabase.allCases)
    func invitationsDieWithTheirAuthor(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let (_, first) = try await Self.invite(app, from: admin, email: Canary.email(), roles: ["receptionist"])
            #expect(try await app.send(.PATCH, "/api/v1/clinics/\(owner.clinicID)/staff/\(admin.userID)",
                                       json: ["roles": ["practitioner"]], as: owner).status == .ok)
            #expect(try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": first, "password": Canary.password]).status == .notFound)

            let second = try await app.addMember(to: owner, roles: ["admin"])
            let (_, later) = try await Self.invite(app, from: second, email: Canary.email(), roles: ["receptionist"])
            #expect(try await app.send(.DELETE, "/api/v1/clinics/\(owner.clinicID)/staff/\(second.userID)", as: owner).status == .noContent)
            #expect(try await app.send(.POST, "/api/v1/invitations/accept", json: ["inviteToken": later, "password": Canary.password]).status == .notFound)
        }
    }

    @Test("the invitation page asks an existing account to sign in, then joins it with the session's CSRF token", arguments: [TestDatabase.sqlite])
    func existingAccountOnThePage(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let member = try await app.signUpClinic()
            let inviting = try await app.signUpClinic()
            let (_, token) = try await Self.invite(app, from: inviting, email: member.email)
            let anonymous = try await app.send(.GET, "/invitations/accept?token=\(token)")
            #expect(anonymous.text.contains("already has a ClinicKeep account") && !anonymous.text.contains("type=\"password\""))
            let signedIn = try await app.send(.GET, "/invitations/accept?token=\(token)", as: member)
            #expect(signedIn.text.contains("Join the clinic with the account you are signed in with"))
            let forged = try await app.send(.POST, "/invitations/accept", as: member, csrf: false,
                                            headers: ["Content-Type": "application/x-www-form-urlencoded"], rawBody: "token=\(token)")
            #expect(forged.status == .forbidden)
            let joined = try await app.postForm("/invitations/accept", as: member, [("token", token)])
            #expect(joined.status == .seeOther && joined.headers.first(name: .location) == "/clinics/\(inviting.clinicID)/today")
            #expect((try await app.send(.GET, "/api/v1/me", as: member).json["memberships"] as? [Any])?.count == 2)
        }
    }
}
