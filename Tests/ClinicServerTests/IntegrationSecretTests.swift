@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Integration secrets")
struct IntegrationSecretTests {
    static func scope(_ app: ClinicTestApp, _ owner: TestSession) -> ClinicScope {
        ClinicScope(clinic: ClinicID(UUID(uuidString: owner.clinicID)!), country: CountryCode.australia,
                    actor: UserID(UUID(uuidString: owner.userID)!), roles: [.owner],
                    context: RequestContext(actor: UserID(UUID(uuidString: owner.userID)!), address: nil, requestID: "test"))
    }

    // DAO-8, PRX-4: third-party tokens sealed at the application level, never shown back
    @Test("a stored credential is sealed in the database and never answered back", arguments: TestDatabase.allCases)
    func sealedAndNeverShown(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let token = "sk_live_" + Canary.word("Tk")
            let path = "/api/v1/clinics/\(owner.clinicID)/integration-secrets"
            let stored = try await app.send(.POST, path, json: ["kind": "payment-provider-token", "label": "Card payments", "value": token], as: owner)
            #expect(stored.status == .created)
            #expect(stored.json["label"] as? String == "Card payments" && !stored.text.contains(token))
            let listed = try await app.send(.GET, path, as: owner)
            #expect((listed.json["integrationSecrets"] as? [[String: Any]])?.map { $0["kind"] as? String } == ["payment-provider-token"])
            #expect(!listed.text.contains(token))
            let row = try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("SELECT secret FROM integration_secrets").first()?.decode(column: "secret", as: Data.self)
            }
            let bytes = try #require(row)
            #expect(bytes.first == 1 && !bytes.contains(Data(token.utf8)))
            #expect(try await IntegrationSecrets(scope: Self.scope(app, owner), services: app.services).use(.paymentProviderToken, label: "Card payments") == token)
            let actions = try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("SELECT action FROM audit_events WHERE chain_id = \(bind: UUID(uuidString: owner.clinicID)!) AND action LIKE 'integration_secret.%' ORDER BY sequence").all()
                    .map { try $0.decode(column: "action", as: String.self) }
            }
            #expect(actions == ["integration_secret.store", "integration_secret.use"])
        }
    }

    @Test("owners store and remove credentials, admins only see the list, other roles nothing; bad input is named", arguments: TestDatabase.allCases)
    func permissionsAndInput(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let receptionist = try await app.addMember(to: owner, roles: ["receptionist"])
            let path = "/api/v1/clinics/\(owner.clinicID)/integration-secrets"
            let body: [String: any Sendable] = ["kind": "integration-key", "label": "SMS gateway", "value": "key-1"]
            #expect(try await app.send(.POST, path, json: body, as: admin).status == .forbidden)
            #expect(try await app.send(.GET, path, as: receptionist).status == .forbidden)
            let unknownKind = try await app.send(.POST, path, json: ["kind": "password", "label": "x", "value": "y"], as: owner)
            #expect(unknownKind.status == .badRequest && unknownKind.errorField == "kind")
            let empty = try await app.send(.POST, path, json: ["kind": "integration-key", "label": "x", "value": ""], as: owner)
            #expect(empty.status == .badRequest && empty.errorField == "value")
            let first = try await app.send(.POST, path, json: body, as: owner)
            var replacing = body
            replacing["value"] = "key-2"
            let second = try await app.send(.POST, path, json: replacing, as: owner)
            #expect(first.status == .created && second.status == .created)
            let listed = try await app.send(.GET, path, as: admin)
            #expect((listed.json["integrationSecrets"] as? [[String: Any]])?.count == 1)
            #expect(try await IntegrationSecrets(scope: Self.scope(app, owner), services: app.services).use(.integrationKey, label: "SMS gateway") == "key-2")
            let id = try #require(second.json["id"] as? String)
            let other = try await app.signUpClinic()
            #expect(try await app.send(.DELETE, "/api/v1/clinics/\(other.clinicID)/integration-secrets/\(id)", as: other).status == .notFound)
            #expect(try await app.send(.DELETE, "\(path)/\(id)", as: owner).status == .noContent)
            #expect(try await app.send(.DELETE, "\(path)/\(id)", as: owner).status == .notFound)
        }
    }
}
