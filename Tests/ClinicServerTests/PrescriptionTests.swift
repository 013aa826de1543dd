import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Prescriptions and formulas")
struct PrescriptionTests {
    static let formula: [String: any Sendable] = [
        "name": "Gui Pi Tang", "instructions": "Decoct; take twice daily",
        "herbs": [["herb": "Huang Qi", "grams": 12], ["herb": "Dang Shen", "grams": 9], ["herb": "Bai Zhu", "grams": 9]] as [[String: any Sendable]],
    ]

    @Test("a prescription copies a library formula and adjusts it; the library keeps its doses", arguments: TestDatabase.allCases)
    func formulaCopied(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let created = try await app.send(.POST, team.path("formulas"), json: Self.formula, as: team.practitioner)
            #expect(created.status == .created, "\(created.text)")
            let formulaID = try #require(created.json["id"] as? String)
            let copied = try await app.send(.POST, team.path("prescriptions"), json: ["patientId": team.patientID, "formulaId": formulaID],
                                            as: team.practitioner)
            #expect(copied.status == .created, "\(copied.text)")
            #expect(((copied.json["formula"] as? [String: Any])?["herbs"] as? [[String: Any]])?.count == 3)
            let adjusted = try await app.send(.POST, team.path("prescriptions"), json: [
                "patientId": team.patientID, "formulaId": formulaID,
                "formula": ["herbs": [["herb": "Huang Qi", "grams": 15.04], ["herb": "Bai Zhu", "grams": 6]] as [[String: any Sendable]]] as [String: any Sendable],
            ], as: team.practitioner)
            #expect(adjusted.status == .created)
            let formula = try #require(adjusted.json["formula"] as? [String: Any])
            #expect(formula["name"] as? String == "Gui Pi Tang")
            #expect((formula["herbs"] as? [[String: Any]])?.first?["grams"] as? Double == 15.0)
            #expect(adjusted.json["formulaId"] as? String == formulaID)
            let library = try await app.send(.GET, team.path("formulas/\(formulaID)"), as: team.practitioner)
            #expect((library.json["herbs"] as? [[String: Any]])?.first?["grams"] as? Double == 12)
        }
    }

    @Test("medications are checked field by field", arguments: TestDatabase.allCases)
    func medicationsChecked(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let medication: [String: any Sendable] = ["name": "Amoxicillin", "dose": "500 mg", "route": "oral", "frequency": "three times daily",
                                                     "quantity": 15, "repeats": 0]
            let good = try await app.send(.POST, team.path("prescriptions"), json: ["patientId": team.patientID, "medications": [medication]],
                                          as: team.practitioner)
            #expect(good.status == .created)
            var noDose = medication
            noDose["dose"] = " "
            let bad = try await app.send(.POST, team.path("prescriptions"), json: ["patientId": team.patientID, "medications": [noDose]],
                                         as: team.practitioner)
            #expect(bad.status == .badRequest)
            #expect(bad.errorField == "medications[0].dose")
            let empty = try await app.send(.POST, team.path("prescriptions"), json: ["patientId": team.patientID], as: team.practitioner)
            #expect(empty.errorField == "medications")
            let listed = try await app.send(.GET, team.path("prescriptions?patientId=\(team.patientID)"), as: team.owner)
            #expect((listed.json["prescriptions"] as? [Any])?.count == 1)
        }
    }

    @Test("a written prescription is sealed and the database refuses to change it", arguments: TestDatabase.allCases)
    func sealedAndLocked(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let drug = Canary.word("Drug")
            let written = try await app.send(.POST, team.path("prescriptions"), json: ["patientId": team.patientID, "medications": [
                ["name": drug, "dose": "1 tablet", "route": "oral", "frequency": "daily", "quantity": 30] as [String: any Sendable]]],
                as: team.practitioner)
            let id = try #require(written.json["id"] as? String)
            let stored = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("SELECT content FROM prescriptions WHERE id = \(bind: UUID(uuidString: id)!)").first()?.decode(column: "content", as: Data.self)
            }
            #expect(stored.map { !$0.contains(Data(drug.utf8)) } == true)
            // Refused by the lock's own trigger (its message names the project), not by some other error.
            for statement in ["UPDATE prescriptions SET created_at_ms = created_at_ms + 1 WHERE id = ", "DELETE FROM prescriptions WHERE id = "] {
                do {
                    try await app.asOwner(realm: team.clinic) { sql in
                        var query = SQLQueryString(statement)
                        query.appendInterpolation(bind: UUID(uuidString: id)!)
                        try await sql.raw(query).run()
                    }
                    Issue.record("\(statement) was allowed")
                } catch {
                    #expect(String(reflecting: error).contains("clinickeep:"), "\(statement): \(String(reflecting: error))")
                }
            }
            #expect(try await app.send(.GET, team.path("prescriptions/\(id)"), as: team.practitioner).status == .ok)
        }
    }

    @Test("receptionists and bookkeepers see no formulas; another clinic's formula is not found", arguments: TestDatabase.allCases)
    func formularyAccess(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let formulaID = try #require(try await app.send(.POST, team.path("formulas"), json: Self.formula, as: team.practitioner).json["id"] as? String)
            for session in [team.receptionist, team.bookkeeper] {
                #expect(try await app.send(.GET, team.path("formulas"), as: session).status == .forbidden)
            }
            let other = try await app.signUpClinic()
            let (otherPatient, _) = try await app.createPatient(other)
            let foreign = try await app.send(.POST, "/api/v1/clinics/\(other.clinicID)/prescriptions",
                                             json: ["patientId": otherPatient, "formulaId": formulaID], as: other)
            #expect(foreign.status == .badRequest)
            #expect(foreign.errorField == "formulaId")
        }
    }
}
