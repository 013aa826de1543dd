import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Consultations")
struct ConsultationTests {
    @Test("a draft changes part by part until it is signed", arguments: TestDatabase.allCases)
    func draftThenSign(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await app.startConsultation(team, note: ["subjective": "Headache for three days"])
            let path = team.path("consultations/\(id)")
            let changed = try await app.send(.PATCH, path, json: ["assessment": "Tension-type headache"], as: team.practitioner)
            #expect(changed.status == .ok)
            let original = try #require(changed.json["original"] as? [String: Any])
            #expect(original["subjective"] as? String == "Headache for three days")
            #expect(original["assessment"] as? String == "Tension-type headache")
            let signed = try await app.send(.POST, path + "/sign", as: team.practitioner)
            #expect(signed.status == .ok)
            #expect(signed.json["status"] as? String == "signed")
            #expect(signed.json["signedAt"] as? String != nil)
        }
    }

    // POR-9: a signed consultation cannot be edited through any route
    @Test("a signed consultation refuses every change through the API", arguments: TestDatabase.allCases)
    func signedIsLocked(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await app.startConsultation(team, note: ["plan": "Review in two weeks"])
            let path = team.path("consultations/\(id)")
            #expect(try await app.send(.POST, path + "/sign", as: team.practitioner).status == .ok)
            for session in [team.practitioner, team.owner] {
                let edit = try await app.send(.PATCH, path, json: ["plan": "Changed after signing"], as: session)
                #expect(edit.status == .conflict)
                #expect(edit.errorCode == "consultation_signed")
                #expect(try await app.send(.POST, path + "/sign", as: session).errorCode == "consultation_signed")
            }
            let delete = try await app.send(.DELETE, path, as: team.owner)
            #expect(delete.status == .methodNotAllowed && delete.headers.first(name: .allow)?.contains("DELETE") == false)
            let read = try await app.send(.GET, path, as: team.practitioner)
            #expect((read.json["original"] as? [String: Any])?["plan"] as? String == "Review in two weeks")
        }
    }

    // POR-9: and the database refuses too, whoever connects
    @Test("the database refuses to change or delete a signed consultation", arguments: TestDatabase.allCases)
    func databaseRefuses(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await app.startConsultation(team, note: ["plan": "Rest"])
            #expect(try await app.send(.POST, team.path("consultations/\(id)/sign"), as: team.practitioner).status == .ok)
            let row = UUID(uuidString: id)!
            for statement in ["UPDATE consultations SET signed_at_ms = NULL WHERE id = ", "UPDATE consultations SET plan = NULL WHERE id = ",
                              "DELETE FROM consultations WHERE id = "] {
                await #expect(throws: (any Error).self, "\(statement)") {
                    try await app.asOwner(realm: team.clinic) { sql in
                        var query = SQLQueryString(statement)
                        query.appendInterpolation(bind: row)
                        try await sql.raw(query).run()
                    }
                }
            }
            let read = try await app.send(.GET, team.path("consultations/\(id)"), as: team.practitioner)
            #expect(read.json["status"] as? String == "signed")
        }
    }

    @Test("an amendment keeps the original and shows both", arguments: TestDatabase.allCases)
    func amendment(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await app.startConsultation(team, note: ["assessment": "Sprain, left ankle"])
            let path = team.path("consultations/\(id)")
            let early = try await app.send(.POST, path + "/amendments", json: ["reason": "Side", "assessment": "Sprain, right ankle"], as: team.practitioner)
            #expect(early.errorCode == "consultation_not_signed")
            #expect(try await app.send(.POST, path + "/sign", as: team.practitioner).status == .ok)
            let amended = try await app.send(.POST, path + "/amendments",
                                             json: ["reason": "Wrong side recorded", "assessment": "Sprain, right ankle"], as: team.practitioner)
            #expect(amended.status == .created)
            let read = try await app.send(.GET, path, as: team.owner)
            #expect((read.json["original"] as? [String: Any])?["assessment"] as? String == "Sprain, left ankle")
            let amendments = try #require(read.json["amendments"] as? [[String: Any]])
            #expect(amendments.count == 1)
            #expect(amendments.first?["reason"] as? String == "Wrong side recorded")
            #expect((amendments.first?["note"] as? [String: Any])?["assessment"] as? String == "Sprain, right ankle")
            #expect(amendments.first?["authorId"] as? String == team.practitioner.userID)
            let noReason = try await app.send(.POST, path + "/amendments", json: ["assessment": "x"], as: team.practitioner)
            #expect(noReason.status == .badRequest)
            #expect(noReason.errorField == "reason")
        }
    }

    @Test("a list carries each consultation's own amendments", arguments: TestDatabase.allCases)
    func listWithAmendments(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            var ids: [String] = []
            for text in ["First visit", "Second visit"] {
                let id = try await app.startConsultation(team, note: ["subjective": text])
                #expect(try await app.send(.POST, team.path("consultations/\(id)/sign"), as: team.practitioner).status == .ok)
                ids.append(id)
            }
            for reason in ["One", "Two"] {
                let amended = try await app.send(.POST, team.path("consultations/\(ids[0])/amendments"), json: ["reason": reason, "plan": "p"],
                                                 as: team.practitioner)
                #expect(amended.status == .created)
            }
            let listed = try await app.send(.GET, team.path("consultations?patientId=\(team.patientID)"), as: team.practitioner)
            let byID = Dictionary(uniqueKeysWithValues: (listed.json["consultations"] as? [[String: Any]] ?? []).map {
                ($0["id"] as? String ?? "", ($0["amendments"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String })
            })
            #expect(byID[ids[0]]?.sorted() == ["One", "Two"])
            #expect(byID[ids[1]] == [])
        }
    }

    @Test("only the author changes or signs a draft", arguments: TestDatabase.allCases)
    func authorOnly(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let colleague = try await app.addMember(to: team.owner, roles: ["practitioner"])
            // On the patient's care team, so the colleague reads the note (case-based access).
            try await app.joinCareTeam(team.owner, patient: team.patientID, practitioners: [team.practitioner.userID, colleague.userID])
            let id = try await app.startConsultation(team, note: ["subjective": "Cough"])
            let path = team.path("consultations/\(id)")
            #expect(try await app.send(.PATCH, path, json: ["plan": "x"], as: colleague).status == .forbidden)
            #expect(try await app.send(.POST, path + "/sign", as: colleague).status == .forbidden)
            #expect(try await app.send(.GET, path, as: colleague).status == .ok)
        }
    }

    // DAO-15, DC-11: receptionists and bookkeepers never read clinical notes
    @Test("receptionists and bookkeepers are refused every consultation route", arguments: TestDatabase.allCases)
    func clinicalRolesOnly(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await app.startConsultation(team, note: ["subjective": "Private"])
            for session in [team.receptionist, team.bookkeeper] {
                #expect(try await app.send(.GET, team.path("consultations"), as: session).status == .forbidden)
                #expect(try await app.send(.GET, team.path("consultations/\(id)"), as: session).status == .forbidden)
                #expect(try await app.send(.GET, team.path("prescriptions"), as: session).status == .forbidden)
                let create = try await app.send(.POST, team.path("consultations"), json: ["patientId": team.patientID, "plan": "x"], as: session)
                #expect(create.status == .forbidden)
            }
            let outsider = try await app.signUpClinic()
            #expect(try await app.send(.GET, "/api/v1/clinics/\(outsider.clinicID)/consultations/\(id)", as: outsider).status == .notFound)
        }
    }

    @Test("every part of a note is sealed in the database", arguments: TestDatabase.allCases)
    func sealedAtRest(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let canaries = ["subjective", "objective", "assessment", "plan"].map { ($0, Canary.word("Soap")) }
            let id = try await app.startConsultation(team, note: Dictionary(uniqueKeysWithValues: canaries))
            let path = team.path("consultations/\(id)")
            #expect(try await app.send(.POST, path + "/sign", as: team.practitioner).status == .ok)
            let reason = Canary.word("Why")
            #expect(try await app.send(.POST, path + "/amendments", json: ["reason": reason, "plan": Canary.word("Soap")], as: team.practitioner).status == .created)
            let stored = try await app.asOwner(realm: team.clinic) { sql in
                var bytes = Data()
                for table in ["consultations", "consultation_amendments"] {
                    for row in try await sql.raw("SELECT subjective, objective, assessment, plan FROM \(unsafeRaw: table)").all() {
                        for column in ["subjective", "objective", "assessment", "plan"] {
                            bytes.append(try row.decode(column: column, as: Data?.self) ?? Data())
                        }
                    }
                }
                return bytes
            }
            #expect(stored.count > 100)
            for (_, canary) in canaries { #expect(!stored.contains(Data(canary.utf8))) }
            #expect(!stored.contains(Data(reason.utf8)))
        }
    }

    @Test("reading a consultation is in the ledger under its patient", arguments: TestDatabase.allCases)
    func audited(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await app.startConsultation(team, note: ["subjective": "Audited"])
            #expect(try await app.send(.GET, team.path("consultations/\(id)"), as: team.practitioner).status == .ok)
            let trail = try await app.send(.GET, team.path("audit?patientId=\(team.patientID)"), as: team.owner)
            let reads = (trail.json["events"] as? [[String: Any]] ?? []).filter { $0["action"] as? String == "consultation.read" }
            #expect(reads.count == 1)
            #expect(reads.first?["actorId"] as? String == team.practitioner.userID)
            #expect(reads.first?["resourceId"] as? String == id)
            #expect(try await app.verifyLedger(clinic: team.clinic).fault == nil)
        }
    }

    @Test("a patient with clinical records is kept", arguments: TestDatabase.allCases)
    func patientKept(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            _ = try await app.startConsultation(team, note: ["subjective": "Kept"])
            let delete = try await app.send(.DELETE, team.path("patients/\(team.patientID)"), as: team.owner)
            #expect(delete.status == .conflict)
            #expect(delete.errorCode == "patient_has_records")
        }
    }
}
