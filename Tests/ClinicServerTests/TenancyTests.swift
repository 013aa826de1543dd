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

    @Test("on PostgreSQL the server's role cannot write a row into another clinic")
    func rowLevelSecurityWithCheck() async throws {
        try await ClinicTestApp.with(.postgres) { app in
            let first = try await app.signUpClinic()
            let second = try await app.signUpClinic()
            await #expect(throws: (any Error).self) {
                try await app.services.store.transaction(realm: UUID(uuidString: second.clinicID)!) { tx in
                    try await tx.sql.raw("""
                        INSERT INTO patient_name_tokens (clinic_id, token_index, patient_id)
                        VALUES (\(bind: UUID(uuidString: first.clinicID)!), \(bind: Data([1])), \(bind: UUID()))
                        """).run()
                }
            }
        }
    }
}
