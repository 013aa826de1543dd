import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
@testable import ClinicServer

/// A membership is kept in memory between requests only while the database says nothing about
/// it changed: changes made straight in the database (as by another server of the same database,
/// or an operator) hold from the next request, kept entry or not.
@Suite("Memberships kept in memory")
struct MembershipCacheTests {
    static func changeMembership(_ app: ClinicTestApp, _ owner: TestSession, _ member: TestSession, _ statement: String) async throws {
        let clinic = UUID(uuidString: owner.clinicID)!, user = UUID(uuidString: member.userID)!
        try await app.asOwner(realm: owner.clinicID.lowercased()) { sql in
            switch statement {
            case "promote":
                try await sql.raw("UPDATE memberships SET roles = 'practitioner' WHERE clinic_id = \(bind: clinic) AND user_id = \(bind: user)").run()
            case "remove":
                try await sql.raw("DELETE FROM memberships WHERE clinic_id = \(bind: clinic) AND user_id = \(bind: user)").run()
            default:
                try await sql.raw("UPDATE clinics SET mfa_required_roles = 'practitioner' WHERE id = \(bind: clinic)").run()
            }
        }
    }

    // DAO-15: the permission is checked against the role the person has now, cache or not
    @Test("a role changed in the database holds from the next request", arguments: TestDatabase.allCases)
    func roleChanged(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let desk = try await app.addMember(to: owner, roles: ["receptionist"])
            let formulas = "/api/v1/clinics/\(owner.clinicID)/formulas"
            #expect(try await app.send(.GET, formulas, as: desk).status == .forbidden)
            #expect(try await app.send(.GET, formulas, as: desk).status == .forbidden)

            try await Self.changeMembership(app, owner, desk, "promote")

            #expect(try await app.send(.GET, formulas, as: desk).status == .ok)
        }
    }

    @Test("a member removed in the database is a stranger from the next request", arguments: TestDatabase.allCases)
    func memberRemoved(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let desk = try await app.addMember(to: owner, roles: ["receptionist"])
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            #expect(try await app.send(.GET, patients, as: desk).status == .ok)
            #expect(try await app.send(.GET, patients, as: desk).status == .ok)

            try await Self.changeMembership(app, owner, desk, "remove")

            #expect(try await app.send(.GET, patients, as: desk).status == .notFound)
        }
    }

    @Test("a clinic's security policy changed in the database holds from the next request", arguments: TestDatabase.allCases)
    func policyChanged(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let practitioner = try await app.addMember(to: owner, roles: ["practitioner"])
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            #expect(try await app.send(.GET, patients, as: practitioner).status == .ok)

            try await Self.changeMembership(app, owner, practitioner, "policy")

            let refused = try await app.send(.GET, patients, as: practitioner)
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "mfa_enrolment_required")
        }
    }

    // DAO-16
    @Test("from another clinic: a kept membership of one clinic opens nothing in another")
    func anotherClinic() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            #expect(try await app.send(.GET, "/api/v1/clinics/\(first.clinicID)/patients", as: first).status == .ok)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(second.clinicID)/patients", as: first).status == .notFound)
        }
    }

    @Test("an entry is used while both versions hold, and read again when either moves")
    func versionsDecide() async throws {
        let cache = MembershipCache()
        let user = UserID(UUID()), clinic = ClinicID(UUID())
        let membership = IdentityDirectory.Membership(clinic: clinic, clinicName: "A", country: CountryCode("AU")!, timeZone: ClinicTimeZone(storedIdentifier: "UTC"),
                                                      roles: [.receptionist], mfaRequiredRoles: [], passwordMinimum: 12, caseBasedAccess: false,
                                                      adminGraceEnds: Date())
        let loads = Counter()
        func look(_ access: Int64, _ settings: Int64?, at now: Date = Date()) async throws {
            _ = try await cache.membership(of: user, in: clinic, versions: settings.map { .init(access: access, clinic: $0) }, now: now) {
                loads.add()
                return membership
            }
        }
        try await look(1, 1)
        try await look(1, 1)
        #expect(loads.value == 1)
        try await look(2, 1)
        try await look(2, 2)
        try await look(2, nil)
        #expect(loads.value == 4)
        try await look(2, 2, at: Date().addingTimeInterval(MembershipCache.lifetime + 1))
        #expect(loads.value == 5)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func add() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}
