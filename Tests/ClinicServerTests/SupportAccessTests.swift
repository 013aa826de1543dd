import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor
@testable import ClinicServer

/// Security review round 2, B2 (PRX-7, PRX-14, DU-6): the operator reaches a clinic's data only
/// by that clinic's consent, read-only, for a time, and recorded.
@Suite("Support access by the clinic's consent")
struct SupportAccessTests {
    static func request(_ app: ClinicTestApp, _ clinic: String, hours: Int = 2) async throws -> String {
        let id = try await SupportGrants(services: app.services).request(clinic: ClinicID(string: clinic)!, operatorName: "Ada Operator", hours: hours,
                                                                         reason: "Ticket 4471: diary will not load", requestID: "test")
        return id.uuidString.lowercased()
    }

    /// Signs the grant's support identity in, as its link would.
    static func signIn(_ app: ClinicTestApp, grant: String, clinic: String) async throws -> TestSession? {
        let issued = try await SupportGrants(services: app.services).issueSignInToken(grant: UUID(uuidString: grant)!, requestID: "test")
        guard let (session, _) = try await SupportGrants(services: app.services)
            .signIn(token: issued.token, client: .init(), context: RequestContext(actor: nil, address: nil, requestID: "test")) else { return nil }
        return TestSession(cookie: session.token, csrfToken: SessionStore.csrfToken(forSessionToken: session.token),
                           userID: issued.grant.supportUser!.description, clinicID: clinic, email: "", password: "")
    }

