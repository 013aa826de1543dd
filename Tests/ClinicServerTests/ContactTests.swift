@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Contacts")
struct ContactTests {
    static func referrer(_ name: String) -> [String: any Sendable] {
        ["kind": "referrer", "name": name, "organisation": "Harbour Medical", "phone": "0412 345 678",
         "email": "dr.referrer@example.org", "providerNumber": "2426621b", "notes": "Prefers letters by fax"]
    }

    // DAO-5, POR-2: a contact names a person; sealed at rest like a patient
    @Test("a referrer is created, read and changed with its fields checked, and stored sealed", arguments: TestDatabase.allCases)
    func createReadChangeSealed(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let name = "Dr " + Canary.word("Rf")
            let created = try await app.send(.POST, team.path("contacts"), json: Self.referrer(name), as: team.receptionist)
            #expect(created.status == .created)
            #expect(created.json["providerNumber"] as? String == "2426621B" && created.json["phone"] as? String == "+61412345678")
            let id = try #require(created.json["id"] as? String)
            let changed = try await app.send(.PATCH, team.path("contacts/\(id)"), json: ["notes": "", "organisation": "Bay Clinic"], as: team.practitioner)
            #expect(changed.status == .ok && changed.json["notes"] == nil && changed.json["organisation"] as? String == "Bay Clinic")
            let read = try await app.send(.GET, team.path("contacts/\(id)"), as: team.bookkeeper)
            #expect(read.json["name"] as? String == name && read.json["kind"] as? String == "referrer")
            let row = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("SELECT name, provider_number FROM contacts").first()
            }
            let stored = try #require(row)
            for column in ["name", "provider_number"] {
                let bytes = try stored.decode(column: column, as: Data.self)
                #expect(bytes.first == 1 && !bytes.contains(Data(name.utf8)) && !bytes.contains(Data("2426621B".utf8)))
            }
        }
    }

    @Test("bad input is refused and named: kind, name, phone, e-mail, provider number, control characters", arguments: [TestDatabase.sqlite])
    func badInput(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let path = "/api/v1/clinics/\(owner.clinicID)/contacts"
            let cases: [([String: any Sendable], String)] = [
                (["name": "Dr A"], "kind"), (["kind": "friend", "name": "Dr A"], "kind"), (["kind": "referrer", "name": "  "], "name"),
                (["kind": "referrer", "name": "Dr A", "phone": "call me"], "phone"), (["kind": "referrer", "name": "Dr A", "email": "nope"], "email"),
                (["kind": "referrer", "name": "Dr A", "providerNumber": "24-26"], "providerNumber"),
                (["kind": "referrer", "name": "Dr A\u{1B}[2J"], "name"), (["kind": "referrer", "name": "Dr A\nDr B"], "name"),
                (["kind": "referrer", "name": "Dr A", "organisation": "Clinic \u{202E}latipsoH"], "organisation"),
            ]
            for (body, field) in cases {
                let answer = try await app.send(.POST, path, json: body, as: owner)
                #expect(answer.status == .badRequest && answer.errorField == field, "\(body)")
            }
            let badKind = try await app.send(.GET, path + "?kind=friend", as: owner)
            #expect(badKind.status == .badRequest && badKind.errorField == "kind")
        }
    }

    // PRX-8: every read of personal data is in the ledger
    @Test("reads, lists and changes of contacts are audit events naming the contact; bookkeepers read but do not add, only owners and admins remove", arguments: TestDatabase.allCases)
    func auditedAndPermitted(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            #expect(try await app.send(.POST, team.path("contacts"), json: Self.referrer("Dr B"), as: team.bookkeeper).status == .forbidden)
            let id = try #require(try await app.send(.POST, team.path("contacts"), json: Self.referrer("Dr B"), as: team.owner).json["id"] as? String)
            let listed = try await app.send(.GET, team.path("contacts?kind=referrer"), as: team.receptionist)
            #expect((listed.json["contacts"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            #expect((try await app.send(.GET, team.path("contacts?kind=insurer"), as: team.receptionist).json["contacts"] as? [Any])?.isEmpty == true)
            #expect(try await app.send(.GET, team.path("contacts/\(id)"), as: team.practitioner).status == .ok)
            #expect(try await app.send(.DELETE, team.path("contacts/\(id)"), as: team.receptionist).status == .forbidden)
            #expect(try await app.send(.DELETE, team.path("contacts/\(id)"), as: team.owner).status == .noContent)
            #expect(try await app.send(.GET, team.path("contacts/\(id)"), as: team.owner).status == .notFound)
            let events = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("""
                    SELECT action, outcome, resource_id, detail FROM audit_events
                    WHERE chain_id = \(bind: UUID(uuidString: team.clinic)!) AND action LIKE 'contact.%' ORDER BY sequence
                    """).all().map { row in
                    (try row.decode(column: "action", as: String.self), try row.decode(column: "outcome", as: String.self),
                     try row.decode(column: "resource_id", as: UUID?.self), try row.decode(column: "detail", as: String?.self))
                }
            }
            #expect(events.map(\.0) == ["contact.create", "contact.list", "contact.list", "contact.read", "contact.delete", "contact.read"])
            #expect(events[1].3 == id && events[2].3 == nil)
            #expect(events[3].2 == UUID(uuidString: id) && events.last?.1 == "failure")
        }
    }

    @Test("another clinic's contact is not found, for reading, changing or removing", arguments: TestDatabase.allCases)
    func otherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let other = try await app.signUpClinic()
            let id = try #require(try await app.send(.POST, "/api/v1/clinics/\(owner.clinicID)/contacts", json: Self.referrer("Dr C"), as: owner).json["id"] as? String)
            let foreign = "/api/v1/clinics/\(other.clinicID)/contacts/\(id)"
            #expect(try await app.send(.GET, foreign, as: other).status == .notFound)
            #expect(try await app.send(.PATCH, foreign, json: ["name": "Mallory"], as: other).status == .notFound)
            #expect(try await app.send(.DELETE, foreign, as: other).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/contacts/\(id)", as: other).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/contacts/\(id)", as: owner).json["name"] as? String == "Dr C")
        }
    }
}
