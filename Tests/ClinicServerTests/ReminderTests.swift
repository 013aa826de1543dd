import ClinicTestSupport
import Foundation
import Testing
import Vapor
@testable import ClinicServer

/// Reminders, communication settings and contact preferences.
@Suite("Reminders and contact preferences")
struct ReminderTests {
    /// A start three days from now, on the minute, as the API takes it.
    private static func start(daysAhead: Double = 3, hoursAhead: Double = 0) -> Date {
        let raw = Date().addingTimeInterval(daysAhead * 86_400 + hoursAhead * 3600)
        return Date(timeIntervalSince1970: (raw.timeIntervalSince1970 / 300).rounded(.down) * 300)
    }

    private static func iso(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// Quiet hours that never apply, so a run's outcome does not depend on the time of day.
    private func neverQuiet(_ app: ClinicTestApp, _ team: ClinicTeam) async throws {
        let set = try await app.send(.PUT, team.path("settings/communications"), json: ["quietHours": ["start": "00:00", "end": "00:00"]],
                                     as: team.owner)
        try #require(set.status == .ok, "\(set.text)")
    }

    private func book(_ app: ClinicTestApp, _ team: ClinicTeam, at start: Date) async throws -> String {
        let booked = try await app.book(team, as: team.receptionist, at: Self.iso(start))
        try #require(booked.status == .created, "\(booked.text)")
        return try #require(booked.json["id"] as? String)
    }

    private func kinds(_ app: ClinicTestApp, _ team: ClinicTeam) async throws -> [String] {
        let listed = try await app.send(.GET, team.path("patients/\(team.patientID)/messages"), as: team.owner)
        return (listed.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    }

    @Test("a reminder is queued once its lead time is reached, and only once", arguments: TestDatabase.allCases)
    func reminderOnce(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            try await neverQuiet(app, team)
            let start = Self.start()
            _ = try await book(app, team, at: start)
            #expect(try await app.queueReminders(clinic: team.clinic, now: start.addingTimeInterval(-25 * 3600)) == 0)
            #expect(try await app.queueReminders(clinic: team.clinic, now: start.addingTimeInterval(-23 * 3600)) == 1)
            #expect(try await app.queueReminders(clinic: team.clinic, now: start.addingTimeInterval(-22 * 3600)) == 0)
            #expect(try await kinds(app, team) == ["reminder", "confirmation"])
        }
    }

    @Test("a cancelled appointment gets no reminder, and a waiting one is withdrawn", arguments: TestDatabase.allCases)
    func cancelledNoReminder(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            try await neverQuiet(app, team)
            let first = Self.start(), second = Self.start(daysAhead: 3, hoursAhead: 2)
            let kept = try await book(app, team, at: first)
            let cancelled = try await book(app, team, at: second)
            #expect(try await app.queueReminders(clinic: team.clinic, now: first.addingTimeInterval(-23 * 3600)) == 1)
            // The first's reminder waits in the queue; cancelling it withdraws it.
            #expect(try await app.send(.POST, team.path("appointments/\(cancelled)/status"), json: ["status": "cancelled"], as: team.receptionist).status == .ok)
            #expect(try await app.send(.POST, team.path("appointments/\(kept)/status"), json: ["status": "cancelled"], as: team.receptionist).status == .ok)
            #expect(try await app.queueReminders(clinic: team.clinic, now: second.addingTimeInterval(-23 * 3600)) == 0)
            let listed = try await app.send(.GET, team.path("patients/\(team.patientID)/messages"), as: team.owner)
            let reminders = (listed.json["messages"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "reminder" }
            #expect(reminders.count == 1)
            #expect(reminders.first?["status"] as? String == "failed")
            #expect(try await app.takePatientMessages(clinic: team.clinic).allSatisfy { !$0.subject.hasPrefix("Reminder") })
        }
    }

    @Test("no reminder goes in quiet hours", arguments: [TestDatabase.sqlite])
    func quietHours(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let start = Self.start()
            let now = start.addingTimeInterval(-23 * 3600)
            // Quiet from an hour before `now` to an hour after, on the clinic's (UTC) clock.
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let minute = calendar.component(.hour, from: now) * 60 + calendar.component(.minute, from: now)
            func clock(_ m: Int) -> String { String(format: "%02d:%02d", ((m + 1440) % 1440) / 60, ((m + 1440) % 1440) % 60) }
            let set = try await app.send(.PUT, team.path("settings/communications"),
                                         json: ["quietHours": ["start": clock(minute - 60), "end": clock(minute + 60)]], as: team.owner)
            #expect(set.status == .ok, "\(set.text)")
            _ = try await book(app, team, at: start)
            #expect(try await app.queueReminders(clinic: team.clinic, now: now) == 0)
            #expect(try await app.queueReminders(clinic: team.clinic, now: now.addingTimeInterval(2 * 3600)) == 1)
        }
    }

