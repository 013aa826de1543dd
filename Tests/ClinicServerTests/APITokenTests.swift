@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Crypto
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Integration API tokens")
struct APITokenTests {
    static func issue(_ app: ClinicTestApp, _ owner: TestSession, roles: [String] = ["receptionist"], days: Int? = nil) async throws -> (id: String, token: String) {
        var body: [String: any Sendable] = ["label": "Booking widget", "roles": roles]
        if let days { body["expiresInDays"] = days }
        let issued = try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/api-tokens", json: body, as: owner)
        try #require(issued.status == .created, "issue answered \(issued.status): \(issued.text)")
        return (try #require(issued.json["id"] as? String), try #require(issued.json["token"] as? String))
    }

    static func bearer(_ token: String) -> HTTPHeaders { ["Authorization": "Bearer \(token)"] }

    // POR-3: API keys stored hashed
    @Test("a token is shown once and stored only as its hash", arguments: TestDatabase.allCases)
    func shownOnceStoredHashed(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, token) = try await Self.issue(app, owner)
            #expect(token.hasPrefix("ckt_") && token.count == 47)
            let listed = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/api-tokens", as: owner)
            let entries = try #require(listed.json["apiTokens"] as? [[String: Any]])
            #expect(entries.count == 1 && entries[0]["id"] as? String == id && entries[0]["token"] == nil)
            #expect(!listed.text.contains(token) && !listed.text.contains(String(token.dropFirst(4))))
            let clinic = UUID(uuidString: owner.clinicID)!
            let hash = try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("SELECT token_hash FROM api_tokens WHERE clinic_id = \(bind: clinic)").all()
                    .map { try $0.decode(column: "token_hash", as: Data.self) }
            }
            #expect(hash == [Data(SHA256.hash(data: Data(token.utf8)))])
        }
    }

    @Test("a token acts in its clinic with its roles only, without a CSRF token, and never as a person", arguments: TestDatabase.allCases)
    func scoped(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (patient, _) = try await app.createPatient(owner)
            let (tokenID, token) = try await Self.issue(app, owner)
            let clinic = "/api/v1/clinics/\(owner.clinicID)"
            #expect(try await app.send(.GET, "\(clinic)/patients/\(patient)", headers: Self.bearer(token)).status == .ok)
            let created = try await app.send(.POST, "\(clinic)/patients", json: ["givenName": "Ada", "familyName": "Token", "birthDate": "1990-01-01"],
                                             headers: Self.bearer(token))
            #expect(created.status == .created)
            #expect(try await app.send(.GET, "\(clinic)/consultations?patientId=\(patient)", headers: Self.bearer(token)).status == .forbidden)
            #expect(try await app.send(.GET, "\(clinic)/api-tokens", headers: Self.bearer(token)).status == .forbidden)
            #expect(try await app.send(.GET, "/api/v1/me", headers: Self.bearer(token)).status == .unauthorized)
            let other = try await app.signUpClinic()
            let (otherPatient, _) = try await app.createPatient(other)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(other.clinicID)/patients/\(otherPatient)", headers: Self.bearer(token)).status == .notFound)
            // The ledger names the token as the actor of what it did.
            let actors = try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("""
                    SELECT DISTINCT actor_id FROM audit_events WHERE chain_id = \(bind: UUID(uuidString: owner.clinicID)!) AND action = 'patient.create'
                    """).all().map { try $0.decode(column: "actor_id", as: UUID?.self) }
            }
            #expect(actors.contains(UUID(uuidString: tokenID)!))
        }
    }

    @Test("owners alone issue tokens, for the desk's and the books' roles only", arguments: TestDatabase.allCases)
    func issueRules(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let path = "/api/v1/clinics/\(owner.clinicID)/api-tokens"
            #expect(try await app.send(.POST, path, json: ["label": "x", "roles": ["receptionist"]], as: admin).status == .forbidden)
            #expect(try await app.send(.GET, path, as: admin).status == .ok)
            for (body, field) in [(["label": "x", "roles": ["owner"]], "roles"), (["label": "x", "roles": ["practitioner"]], "roles"),
                                  (["label": "", "roles": ["bookkeeper"]], "label"),
                                  (["label": "x", "roles": ["bookkeeper"], "expiresInDays": 400], "expiresInDays")] as [([String: any Sendable], String)] {
                let refused = try await app.send(.POST, path, json: body, as: owner)
                #expect(refused.status == .badRequest && refused.errorField == field, "\(refused.text)")
            }
        }
    }

    @Test("a revoked, expired, unknown or malformed token is refused with 401", arguments: TestDatabase.allCases)
    func deadTokens(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let patients = "/api/v1/clinics/\(owner.clinicID)/patients"
            let (id, token) = try await Self.issue(app, owner)
            #expect(try await app.send(.DELETE, "/api/v1/clinics/\(owner.clinicID)/api-tokens/\(id)", as: owner).status == .noContent)
            let revoked = try await app.send(.GET, patients, headers: Self.bearer(token))
            #expect(revoked.status == .unauthorized && revoked.errorCode == "invalid_token")
            let (expiringID, expiring) = try await Self.issue(app, owner, days: 1)
            try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("UPDATE api_tokens SET expires_at_ms = 1 WHERE id = \(bind: UUID(uuidString: expiringID)!)").run()
            }
            #expect(try await app.send(.GET, patients, headers: Self.bearer(expiring)).status == .unauthorized)
            for presented in ["ckt_" + String(repeating: "A", count: 43), "not-a-token", String(token.dropFirst(4))] {
                #expect(try await app.send(.GET, patients, headers: Self.bearer(presented)).status == .unauthorized)
            }
            // A cookie beside a dead token does not rescue it.
            #expect(try await app.send(.GET, patients, as: owner, headers: Self.bearer(token)).status == .unauthorized)
        }
    }
}
