import ClinicDomain
import ClinicTestSupport
import Foundation
import Testing
import Vapor
@testable import ClinicServer

/// Security review round 2, A17: the composed (NFC) and decomposed (NFD) forms of one address
/// look the same and were indexed as two.
@Suite("E-mail addresses in Unicode NFC")
struct EmailNormalisationTests {
    /// The same address twice: "é" as one scalar, and as "e" and a combining acute accent.
    static func forms() -> (composed: String, decomposed: String) {
        let local = "jos" + Canary.word("e").lowercased()
        return ("\(local)\u{E9}@clinic.example", "\(local)e\u{301}@clinic.example")
    }

    @Test("both forms parse to the same scalars")
    func parsedAlike() throws {
        let (composed, decomposed) = Self.forms()
        #expect(!EmailAddress.sameScalars(composed, decomposed))
        #expect(EmailAddress.sameScalars(try EmailAddress(parsing: composed).value, try EmailAddress(parsing: decomposed).value))
    }

    @Test("the other form of a member's address is the same member, and of an account the same account", arguments: TestDatabase.allCases)
    func oneAccount(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let (composed, decomposed) = Self.forms()
            let created = try await app.send(.POST, "/api/v1/clinics", json: [
                "name": "Clinic", "owner": ["email": composed, "name": "José", "password": Canary.password] as [String: any Sendable]])
            #expect(created.status == .created)
            let again = try await app.send(.POST, "/api/v1/clinics", json: [
                "name": "Clinic", "owner": ["email": decomposed, "name": "José", "password": Canary.password] as [String: any Sendable]])
            #expect(again.status == .conflict)
            let owner = try await app.logIn(email: decomposed, password: Canary.password,
                                            clinicID: try #require((created.json["clinic"] as? [String: Any])?["id"] as? String),
                                            userID: try #require((created.json["user"] as? [String: Any])?["id"] as? String))
            let invite = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/staff",
                                            json: ["email": decomposed, "name": "José", "roles": ["admin"]], as: owner)
            #expect(invite.status == .conflict && invite.errorCode == "already_member")
        }
    }

    @Test("an account stored in the decomposed form is folded at start, and signs in by either form", arguments: TestDatabase.allCases)
    func foldedAtStart(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let (composed, decomposed) = Self.forms()
            let services = app.services
            let hash = try await services.hashPassword(Canary.password)
            // As the previous version stored it: the address as typed, indexed as typed.
            _ = try await IdentityDirectory(services: services).createClinic(
                name: "Old Clinic", country: .australia, ownerEmail: EmailAddress(storedValue: decomposed), ownerName: "José",
                passwordHash: hash, context: RequestContext(actor: nil, address: nil, requestID: "test"))
            let normalisation = EmailIndexNormalisation(services: services, logger: app.app.logger)
            if database == .sqlite {
                #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": composed, "password": Canary.password]).status == .unauthorized)
                #expect(try await normalisation.run() >= 1)
            } else {
                // The PostgreSQL suites share one database and run side by side: another test's app,
                // starting meanwhile, may fold this account first. Only the end state is certain.
                _ = try await normalisation.run()
            }
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": composed, "password": Canary.password]).status == .ok)
            #expect(try await app.send(.POST, "/api/v1/auth/login", json: ["email": decomposed, "password": Canary.password]).status == .ok)
        }
    }
}
