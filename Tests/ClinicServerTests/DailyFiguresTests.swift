import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
@testable import ClinicServer

/// The day-by-day sums the practice's figures read (`appointment_days`, `revenue_days`) are
/// changed with every booking, move, status, issue, payment and void; cut again from the rows
/// themselves, they come out the same.
@Suite("Daily figures")
struct DailyFiguresTests {
    /// A clinic's daily sums as text, one line a row, leaving out rows that sum to nothing (a
    /// status every appointment of a day has left keeps its row, at zero).
    func sums(_ app: ClinicTestApp, clinic: String) async throws -> [String] {
        let id = try #require(UUID(uuidString: clinic))
        return try await app.services.store.transaction(realm: id) { tx in
            let visits = try await tx.sql.raw("""
                SELECT day_ms, practitioner_id, status, appointments, late_cancelled, booked_ms FROM appointment_days
                WHERE clinic_id = \(bind: id) AND (appointments <> 0 OR late_cancelled <> 0 OR booked_ms <> 0)
                """).all().map { row in
                    "visits \(try row.decode(column: "day_ms", as: Int64.self)) \(try row.decode(column: "practitioner_id", as: UUID.self))"
                        + " \(try row.decode(column: "status", as: String.self)) \(try row.decode(column: "appointments", as: Int64.self))"
                        + " late \(try row.decode(column: "late_cancelled", as: Int64.self)) ms \(try row.decode(column: "booked_ms", as: Int64.self))"
                }
            let money = try await tx.sql.raw("""
                SELECT day_ms, practitioner_id, type_id, invoices, invoiced_cents, gst_cents, collected_cents FROM revenue_days
                WHERE clinic_id = \(bind: id) AND (invoices <> 0 OR invoiced_cents <> 0 OR gst_cents <> 0 OR collected_cents <> 0)
                """).all().map { row in
                    "money \(try row.decode(column: "day_ms", as: Int64.self)) \(try row.decode(column: "practitioner_id", as: UUID.self))"
                        + " \(try row.decode(column: "type_id", as: UUID.self)) invoices \(try row.decode(column: "invoices", as: Int64.self))"
                        + " invoiced \(try row.decode(column: "invoiced_cents", as: Int64.self))"
                        + " gst \(try row.decode(column: "gst_cents", as: Int64.self)) collected \(try row.decode(column: "collected_cents", as: Int64.self))"
                }
            let patients = try await tx.sql.raw("""
                SELECT patient_id, practitioner_id, first_ms, last_ms FROM patient_visits WHERE clinic_id = \(bind: id)
                """).all().map { row in
                    "patient \(try row.decode(column: "patient_id", as: UUID.self)) \(try row.decode(column: "practitioner_id", as: UUID.self))"
                        + " first \(try row.decode(column: "first_ms", as: Int64.self)) last \(try row.decode(column: "last_ms", as: Int64.self))"
                }
            return (visits + money + patients).sorted()
        }
    }

    func rebuild(_ app: ClinicTestApp, clinic: String) async throws {
        let id = try #require(UUID(uuidString: clinic))
        try await app.services.store.transaction(realm: id) { tx in try await DailyFigures.rebuild(clinic: id, in: tx.sql) }
    }