    @Test("a booking inside the lead time is not reminded on the heels of its confirmation", arguments: [TestDatabase.sqlite])
    func lateBooking(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            try await neverQuiet(app, team)
            let set = try await app.send(.PUT, team.path("settings/communications"), json: ["reminderLeadHours": [24, 2]], as: team.owner)
            #expect(set.json["reminderLeadHours"] as? [Int] == [24, 2])
            let start = Self.start(daysAhead: 0, hoursAhead: 6)
            _ = try await book(app, team, at: start)
            #expect(try await app.queueReminders(clinic: team.clinic, now: Date()) == 0, "the confirmation just went")
            #expect(try await app.queueReminders(clinic: team.clinic, now: start.addingTimeInterval(-90 * 60)) == 1, "the 2-hour one still goes")
        }
    }

    @Test("a patient who declined every channel gets nothing; the change is recorded with who made it", arguments: TestDatabase.allCases)
    func optOut(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            try await neverQuiet(app, team)
            let declined = try await app.send(.PUT, team.path("patients/\(team.patientID)/contact-preferences"), json: ["channels": [String]()],
                                              as: team.receptionist)
            #expect(declined.status == .ok, "\(declined.text)")
            #expect(declined.json["changedBy"] as? String == team.receptionist.userID)
            let start = Self.start()
            _ = try await book(app, team, at: start)
            #expect(try await app.queueReminders(clinic: team.clinic, now: start.addingTimeInterval(-23 * 3600)) == 0)
            #expect(try await kinds(app, team).isEmpty)
            let audit = try await app.send(.GET, team.path("audit?patientId=\(team.patientID)"), as: team.owner)
            let events = audit.json["events"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "patient.contact-preferences" && $0["detail"] as? String == "channels=none" },
                    "\(audit.text)")
            let accepted = try await app.send(.PUT, team.path("patients/\(team.patientID)/contact-preferences"), json: ["channels": ["email"]],
                                              as: team.receptionist)
            #expect(accepted.json["channels"] as? [String] == ["email"])
            _ = try await book(app, team, at: start.addingTimeInterval(3600))
            #expect(try await kinds(app, team) == ["confirmation"])
        }
    }

    @Test("an upgrade leaves clinics that already existed silent until an owner turns a channel on", arguments: [TestDatabase.sqlite])
    func upgradeStartsSilent(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let existing = try await app.clinicTeam()
            // The version before communications: the clinic is there, its settings table is not.
            try await AddCommunicationSettings().revert(on: app.app.db)
            try await AddCommunicationSettings().prepare(on: app.app.db)
            let upgraded = try await app.send(.GET, existing.path("settings/communications"), as: existing.owner)
            #expect(upgraded.json["channels"] as? [String] == [], "\(upgraded.text)")
            try await neverQuiet(app, existing)
            _ = try await book(app, existing, at: Self.start())
            #expect(try await kinds(app, existing) == [], "no confirmation from an upgraded clinic")
            // A clinic made after the upgrade starts with e-mail, as the defaults say.
            let fresh = try await app.clinicTeam()
            let read = try await app.send(.GET, fresh.path("settings/communications"), as: fresh.owner)
            #expect(read.json["channels"] as? [String] == ["email"])
        }
    }

    @Test("settings: defaults, partial changes, bad input, and only owners and admins", arguments: [TestDatabase.sqlite])
    func settings(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let read = try await app.send(.GET, team.path("settings/communications"), as: team.owner)
            #expect(read.json["reminderLeadHours"] as? [Int] == [24])
            #expect((read.json["quietHours"] as? [String: Any])?["start"] as? String == "20:00")
            #expect(read.json["channels"] as? [String] == ["email"])
            let named = try await app.send(.PUT, team.path("settings/communications"), json: ["senderName": "Harbour Clinic"], as: team.owner)
            #expect(named.json["senderName"] as? String == "Harbour Clinic")
            #expect(named.json["reminderLeadHours"] as? [Int] == [24], "a field left out stays")
            let injected = try await app.send(.PUT, team.path("settings/communications"), json: ["senderName": "X\r\nBcc: a@b.example"], as: team.owner)
            #expect(injected.status == .badRequest)
            let badClock = try await app.send(.PUT, team.path("settings/communications"), json: ["quietHours": ["start": "25:00", "end": "08:00"]], as: team.owner)
            #expect(badClock.status == .badRequest)
            #expect(try await app.send(.GET, team.path("settings/communications"), as: team.receptionist).status == .forbidden)
        }
    }

    @Test("from another clinic: its patient's preferences answer 404 and its appointment type is not a reference", arguments: TestDatabase.allCases)
    func fromAnotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.clinicTeam()
            let probe = try await app.send(.PUT, "/api/v1/clinics/\(other.clinic)/patients/\(team.patientID)/contact-preferences",
                                           json: ["channels": [String]()], as: other.owner)
            #expect(probe.status == .notFound)
            let foreignType = try await app.send(.PUT, other.path("settings/communications"), json: ["sensitiveAppointmentTypeIds": [team.typeID]],
                                                 as: other.owner)
            #expect(foreignType.status == .badRequest)
            #expect(foreignType.errorCode == "unknown_reference")
        }
    }
}

