import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor
@testable import ClinicServer

@Suite("A clinic only ever sees its own data")
struct TenancyTests {
    // DAO-16, PRX-13, DU-2, DU-8
    @Test("another clinic's patient answers 404 to read, change and delete", arguments: TestDatabase.allCases)
    func otherClinicGets404(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            let (id, sent) = try await app.createPatient(first)
            for clinic in [second.clinicID, first.clinicID] {
                let path = "/api/v1/clinics/\(clinic)/patients/\(id)"
                #expect(try await app.send(.GET, path, as: second).status == .notFound)
                #expect(try await app.send(.PATCH, path, json: ["givenName": "Mallory"], as: second).status == .notFound)
                #expect(try await app.send(.DELETE, path, as: second).status == .notFound)
            }
            let intact = try await app.send(.GET, "/api/v1/clinics/\(first.clinicID)/patients/\(id)", as: first)
            #expect(intact.json["givenName"] as? String == sent["givenName"] as? String)
        }
    }

    @Test("another clinic's searches never return the patient", arguments: TestDatabase.allCases)
    func searchesStayInside(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            let (_, sent) = try await app.createPatient(first)
            let phone = (sent["phone"] as! String).replacingOccurrences(of: " ", with: "")
            for query in ["", "?q=\((sent["familyName"] as! String).lowercased())", "?phone=\(phone)", "?email=\(sent["email"] as! String)"] {
                let response = try await app.send(.GET, "/api/v1/clinics/\(second.clinicID)/patients\(query)", as: second)
                #expect(response.status == .ok)
                #expect((response.json["patients"] as? [Any])?.isEmpty == true, "\(query)")
                #expect(!response.text.contains(sent["familyName"] as! String))
            }
        }
    }

    @Test("a clinic one does not belong to answers 404 for every route, not 403", arguments: TestDatabase.allCases)
    func nonMember404(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let first = try await app.signUpClinic()
            let outsider = try await app.signUpClinic()
            #expect(try await app.send(.GET, "/api/v1/clinics/\(first.clinicID)/patients", as: outsider).status == .notFound)
            #expect(try await app.send(.POST, "/api/v1/clinics/\(first.clinicID)/patients", json: ["givenName": "A", "familyName": "B"], as: outsider).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(first.clinicID)/audit", as: outsider).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(UUID().uuidString)/patients", as: outsider).status == .notFound)
        }
    }

    // POR-7: row-level security is the second wall
    @Test("on PostgreSQL the server's role sees no patient rows without a clinic set")
    func rowLevelSecurityWithoutRealm() async throws {
        try await ClinicTestApp.with(.postgres) { app in
            let owner = try await app.signUpClinic()
            _ = try await app.createPatient(owner)
            let unscoped = try await app.serverConnectionWithoutRealm.raw("SELECT count(*) AS n FROM patients").first()
            #expect(try unscoped?.decode(column: "n", as: Int.self) == 0)
            let ownerView = try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("SELECT count(*) AS n FROM patients").first()?.decode(column: "n", as: Int.self)
            }
            #expect(ownerView == 1)
        }
    }

    @Test("on PostgreSQL a query that forgets its clinic filter still sees only the set clinic's rows")
    func rowLevelSecurityForgottenFilter() async throws {
        try await ClinicTestApp.with(.postgres) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            _ = try await app.createPatient(first)
            let (mine, _) = try await app.createPatient(second)
            let seen = try await app.services.store.transaction(realm: UUID(uuidString: second.clinicID)!) { tx in
                try await tx.sql.raw("SELECT id FROM patients").all().map { try $0.decode(column: "id", as: UUID.self) }
            }
            #expect(seen == [UUID(uuidString: mine)!])
        }
    }

    // POR-7. Review round 2, part C: this test was hollow (a made-up patient id failed the foreign
    // key with or without row-level security). The row now names a real patient of the first
    // clinic, the same statement succeeds in that clinic's realm, and the refusal must be RLS's.
    @Test("on PostgreSQL the server's role cannot write a row into another clinic")
    func rowLevelSecurityWithCheck() async throws {
        try await ClinicTestApp.with(.postgres) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            let (patient, _) = try await app.createPatient(first)
            let firstClinic = try #require(UUID(uuidString: first.clinicID)), patientID = try #require(UUID(uuidString: patient))
            @Sendable func insert(as realm: UUID) async throws {
                try await app.services.store.transaction(realm: realm) { tx in
                    try await tx.sql.raw("""
                        INSERT INTO patient_name_tokens (clinic_id, token_index, patient_id)
                        VALUES (\(bind: firstClinic), \(bind: Data((0..<32).map { _ in UInt8.random(in: 0...255) })), \(bind: patientID))
                        """).run()
                }
            }
            let refusal = await #expect(throws: (any Error).self) { try await insert(as: try #require(UUID(uuidString: second.clinicID))) }
            #expect(String(reflecting: refusal).contains("row-level security"), "\(String(reflecting: refusal))")
            try await insert(as: firstClinic)
        }
    }
}

/// Security review round 2, A9 (POR-7): memberships, invitations and API tokens hold a clinic's
/// id and had no row-level security.
@Suite("Row-level security on identity tables")
struct IdentityTablesRLSTests {
    @Test("without a realm the server's role sees no membership, invitation or token; a clinic's realm only its own")
    func hiddenWithoutRealm() async throws {
        try await ClinicTestApp.with(.postgres) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            for owner in [first, second] {
                #expect(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/staff",
                                           json: ["email": Canary.email(), "name": "Invited", "roles": ["receptionist"]], as: owner).status == .created)
                #expect(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/api-tokens",
                                           json: ["label": "Widget", "roles": ["receptionist"]], as: owner).status == .created)
            }
            let store = app.services.store
            let firstClinic = try #require(UUID(uuidString: first.clinicID))
            for table in ["memberships", "invitations", "api_tokens"] {
                let unscoped = try await store.global.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int64.self)
                #expect(unscoped == 0, "\(table) without a realm")
                let clinics = try await store.transaction(realm: firstClinic) { tx in
                    try await tx.sql.raw("SELECT DISTINCT clinic_id FROM \(unsafeRaw: table)").all().map { try $0.decode(column: "clinic_id", as: UUID.self) }
                }
                #expect(clinics == [firstClinic], "\(table) in the first clinic's realm")
            }
            // Another clinic's membership cannot be written from a clinic's realm either.
            await #expect(throws: (any Error).self) {
                try await store.transaction(realm: firstClinic) { tx in
                    try await tx.sql.raw("""
                        INSERT INTO memberships (clinic_id, user_id, roles, created_at_ms)
                        VALUES (\(bind: UUID(uuidString: second.clinicID)!), \(bind: UUID(uuidString: first.userID)!), 'owner', 0)
                        """).run()
                }
            }
        }
    }
}