    @Test("a request waits for the owner, who sees it with its reason; refused, it gives no sign-in", arguments: TestDatabase.allCases)
    func refused(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let id = try await Self.request(app, owner.clinicID)
            let listed = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/support-access", as: owner)
            let first = try #require((listed.json["requests"] as? [[String: Any]])?.first)
            #expect(first["id"] as? String == id && first["state"] as? String == "requested" && first["operatorName"] as? String == "Ada Operator")
            #expect(first["reason"] as? String == "Ticket 4471: diary will not load" && first["active"] as? Bool == false)
            await #expect(throws: ClinicError.self) { _ = try await Self.signIn(app, grant: id, clinic: owner.clinicID) }
            let refused = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(id)/refuse", as: owner)
            #expect(refused.status == .ok && refused.json["state"] as? String == "refused")
            await #expect(throws: ClinicError.self) { _ = try await Self.signIn(app, grant: id, clinic: owner.clinicID) }
            let late = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(id)/grant", as: owner)
            #expect(late.status == .conflict && late.errorCode == "invalid_transition")
        }
    }

    @Test("granted, the support identity signs in once and reads, read-only, every read recorded under it", arguments: TestDatabase.allCases)
    func grantedReadOnly(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await Self.request(app, team.clinic)
            let granted = try await app.send(.POST, team.path("support-access/\(id)/grant"), as: team.owner)
            #expect(granted.status == .ok && granted.json["active"] as? Bool == true, "\(granted.text)")
            let support = try #require(try await Self.signIn(app, grant: id, clinic: team.clinic))

            let patient = try await app.send(.GET, team.path("patients/\(team.patientID)"), as: support)
            #expect(patient.status == .ok)
            #expect(try await app.send(.GET, team.path("appointments?date=2031-03-04"), as: support).status == .ok)
            // Read-only, and never the clinical record, files, money or the audit trail.
            #expect(try await app.send(.PATCH, team.path("patients/\(team.patientID)"), json: ["givenName": "Changed"], as: support).status == .forbidden)
            #expect(try await app.send(.POST, team.path("patients"), json: ["givenName": "New", "familyName": "Person"], as: support).status == .forbidden)
            for path in ["consultations", "prescriptions", "invoices", "audit", "patients/\(team.patientID)/files", "break-glass"] {
                #expect(try await app.send(.GET, team.path(path), as: support).status == .forbidden, "\(path)")
            }
            let events = try await app.send(.GET, team.path("audit"), as: team.owner).json["events"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "patient.read" && $0["actorId"] as? String == support.userID })
            let signIn = try #require(events.first { $0["action"] as? String == "support.sign-in" })
            #expect(signIn["actorId"] as? String == support.userID && (signIn["detail"] as? String)?.contains("Ada Operator") == true)
            #expect(events.contains { $0["action"] as? String == "support.grant" && $0["actorId"] as? String == team.owner.userID })
            // Every request of the support identity, not only those that read a record, is on record.
            #expect(events.contains { $0["action"] as? String == "support.access" && $0["actorId"] as? String == support.userID
                && $0["detail"] as? String == "route=GET /api/v1/clinics/:clinicId/patients/:patientId" })
            #expect(try await app.send(.GET, team.path("patients/\(team.patientID)/care-team"), as: support).status == .forbidden)
        }
    }

    @Test("a sign-in link works once", arguments: [TestDatabase.sqlite])
    func linkOnce(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let id = try await Self.request(app, owner.clinicID)
            #expect(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(id)/grant", as: owner).status == .ok)
            let grants = SupportGrants(services: app.services)
            let issued = try await grants.issueSignInToken(grant: UUID(uuidString: id)!, requestID: "test")
            let context = RequestContext(actor: nil, address: nil, requestID: "test")
            #expect(try await grants.signIn(token: issued.token, client: .init(), context: context) != nil)
            #expect(try await grants.signIn(token: issued.token, client: .init(), context: context) == nil)
            // A made-up secret for a real grant, and a mangled token, get nothing.
            let forged = issued.token.split(separator: ".").prefix(2).joined(separator: ".") + "." + SecureToken.generate()
            #expect(try await grants.signIn(token: forged, client: .init(), context: context) == nil)
            #expect(try await grants.signIn(token: "not a token", client: .init(), context: context) == nil)
        }
    }

    @Test("revoked, the support identity is out at once; past its hours, it is refused", arguments: TestDatabase.allCases)
    func revokedAndExpired(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            let revokedID = try await Self.request(app, owner.clinicID)
            #expect(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(revokedID)/grant", as: owner).status == .ok)
            let revokedSupport = try #require(try await Self.signIn(app, grant: revokedID, clinic: owner.clinicID))
            #expect(try await app.send(.GET, patients, as: revokedSupport).status == .ok)
            let revoked = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(revokedID)/revoke", as: owner)
            #expect(revoked.status == .ok && revoked.json["state"] as? String == "revoked")
            #expect(try await app.send(.GET, patients, as: revokedSupport).status == .unauthorized)

            let expiringID = try await Self.request(app, owner.clinicID)
            #expect(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(expiringID)/grant", as: owner).status == .ok)
            let support = try #require(try await Self.signIn(app, grant: expiringID, clinic: owner.clinicID))
            #expect(try await app.send(.GET, patients, as: support).status == .ok)
            try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("""
                    UPDATE support_access SET expires_at_ms = decided_at_ms - 1 WHERE clinic_id = \(bind: UUID(uuidString: owner.clinicID)!)
                    """).run()
            }
            #expect(try await app.send(.GET, patients, as: support).status == .notFound)
            await #expect(throws: ClinicError.self) { _ = try await Self.signIn(app, grant: expiringID, clinic: owner.clinicID) }
        }
    }

    @Test("only an owner decides, and another clinic's request answers 404", arguments: TestDatabase.allCases)
    func ownersOnlyAndOtherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let id = try await Self.request(app, owner.clinicID)
            #expect(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(id)/grant", as: admin).status == .forbidden)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/support-access", as: admin).status == .ok)
            let other = try await app.signUpClinic()
            #expect(try await app.send(.POST, "/api/v1/clinics/\(other.clinicID)/support-access/\(id)/grant", as: other).status == .notFound)
            // Granted by its own clinic, the support identity is a stranger to the other clinic.
            #expect(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/support-access/\(id)/grant", as: owner).status == .ok)
            let support = try #require(try await Self.signIn(app, grant: id, clinic: owner.clinicID))
            #expect(try await app.send(.GET, "/api/v1/clinics/\(other.clinicID)/patients", as: support).status == .notFound)
        }
    }

    @Test("the owner sees the request on the support page and grants it there; an admin sees it without the buttons",
          arguments: [TestDatabase.sqlite])
    func page(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let id = try await Self.request(app, owner.clinicID)
            let page = try await app.send(.GET, "/clinics/\(owner.clinicID)/support-access", as: owner)
            #expect(page.status == .ok && page.text.contains("Ticket 4471") && page.text.contains("/support-access/\(id)/grant"))
            let adminPage = try await app.send(.GET, "/clinics/\(owner.clinicID)/support-access", as: admin)
            #expect(adminPage.text.contains("Ticket 4471") && !adminPage.text.contains("/support-access/\(id)/grant"))
            #expect(try await app.postForm("/clinics/\(owner.clinicID)/support-access/\(id)/grant", as: admin, []).status == .forbidden)
            let granted = try await app.postForm("/clinics/\(owner.clinicID)/support-access/\(id)/grant", as: owner, [])
            #expect(granted.status == .seeOther)
            let after = try await app.send(.GET, "/clinics/\(owner.clinicID)/support-access", as: owner)
            #expect(after.text.contains("granted") && after.text.contains("/support-access/\(id)/revoke"))
        }
    }

    @Test("a request needs hours within bounds, a reason and an operator")
    func requestValidated() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let grants = SupportGrants(services: app.services)
            let clinic = ClinicID(string: owner.clinicID)!
            for (hours, reason, name) in [(0, "Why", "Ada"), (73, "Why", "Ada"), (2, " ", "Ada"), (2, "Why", "")] {
                await #expect(throws: ClinicError.self) {
                    _ = try await grants.request(clinic: clinic, operatorName: name, hours: hours, reason: reason, requestID: "test")
                }
            }
            await #expect(throws: ClinicError.self) {
                _ = try await grants.request(clinic: ClinicID.random(), operatorName: "Ada", hours: 2, reason: "Why", requestID: "test")
            }
        }
    }
}
