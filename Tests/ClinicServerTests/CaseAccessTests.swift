import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor
@testable import ClinicServer

/// Case-based clinical access (security review round 2, B1): a practitioner reads the clinical
/// record only of patients they are involved with, or after breaking the glass.
@Suite("Case-based clinical access")
struct CaseAccessTests {
    /// The clinic team, a second practitioner who is involved with nobody, and one of each
    /// clinical record for the team's patient.
    struct Records {
        let team: ClinicTeam
        let stranger: TestSession
        let consultation: String
        let prescription: String
        let file: String
    }

    static func records(_ app: ClinicTestApp) async throws -> Records {
        let team = try await app.clinicTeam()
        let stranger = try await app.addMember(to: team.owner, roles: ["practitioner"])
        let consultation = try await app.startConsultation(team, note: ["subjective": "Knee pain"])
        let prescribed = try await app.send(.POST, team.path("prescriptions"), json: [
            "patientId": team.patientID,
            "medications": [["name": "Ibuprofen", "dose": "400 mg", "route": "oral", "frequency": "as needed", "quantity": 20, "repeats": 0]
                            as [String: any Sendable]],
        ], as: team.practitioner)
        try #require(prescribed.status == .created, "\(prescribed.text)")
        let uploaded = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=referral.txt"), as: team.receptionist,
                                          bytes: Data("Referral: knee pain".utf8))
        try #require(uploaded.status == .created, "\(uploaded.text)")
        return Records(team: team, stranger: stranger, consultation: consultation,
                       prescription: try #require(prescribed.json["id"] as? String), file: try #require(uploaded.json["id"] as? String))
    }

    /// Every clinical read of the patient's record, by path.
    static func reads(_ records: Records) -> [String] {
        let team = records.team
        return [
            team.path("consultations/\(records.consultation)"),
            team.path("consultations?patientId=\(team.patientID)"),
            team.path("prescriptions/\(records.prescription)"),
            team.path("prescriptions?patientId=\(team.patientID)"),
            team.path("files/\(records.file)"),
            team.path("files/\(records.file)/content"),
            team.path("patients/\(team.patientID)/files"),
        ]
    }

    static func events(_ app: ClinicTestApp, _ owner: TestSession) async throws -> [[String: Any]] {
        let response = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/audit", as: owner)
        try #require(response.status == .ok, "\(response.text)")
        return response.json["events"] as? [[String: Any]] ?? []
    }

