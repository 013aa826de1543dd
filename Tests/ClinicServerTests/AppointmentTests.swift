import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Appointments")
struct AppointmentTests {
    @Test("a booking takes the type's length and reads back", arguments: TestDatabase.allCases)
    func bookAndRead(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let booked = try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z")
            #expect(booked.status == .created, "\(booked.text)")
            #expect(booked.json["status"] as? String == "booked")
            #expect(booked.json["endsAt"] as? String == "2030-03-04T09:30:00.000Z")
            let id = try #require(booked.json["id"] as? String)
            let read = try await app.send(.GET, team.path("appointments/\(id)"), as: team.practitioner)
            #expect(read.status == .ok)
            #expect(read.json["patientId"] as? String == team.patientID)
        }
    }

    @Test("an overlapping booking of the same practitioner is refused; back to back and other practitioners are not",
          arguments: TestDatabase.allCases)
    func noDoubleBooking(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let colleague = try await app.addMember(to: team.owner, roles: ["practitioner"])
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").status == .created)
            let overlapping = try await app.book(team, as: team.receptionist, at: "2030-03-04T09:15:00Z")
            #expect(overlapping.status == .conflict)
            #expect(overlapping.errorCode == "slot_taken")
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:30:00Z").status == .created)
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T08:30:00Z").status == .created)
            #expect(try await app.book(team, as: team.receptionist, practitioner: colleague.userID, at: "2030-03-04T09:15:00Z").status == .created)
        }
    }

    @Test("concurrent bookings of one slot: exactly one succeeds", arguments: TestDatabase.allCases)
    func concurrentBookings(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            // A diary with a booking already in it: the race is over a practitioner the clinic has booked before.
            #expect(try await app.book(team, as: team.receptionist, at: "2030-05-06T08:00:00Z").status == .created)
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await app.book(team, as: team.receptionist, at: "2030-05-06T10:00:00Z").status }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 11)
            let listed = try await app.send(.GET, team.path("appointments?practitionerId=\(team.practitioner.userID)"), as: team.owner)
            #expect((listed.json["appointments"] as? [Any])?.count == 2)
        }
    }

    @Test("a cancellation frees the time; a move into taken time is refused", arguments: TestDatabase.allCases)
    func cancelAndMove(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let first = try #require(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").json["id"] as? String)
            let second = try #require(try await app.book(team, as: team.receptionist, at: "2030-03-04T10:00:00Z").json["id"] as? String)
            let move = try await app.send(.PATCH, team.path("appointments/\(second)"), json: ["startsAt": "2030-03-04T09:10:00Z"], as: team.receptionist)
            #expect(move.status == .conflict)
            #expect(move.errorCode == "slot_taken")
            let cancel = try await app.send(.POST, team.path("appointments/\(first)/status"), json: ["status": "cancelled"], as: team.receptionist)
            #expect(cancel.json["status"] as? String == "cancelled")
            let moved = try await app.send(.PATCH, team.path("appointments/\(second)"), json: ["startsAt": "2030-03-04T09:10:00Z"], as: team.receptionist)
            #expect(moved.status == .ok)
            #expect(moved.json["endsAt"] as? String == "2030-03-04T09:40:00.000Z")
        }
    }

    @Test("statuses move only forward: booked, arrived, completed", arguments: TestDatabase.allCases)
    func statusMachine(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try #require(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").json["id"] as? String)
            let path = team.path("appointments/\(id)/status")
            #expect(try await app.send(.POST, path, json: ["status": "arrived"], as: team.receptionist).status == .ok)
            #expect(try await app.send(.POST, path, json: ["status": "completed"], as: team.practitioner).status == .ok)
            let backwards = try await app.send(.POST, path, json: ["status": "cancelled"], as: team.receptionist)
            #expect(backwards.status == .conflict)
            #expect(backwards.errorCode == "invalid_transition")
            let unknown = try await app.send(.POST, path, json: ["status": "teleported"], as: team.receptionist)
            #expect(unknown.status == .badRequest)
            let moveDone = try await app.send(.PATCH, team.path("appointments/\(id)"), json: ["startsAt": "2030-03-05T09:00:00Z"], as: team.receptionist)
            #expect(moveDone.errorCode == "invalid_transition")
        }
    }

    @Test("a booking names a practitioner, patient and type of this clinic", arguments: TestDatabase.allCases)
    func referencesChecked(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let notPractitioner = try await app.book(team, as: team.receptionist, practitioner: team.receptionist.userID, at: "2030-03-04T09:00:00Z")
            #expect(notPractitioner.status == .badRequest)
            #expect(notPractitioner.errorField == "practitionerId")
            let other = try await app.signUpClinic()
            let (foreignPatient, _) = try await app.createPatient(other)
            let foreign = try await app.send(.POST, team.path("appointments"), json: [
                "patientId": foreignPatient, "practitionerId": team.practitioner.userID, "appointmentTypeId": team.typeID,
                "startsAt": "2030-03-04T09:00:00Z"], as: team.receptionist)
            #expect(foreign.status == .badRequest)
            #expect(foreign.errorField == "patientId")
            let badTime = try await app.send(.POST, team.path("appointments"), json: [
                "patientId": team.patientID, "practitionerId": team.practitioner.userID, "appointmentTypeId": team.typeID,
                "startsAt": "next tuesday"], as: team.receptionist)
            #expect(badTime.status == .badRequest)
            #expect(badTime.errorField == "startsAt")
        }
    }

    @Test("the list filters by time range and practitioner", arguments: TestDatabase.allCases)
    func listByRange(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            for hour in [9, 11, 14] {
                #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T\(hour):00:00Z").status == .created)
            }
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-05T09:00:00Z").status == .created)
            let day = try await app.send(.GET, team.path("appointments?from=2030-03-04T00:00:00Z&to=2030-03-05T00:00:00Z"), as: team.bookkeeper)
            let starts = (day.json["appointments"] as? [[String: Any]] ?? []).compactMap { $0["startsAt"] as? String }
            #expect(starts == ["2030-03-04T09:00:00.000Z", "2030-03-04T11:00:00.000Z", "2030-03-04T14:00:00.000Z"])
        }
    }

    @Test("bookkeepers see the diary but do not book; only owners and admins define types", arguments: TestDatabase.allCases)
    func permissions(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            #expect(try await app.book(team, as: team.bookkeeper, at: "2030-03-04T09:00:00Z").status == .forbidden)
            #expect(try await app.send(.GET, team.path("appointments"), as: team.bookkeeper).status == .ok)
            let type = try await app.send(.POST, team.path("appointment-types"), json: ["name": "Long", "durationMinutes": 60], as: team.receptionist)
            #expect(type.status == .forbidden)
            let outsider = try await app.signUpClinic()
            #expect(try await app.send(.GET, team.path("appointments"), as: outsider).status == .notFound)
        }
    }
}
