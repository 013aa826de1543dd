import ClinicDomain
import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Staff and roles")
struct StaffTests {
    @Test("an invited person accepts, signs in and holds the invited roles", arguments: TestDatabase.allCases)
    func inviteAndAccept(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let clerk = try await app.addMember(to: owner, roles: ["receptionist", "bookkeeper"])
            let me = try await app.send(.GET, "/api/v1/me", as: clerk)
            let membership = try #require((me.json["memberships"] as? [[String: Any]])?.first)
            #expect(membership["clinicId"] as? String == owner.clinicID)
            #expect(membership["roles"] as? [String] == ["receptionist", "bookkeeper"])
            let staff = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/staff", as: owner)
            #expect((staff.json["staff"] as? [[String: Any]])?.count == 2)
        }
    }

    @Test("an invitation works once")
    func invitationOnce() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let invited = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/staff",
                                             json: ["email": Canary.email(), "name": "Rae", "roles": ["receptionist"]], as: owner)
            let token = try #require(invited.json["inviteToken"] as? String)
            let body: [String: any Sendable] = ["inviteToken": token, "password": Canary.password]
            #expect(try await app.send(.POST, "/api/v1/invitations/accept", json: body).status == .created)
            let again = try await app.send(.POST, "/api/v1/invitations/accept", json: body)
            #expect(again.status == .notFound)
            #expect(again.errorCode == "invitation_not_found")
        }
    }

    @Test("roles can be changed and a member removed, which ends their access", arguments: TestDatabase.allCases)
    func changeAndRemove(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let member = try await app.addMember(to: owner, roles: ["receptionist"])
            let path = "/api/v1/clinics/\(owner.clinicID)/staff/\(member.userID)"
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/staff", as: member).status == .forbidden)
            let changed = try await app.send(.PATCH, path, json: ["roles": ["admin"]], as: owner)
            #expect(changed.status == .ok)
            #expect(changed.json["roles"] as? [String] == ["admin"])
            // ASVS 3.2.1: a change of privilege ends the member's sessions; they sign in again.
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/staff", as: member).status == .unauthorized)
            let again = try await app.logIn(email: member.email, password: member.password, clinicID: owner.clinicID, userID: member.userID)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/staff", as: again).status == .ok)
            #expect(try await app.send(.DELETE, path, as: owner).status == .noContent)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients", as: again).status == .notFound)
        }
    }

    @Test("the last owner can neither lose the owner role nor be removed", arguments: TestDatabase.allCases)
    func lastOwnerKept(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let path = "/api/v1/clinics/\(owner.clinicID)/staff/\(owner.userID)"
            let demote = try await app.send(.PATCH, path, json: ["roles": ["admin"]], as: owner)
            #expect(demote.status == .conflict)
            #expect(demote.errorCode == "last_owner")
            #expect(try await app.send(.DELETE, path, as: owner).status == .conflict)
            let second = try await app.addMember(to: owner, roles: ["owner"])
            #expect(try await app.send(.PATCH, path, json: ["roles": ["admin", "practitioner"]], as: second).status == .ok)
        }
    }

    @Test("an admin cannot make anyone an owner")
    func adminCannotGrantOwner() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let invite = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/staff",
                                            json: ["email": Canary.email(), "name": "X", "roles": ["owner"]], as: admin)
            #expect(invite.status == .forbidden)
            let promote = try await app.send(.PATCH, "/api/v1/clinics/\(owner.clinicID)/staff/\(admin.userID)", json: ["roles": ["owner"]], as: admin)
            #expect(promote.status == .forbidden)
        }
    }

    // DC-16
    static let badInvitations: [([String: any Sendable], String)] = [
        (["email": "nope", "name": "A", "roles": ["admin"]], "email"),
        (["email": "a@b.example", "name": "A", "roles": [String]()], "roles"),
        (["email": "a@b.example", "name": "A", "roles": ["wizard"]], "roles"),
        (["email": "a@b.example", "roles": ["admin"]], "name"),
    ]

    @Test("bad invitations are a 400 naming the field", arguments: 0..<4)
    func badInvitation(_ index: Int) async throws {
        let (body, field) = Self.badInvitations[index]
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let response = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/staff", json: body, as: owner)
            #expect(response.status == .badRequest)
            #expect(response.errorField == field)
        }
    }
}

@Suite("Permission matrix through HTTP")
struct PermissionMatrixHTTPTests {
    // DAO-15, DC-11, PRX-5, DU-2, ASVS 4.1.1-4.1.3: every clinic route, every role
    @Test("every clinic route answers 403 exactly when the matrix denies the role", arguments: TestDatabase.allCases)
    func everyRouteEveryRole(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            var members: [(Role, TestSession)] = [(.owner, owner)]
            for role in Role.allCases where role != .owner {
                members.append((role, try await app.addMember(to: owner, roles: [role.rawValue])))
            }
            var checked = 0
            for route in app.app.routes.all {
                guard case let .clinic(resource, action)? = route.userInfo["clinickeep.permission"] as? Permission else { continue }
                let path = "/" + route.path.map { component -> String in
                    switch component {
                    case .parameter("clinicId"): return owner.clinicID
                    case .parameter: return UUID().uuidString
                    default: return component.description
                    }
                }.joined(separator: "/")
                for (role, session) in members {
                    let body: [String: any Sendable]? = [.POST, .PATCH, .PUT].contains(route.method) ? [:] : nil
                    let response = try await app.send(route.method, path, json: body, as: session)
                    let allowed = PermissionMatrix.standard.allows([role], resource, action)
                    if allowed {
                        #expect(response.status != .forbidden, "\(role) \(route.method) \(path)")
                    } else {
                        #expect(response.status == .forbidden, "\(role) \(route.method) \(path)")
                    }
                    #expect(response.status.code < 500, "\(role) \(route.method) \(path)")
                    checked += 1
                }
            }
            #expect(checked >= 5 * 12)
        }
    }
}