/// What waits in the queue never says something no longer true.
@Suite("Withdrawn and expired messages")
struct WithdrawnMessageTests {
    private func statuses(_ app: ClinicTestApp, _ team: ClinicTeam) async throws -> [String: String] {
        let listed = try await app.send(.GET, team.path("patients/\(team.patientID)/messages"), as: team.owner)
        var byKind: [String: String] = [:]
        for message in listed.json["messages"] as? [[String: Any]] ?? [] {
            byKind[message["kind"] as? String ?? ""] = message["status"] as? String
        }
        return byKind
    }

    @Test("a move withdraws the confirmation still waiting; a cancellation the change", arguments: TestDatabase.allCases)
    func newerNewsWithdrawsOlder(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try #require(try await app.book(team, as: team.receptionist, at: "2031-03-04T09:00:00Z").json["id"] as? String)
            #expect(try await app.send(.PATCH, team.path("appointments/\(id)"), json: ["startsAt": "2031-03-04T10:00:00Z"], as: team.receptionist).status == .ok)
            #expect(try await statuses(app, team) == ["confirmation": "failed", "change": "queued"])
            #expect(try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "cancelled"], as: team.receptionist).status == .ok)
            #expect(try await statuses(app, team) == ["confirmation": "failed", "change": "failed", "cancellation": "queued"])
            let due = try await app.takePatientMessages(clinic: team.clinic)
            #expect(due.count == 1 && due[0].subject.contains("cancelled"))
        }
    }

    @Test("a message withdrawn while a sender holds it stays withdrawn when the send fails after", arguments: TestDatabase.allCases)
    func withdrawnStaysWithdrawn(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let silent = try await app.send(.PUT, team.path("settings/communications"), json: ["channels": [String]()], as: team.owner)
            #expect(silent.status == .ok)
            let id = try #require(try await app.book(team, as: team.receptionist, at: "2031-03-04T09:00:00Z").json["id"] as? String)
            #expect(try await app.send(.PUT, team.path("settings/communications"),
                                       json: ["channels": ["email"], "quietHours": ["start": "00:00", "end": "00:00"]], as: team.owner).status == .ok)
            let start = try #require(ISO8601DateFormatter().date(from: "2031-03-04T09:00:00Z"))
            #expect(try await app.queueReminders(clinic: team.clinic, now: start.addingTimeInterval(-3600)) == 1)
            let failLater = try await app.leasePatientMessages(clinic: team.clinic)
            #expect(try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "cancelled"], as: team.receptionist).status == .ok)
            try await failLater()
            #expect(try await statuses(app, team)["reminder"] == "failed", "the timed-out send put the withdrawn reminder back in the queue")
            #expect(try await app.takePatientMessages(clinic: team.clinic).allSatisfy { !$0.subject.hasPrefix("Reminder") })
        }
    }

    @Test("a message still waiting when its appointment begins is never sent", arguments: [TestDatabase.sqlite])
    func expiredNeverSent(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            #expect(try await app.book(team, as: team.receptionist, at: "2031-03-04T09:00:00Z").status == .created)
            let later = try #require(ISO8601DateFormatter().date(from: "2031-03-04T09:05:00Z"))
            #expect(try await app.takePatientMessages(clinic: team.clinic, now: later).isEmpty)
            #expect(try await statuses(app, team)["confirmation"] == "failed")
        }
    }

    @Test("a patient with recorded preferences and no records can still be deleted", arguments: TestDatabase.allCases)
    func deletePatientWithPreferences(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let (duplicate, _) = try await app.createPatient(team.owner)
            #expect(try await app.send(.PUT, team.path("patients/\(duplicate)/contact-preferences"), json: ["channels": ["sms"]],
                                       as: team.receptionist).status == .ok)
            let deleted = try await app.send(.DELETE, team.path("patients/\(duplicate)"), as: team.owner)
            #expect(deleted.status == .noContent, "\(deleted.text)")
        }
    }
}