    @Test("what every change added up equals the sums cut again from the appointments, invoices and payments",
          arguments: TestDatabase.allCases)
    func keptEqualsRebuilt(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            // Bookings, arrivals, completions, a no-show, early and late cancellations, an
            // issued invoice part paid, a draft and a voided one.
            let fixture = try await PracticeReportTests.fixture(app)
            let team = fixture.team
            // Then the clinic moves to Auckland (its days now start 12 or 13 hours before UTC's),
            // a booking is moved to another day and a colleague, and another is cancelled.
            let zone = try await app.send(.PUT, team.path("settings"), json: ["timeZone": "Pacific/Auckland"], as: team.owner)
            try #require(zone.status == .ok, "\(zone.text)")
            let colleague = try await app.addMember(to: team.owner, roles: ["practitioner"])
            let booked = try await app.book(team, as: team.receptionist, at: PracticeReportTests.at(hours: 2 * 24))
            let id = try #require(booked.json["id"] as? String, "\(booked.text)")
            let moved = try await app.send(.PATCH, team.path("appointments/\(id)"),
                                           json: ["startsAt": PracticeReportTests.at(hours: 6 * 24), "practitionerId": colleague.userID], as: team.receptionist)
            try #require(moved.status == .ok, "\(moved.text)")
            let other = try await app.book(team, as: team.receptionist, at: PracticeReportTests.at(hours: 9 * 24))
            let otherID = try #require(other.json["id"] as? String, "\(other.text)")
            let cancelled = try await app.send(.POST, team.path("appointments/\(otherID)/status"), json: ["status": "cancelled"], as: team.receptionist)
            try #require(cancelled.status == .ok, "\(cancelled.text)")

            // The patient sees the colleague two days ago (a later last visit, and a first with
            // them); then one who arrived yesterday is marked a no-show after all (no longer a
            // visit: the last is back).
            for (hours, who, statuses) in [(-2.0 * 24, colleague.userID, ["completed"]), (-1.0 * 24, team.practitioner.userID, ["arrived", "no_show"])] {
                let visit = try await app.book(team, as: team.receptionist, practitioner: who, at: PracticeReportTests.at(hours: hours))
                let visitID = try #require(visit.json["id"] as? String, "\(visit.text)")
                for status in statuses {
                    let changed = try await app.send(.POST, team.path("appointments/\(visitID)/status"), json: ["status": status], as: team.receptionist)
                    try #require(changed.status == .ok, "\(changed.text)")
                }
            }

            let kept = try await sums(app, clinic: team.owner.clinicID)
            try await rebuild(app, clinic: team.owner.clinicID)
            let rebuilt = try await sums(app, clinic: team.owner.clinicID)

            #expect(kept == rebuilt)
            #expect(rebuilt.contains { $0.hasPrefix("visits") && $0.contains(" cancelled 1 late 1 ") })
            #expect(rebuilt.contains { $0.hasPrefix("money") && $0.contains("invoices 1 invoiced 11000 gst 1000") })
            #expect(rebuilt.contains { $0.hasPrefix("visits") && $0.contains(colleague.userID.uppercased()) && $0.contains(" booked 1 ") })
            #expect(rebuilt.contains { $0.hasPrefix("money") && $0.hasSuffix("collected 5000") })
            // Two patients came: each has a row overall and one with each practitioner they saw.
            #expect(rebuilt.filter { $0.hasPrefix("patient") }.count == 5)
            #expect(rebuilt.contains { $0.hasPrefix("patient") && $0.contains(colleague.userID.uppercased()) })
        }
    }

    @Test("from another clinic: cutting one clinic's sums again leaves another's as they were", arguments: TestDatabase.allCases)
    func otherClinicUntouched(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let mine = try await app.clinicTeam(), theirs = try await app.clinicTeam()
            for team in [mine, theirs] {
                let booked = try await app.book(team, as: team.receptionist, at: PracticeReportTests.at(hours: 24))
                try #require(booked.status == .created, "\(booked.text)")
            }
            let before = try await sums(app, clinic: theirs.owner.clinicID)
            try await rebuild(app, clinic: mine.owner.clinicID)
            #expect(try await sums(app, clinic: theirs.owner.clinicID) == before)
            #expect(before.count == 1)
            #expect(try await sums(app, clinic: mine.owner.clinicID).count == 1)
        }
    }

    // Auckland is 12 or 13 hours ahead of UTC: no day of its starts at a UTC midnight.
    @Test("a change of the clinic's time zone cuts the days again at the new midnight", arguments: TestDatabase.allCases)
    func timeZoneChange(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            for start in ["2031-03-04T09:00:00Z", "2031-03-05T09:00:00Z"] {
                let booked = try await app.book(team, as: team.receptionist, at: start)
                try #require(booked.status == .created, "\(booked.text)")
            }
            let zone = try await app.send(.PUT, team.path("settings"), json: ["timeZone": "Pacific/Auckland"], as: team.owner)
            try #require(zone.status == .ok, "\(zone.text)")

            let days = try await sums(app, clinic: team.owner.clinicID).compactMap { Int64($0.split(separator: " ")[1]) }
            let auckland = ClinicDays(zone: TimeZone(identifier: "Pacific/Auckland")!)
            #expect(days.count == 2)
            #expect(days.allSatisfy { auckland.start(of: $0) == $0 && $0 % 86_400_000 != 0 })
        }
    }
}