    @Test("a practitioner not involved with a patient is refused every part of their record, and each refusal is recorded",
          arguments: TestDatabase.allCases)
    func strangerRefused(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            for path in Self.reads(records) {
                let read = try await app.send(.GET, path, as: records.stranger)
                #expect(read.status == .forbidden && read.errorCode == "break_glass_required", "\(path): \(read.status) \(read.text)")
            }
            let denied = try await Self.events(app, records.team.owner).filter {
                $0["action"] as? String == "access.denied" && ($0["detail"] as? String)?.hasPrefix("needs=involvement") == true
            }
            #expect(denied.count == Self.reads(records).count)
            #expect(denied.allSatisfy { $0["actorId"] as? String == records.stranger.userID && $0["resourceId"] as? String == records.team.patientID })
        }
    }

    @Test("a practitioner's unfiltered lists leave out patients they are not involved with", arguments: TestDatabase.allCases)
    func listsNarrowed(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            for (path, key) in [("consultations", "consultations"), ("prescriptions", "prescriptions")] {
                let theirs = try await app.send(.GET, records.team.path(path), as: records.team.practitioner)
                #expect((theirs.json[key] as? [Any])?.count == 1, "\(path): \(theirs.text)")
                let stranger = try await app.send(.GET, records.team.path(path), as: records.stranger)
                #expect(stranger.status == .ok && (stranger.json[key] as? [Any])?.count == 0, "\(path): \(stranger.text)")
            }
        }
    }

    @Test("a patient booked with the practitioner by the front desk opens their record", arguments: TestDatabase.allCases)
    func bookedOpens(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let booked = try await app.book(team, as: team.receptionist, practitioner: records.stranger.userID, at: "2031-03-04T09:00:00+11:00")
            #expect(booked.status == .created, "\(booked.text)")
            for path in Self.reads(records) {
                #expect(try await app.send(.GET, path, as: records.stranger).status == .ok, "\(path)")
            }
            // A cancelled booking no longer does.
            let id = try #require(booked.json["id"] as? String)
            let cancelled = try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "cancelled"], as: team.receptionist)
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            #expect(try await app.send(.GET, Self.reads(records)[0], as: records.stranger).errorCode == "break_glass_required")
        }
    }

    @Test("a practitioner cannot make themselves involved by booking the patient with themselves", arguments: TestDatabase.allCases)
    func selfBookingDoesNotOpen(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let booked = try await app.book(records.team, as: records.stranger, practitioner: records.stranger.userID, at: "2031-03-04T09:00:00+11:00")
            try #require(booked.status == .created, "\(booked.text)")
            #expect(try await app.send(.GET, Self.reads(records)[0], as: records.stranger).errorCode == "break_glass_required")
            // Nor by moving the desk's booking with a colleague to themselves.
            let desk = try await app.book(records.team, as: records.team.receptionist, at: "2031-03-05T09:00:00+11:00")
            let moved = try await app.send(.PATCH, records.team.path("appointments/\(try #require(desk.json["id"] as? String))"),
                                           json: ["practitionerId": records.stranger.userID], as: records.stranger)
            #expect(moved.status == .ok, "\(moved.text)")
            #expect(try await app.send(.GET, Self.reads(records)[0], as: records.stranger).errorCode == "break_glass_required")
        }
    }

    @Test("a practitioner not involved cannot write a note, a prescription or a file for the patient", arguments: TestDatabase.allCases)
    func strangerCannotWrite(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let note = try await app.send(.POST, team.path("consultations"), json: ["patientId": team.patientID, "subjective": "Seen"],
                                          as: records.stranger)
            #expect(note.status == .forbidden && note.errorCode == "break_glass_required")
            let prescription = try await app.send(.POST, team.path("prescriptions"), json: [
                "patientId": team.patientID,
                "medications": [["name": "Ibuprofen", "dose": "400 mg", "route": "oral", "frequency": "as needed", "quantity": 20, "repeats": 0]
                                as [String: any Sendable]],
            ], as: records.stranger)
            #expect(prescription.status == .forbidden && prescription.errorCode == "break_glass_required")
            let file = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=note.txt"), as: records.stranger,
                                          bytes: Data("Seen".utf8))
            #expect(file.status == .forbidden && file.errorCode == "break_glass_required")
        }
    }

    @Test("the care team is kept by owners and admins, and opens the record to its members", arguments: TestDatabase.allCases)
    func careTeam(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let path = team.path("patients/\(team.patientID)/care-team")
            let byPractitioner = try await app.send(.PUT, path, json: ["practitionerIds": [records.stranger.userID]], as: records.stranger)
            #expect(byPractitioner.status == .forbidden)
            let admin = try await app.addMember(to: team.owner, roles: ["admin"])
            let set = try await app.send(.PUT, path, json: ["practitionerIds": [team.practitioner.userID, records.stranger.userID]], as: admin)
            #expect(set.status == .ok, "\(set.text)")
            #expect(Set(set.json["practitionerIds"] as? [String] ?? []) == [team.practitioner.userID, records.stranger.userID])
            for read in Self.reads(records) {
                #expect(try await app.send(.GET, read, as: records.stranger).status == .ok, "\(read)")
            }
            // An admin who also practises may not put themselves on the team; an owner may.
            let practisingAdmin = try await app.addMember(to: team.owner, roles: ["admin", "practitioner"])
            let selfAdded = try await app.send(.PUT, path, json: ["practitionerIds": [practisingAdmin.userID]], as: practisingAdmin)
            #expect(selfAdded.status == .forbidden, "\(selfAdded.text)")
            #expect(try await app.send(.PUT, path, json: ["practitionerIds": [practisingAdmin.userID]], as: team.owner).status == .ok)
            // Not a practitioner: refused by field.
            let receptionist = try await app.send(.PUT, path, json: ["practitionerIds": [team.receptionist.userID]], as: admin)
            #expect(receptionist.status == .badRequest && receptionist.errorField == "practitionerIds")
            // Taken off the team, the stranger is a stranger again; the practitioner who wrote the records is not.
            #expect(try await app.send(.PUT, path, json: ["practitionerIds": [] as [String]], as: admin).status == .ok)
            #expect(try await app.send(.GET, Self.reads(records)[0], as: records.stranger).errorCode == "break_glass_required")
            #expect(try await app.send(.GET, Self.reads(records)[0], as: team.practitioner).status == .ok)
        }
    }

    @Test("breaking the glass opens the record for an hour, is recorded, and the owners see it with its reason",
          arguments: TestDatabase.allCases)
    func breakGlass(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let path = team.path("patients/\(team.patientID)/break-glass")
            let empty = try await app.send(.POST, path, json: ["reason": "  "], as: records.stranger)
            #expect(empty.status == .badRequest && empty.errorField == "reason")
            let reason = "Covering for a colleague: \(Canary.word("Why"))"
            let opened = try await app.send(.POST, path, json: ["reason": reason], as: records.stranger)
            #expect(opened.status == .created, "\(opened.text)")
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let expires = try #require(format.date(from: opened.json["expiresAt"] as? String ?? ""))
            #expect(abs(expires.timeIntervalSinceNow - 3600) < 120)
            for read in Self.reads(records) {
                #expect(try await app.send(.GET, read, as: records.stranger).status == .ok, "\(read)")
            }
            let event = try await Self.events(app, team.owner).first { $0["action"] as? String == "patient.break-glass" }
            #expect(event?["actorId"] as? String == records.stranger.userID && event?["resourceId"] as? String == team.patientID)

            let listed = try await app.send(.GET, team.path("break-glass"), as: team.owner)
            let grants = try #require(listed.json["grants"] as? [[String: Any]])
            #expect(grants.count == 1 && grants[0]["userId"] as? String == records.stranger.userID && grants[0]["reason"] as? String == reason)
            let admin = try await app.addMember(to: team.owner, roles: ["admin"])
            let asAdmin = try await app.send(.GET, team.path("break-glass"), as: admin)
            #expect((asAdmin.json["grants"] as? [[String: Any]])?.first?["reason"] == nil)
            #expect(try await app.send(.GET, team.path("break-glass"), as: records.stranger).status == .forbidden)
            // The reason is sealed like the record it opens.
            let stored = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("SELECT reason FROM break_glass_grants").all().map { try $0.decode(column: "reason", as: Data.self) }
            }
            #expect(stored.count == 1 && stored.allSatisfy { !String(decoding: $0, as: UTF8.self).contains(reason) })
        }
    }

    @Test("the owners get a daily summary of break-glass, naming staff and counts but no patient or reason",
          arguments: TestDatabase.allCases)
    func dailySummary(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let reason = "Checking \(Canary.word("Why"))"
            for _ in 0..<2 {
                let opened = try await app.send(.POST, team.path("patients/\(team.patientID)/break-glass"), json: ["reason": reason], as: records.stranger)
                try #require(opened.status == .created)
            }
            // Only this test's clinic: the PostgreSQL suites share one database.
            let summary = BreakGlassSummary(services: app.services), clinic = UUID(uuidString: team.clinic)!
            func mails() async throws -> [String] {
                try await app.outbox().filter { $0.recipient == team.owner.email && $0.subject.contains("break-glass") }.map(\.body)
            }
            // A summary covers up to a minute before it runs (`settle`): run as if a minute on.
            _ = try await summary.run(now: Date().addingTimeInterval(BreakGlassSummary.settle), only: clinic)
            let first = try await mails()
            #expect(first.count == 1)
            let body = try #require(first.first)
            #expect(body.contains("\(records.stranger.userID): 2 times") && body.contains("/clinics/\(team.clinic)/break-glass"))
            #expect(!body.contains(team.patientID) && !body.contains(reason))
            // Not again within the day, even with more to tell; the next day tells only what is new.
            #expect(try await app.send(.POST, team.path("patients/\(team.patientID)/break-glass"), json: ["reason": reason],
                                       as: records.stranger).status == .created)
            _ = try await summary.run(only: clinic)
            #expect(try await mails().count == 1)
            _ = try await summary.run(now: Date().addingTimeInterval(BreakGlassSummary.period + BreakGlassSummary.settle + 60), only: clinic)
            let next = try await mails()
            #expect(next.count == 2 && next.contains { $0.contains("\(records.stranger.userID): 1 time\n") })
            // Recorded in the clinic's chain.
            #expect(try await Self.events(app, team.owner).contains { $0["action"] as? String == "break-glass.summary" })
        }
    }

    @Test("the chart shows a practitioner not involved the patient's details and a reason form, and the record once they give one",
          arguments: [TestDatabase.sqlite])
    func chartPage(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let chart = "/clinics/\(team.clinic)/patients/\(team.patientID)/chart"
            let before = try await app.send(.GET, chart, as: records.stranger)
            #expect(before.status == .ok && before.text.contains("/patients/\(team.patientID)/break-glass") && !before.text.contains("Knee pain"))
            let empty = try await app.postForm("/clinics/\(team.clinic)/patients/\(team.patientID)/break-glass", as: records.stranger, [("reason", "")])
            #expect(empty.status == .badRequest && empty.text.contains("Say why"))
            let opened = try await app.postForm("/clinics/\(team.clinic)/patients/\(team.patientID)/break-glass", as: records.stranger,
                                                [("reason", "Patient rang with a question")])
            #expect(opened.status == .seeOther && opened.headers.first(name: .location) == chart)
            let after = try await app.send(.GET, chart, as: records.stranger)
            #expect(after.text.contains("Knee pain") && !after.text.contains("/patients/\(team.patientID)/break-glass\""))
            let page = try await app.send(.GET, "/clinics/\(team.clinic)/break-glass", as: team.owner)
            #expect(page.status == .ok && page.text.contains("Patient rang with a question") && page.text.contains(records.stranger.userID))
        }
    }

    @Test("a break-glass grant ends by itself", arguments: TestDatabase.allCases)
    func breakGlassExpires(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let opened = try await app.send(.POST, team.path("patients/\(team.patientID)/break-glass"), json: ["reason": "Night cover"],
                                            as: records.stranger)
            try #require(opened.status == .created)
            #expect(try await app.send(.GET, Self.reads(records)[0], as: records.stranger).status == .ok)
            // An hour and a second later.
            try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("""
                    UPDATE break_glass_grants SET expires_at_ms = created_at_ms + 1 WHERE clinic_id = \(bind: UUID(uuidString: team.clinic)!)
                    """).run()
            }
            #expect(try await app.send(.GET, Self.reads(records)[0], as: records.stranger).errorCode == "break_glass_required")
        }
    }

    @Test("owners read every patient's record without breaking the glass", arguments: TestDatabase.allCases)
    func ownersUnrestricted(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            #expect(try await app.send(.PUT, team.path("patients/\(team.patientID)/care-team"),
                                       json: ["practitionerIds": [] as [String]], as: team.owner).status == .ok)
            for read in Self.reads(records) {
                #expect(try await app.send(.GET, read, as: team.owner).status == .ok, "\(read)")
            }
        }
    }

    @Test("a clinic that turns case-based access off lets every practitioner read, as before", arguments: TestDatabase.allCases)
    func switchedOff(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            let security = try await app.send(.GET, team.path("security"), as: team.owner)
            #expect(security.json["caseBasedAccess"] as? Bool == true)
            let off = try await app.send(.PUT, team.path("security"), json: ["caseBasedAccess": false], as: team.owner)
            #expect(off.status == .ok && off.json["caseBasedAccess"] as? Bool == false, "\(off.text)")
            // A session signed in before the change sees it at once.
            for read in Self.reads(records) {
                #expect(try await app.send(.GET, read, as: records.stranger).status == .ok, "\(read)")
            }
        }
    }

    @Test("a clinic that existed before case-based access keeps it off until its owner turns it on", arguments: TestDatabase.allCases)
    func existingClinicsOff(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let team = records.team
            // As the migration leaves a clinic that was there before it.
            try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("UPDATE clinics SET case_based_access = 0 WHERE id = \(bind: UUID(uuidString: team.clinic)!)").run()
            }
            #expect(try await app.send(.GET, team.path("security"), as: team.owner).json["caseBasedAccess"] as? Bool == false)
            #expect(try await app.send(.GET, Self.reads(records)[0], as: records.stranger).status == .ok)
        }
    }

    @Test("another clinic's patient answers 404 to its care team and to breaking the glass", arguments: TestDatabase.allCases)
    func anotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let records = try await Self.records(app)
            let other = try await app.clinicTeam()
            let foreign = records.team.path("patients/\(other.patientID)")
            #expect(try await app.send(.GET, foreign + "/care-team", as: records.team.owner).status == .notFound)
            #expect(try await app.send(.PUT, foreign + "/care-team", json: ["practitionerIds": [records.stranger.userID]],
                                       as: records.team.owner).status == .notFound)
            #expect(try await app.send(.POST, foreign + "/break-glass", json: ["reason": "Curious"], as: records.stranger).status == .notFound)
            // Nor may a clinic put another clinic's practitioner on its own patient's team.
            let borrowed = try await app.send(.PUT, records.team.path("patients/\(records.team.patientID)/care-team"),
                                              json: ["practitionerIds": [other.practitioner.userID]], as: records.team.owner)
            #expect(borrowed.status == .badRequest && borrowed.errorField == "practitionerIds")
        }
    }
}
