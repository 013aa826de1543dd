import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// Messages to patients: only about a booking, written with it, saying no more than when and
/// with whom.
@Suite("Patient messages")
struct PatientMessageTests {
    private func kinds(_ app: ClinicTestApp, _ team: ClinicTeam, as session: TestSession) async throws -> [String] {
        let listed = try await app.send(.GET, team.path("patients/\(team.patientID)/messages"), as: session)
        try #require(listed.status == .ok, "\(listed.text)")
        return (listed.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    }

    // DU-10: a booking, a move and a cancellation each queue one message about that booking.
    @Test("booking, moving and cancelling queue a confirmation, a change and a cancellation", arguments: TestDatabase.allCases)
    func bookingChangesQueueMessages(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let booked = try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z")
            let id = try #require(booked.json["id"] as? String)
            #expect(try await kinds(app, team, as: team.receptionist) == ["confirmation"])
            let moved = try await app.send(.PATCH, team.path("appointments/\(id)"), json: ["startsAt": "2030-03-04T11:00:00Z"], as: team.receptionist)
            #expect(moved.status == .ok)
            let cancelled = try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "cancelled"], as: team.receptionist)
            #expect(cancelled.status == .ok)
            #expect(try await kinds(app, team, as: team.receptionist) == ["cancellation", "change", "confirmation"])
        }
    }

    @Test("arrival and completion happen in front of the patient: no message", arguments: [TestDatabase.sqlite])
    func arrivalSendsNothing(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try #require(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").json["id"] as? String)
            #expect(try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "arrived"], as: team.receptionist).status == .ok)
            #expect(try await kinds(app, team, as: team.owner) == ["confirmation"])
        }
    }

    // DU-7: a patient the clinic only registered, who booked nothing, is never contacted.
    @Test("a patient with no booking gets no message", arguments: TestDatabase.allCases)
    func noBookingNoMessage(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let updated = try await app.send(.PATCH, team.path("patients/\(team.patientID)"), json: ["address": "12 Other Road"], as: team.receptionist)
            #expect(updated.status == .ok)
            #expect(try await kinds(app, team, as: team.owner).isEmpty)
            #expect(try await app.takePatientMessages(clinic: team.clinic).isEmpty)
        }
    }

    @Test("the words name the clinic, the practitioner and the time, never the booking's reason or type", arguments: [TestDatabase.sqlite])
    func minimalContent(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let reason = "Canary-reason-\(UUID().uuidString.prefix(8))"
            let booked = try await app.send(.POST, team.path("appointments"), json: [
                "patientId": team.patientID, "practitionerId": team.practitioner.userID, "appointmentTypeId": team.typeID,
                "startsAt": "2030-03-04T09:00:00Z", "reason": reason,
            ], as: team.receptionist)
            #expect(booked.status == .created)
            let patient = try await app.send(.GET, team.path("patients/\(team.patientID)"), as: team.owner)
            let messages = try await app.takePatientMessages(clinic: team.clinic)
            let message = try #require(messages.first)
            #expect(messages.count == 1)
            #expect(message.recipient == patient.json["email"] as? String)
            #expect(message.body.contains("Monday 4 March 2030 at 09:00"), "\(message.body)")
            #expect(!message.body.contains(reason) && !message.subject.contains(reason))
            #expect(!message.body.contains("Standard consultation"), "the appointment type's name is left out")
        }
    }

    @Test("a patient without an e-mail address gets nothing queued", arguments: [TestDatabase.sqlite])
    func noAddressNoMessage(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let cleared = try await app.send(.PATCH, team.path("patients/\(team.patientID)"), json: ["email": ""], as: team.receptionist)
            #expect(cleared.status == .ok, "\(cleared.text)")
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").status == .created)
            #expect(try await kinds(app, team, as: team.owner).isEmpty)
        }
    }

    @Test("another clinic's patient's messages answer 404, and their messages never leave their clinic", arguments: TestDatabase.allCases)
    func fromAnotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.clinicTeam()
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").status == .created)
            let probe = try await app.send(.GET, "/api/v1/clinics/\(other.clinic)/patients/\(team.patientID)/messages", as: other.owner)
            #expect(probe.status == .notFound)
            #expect(try await app.takePatientMessages(clinic: other.clinic).isEmpty)
            #expect(try await app.takePatientMessages(clinic: team.clinic).count == 1)
        }
    }

    @Test("reading a patient's messages is audited", arguments: [TestDatabase.sqlite])
    func listingIsAudited(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            _ = try await kinds(app, team, as: team.receptionist)
            let audit = try await app.send(.GET, team.path("audit?patientId=\(team.patientID)"), as: team.owner)
            #expect(audit.status == .ok, "\(audit.text)")
            let events = audit.json["events"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "message.list" && $0["actorId"] as? String == team.receptionist.userID },
                    "\(audit.text)")
        }
    }
}
