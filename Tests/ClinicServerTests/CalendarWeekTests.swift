import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("The week's diary")
struct CalendarWeekTests {
    @Test("the week runs Monday to Sunday with each day's appointments, for the clinic or one practitioner", arguments: [TestDatabase.sqlite])
    func weekView(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.addMember(to: team.owner, roles: ["practitioner"])
            // 2031-03-03 is a Monday, 2031-03-09 the Sunday, 2031-03-10 the next Monday.
            for (start, who) in [("2031-03-03T09:00:00Z", team.practitioner.userID), ("2031-03-09T15:00:00Z", team.practitioner.userID),
                                 ("2031-03-10T09:00:00Z", team.practitioner.userID), ("2031-03-05T11:00:00Z", other.userID)] {
                #expect(try await app.book(team, as: team.receptionist, practitioner: who, at: start).status == .created)
            }
            let week = "/clinics/\(team.clinic)/calendar/week"
            let clinic = try await app.send(.GET, week + "?date=2031-03-06", as: team.receptionist)
            #expect(clinic.status == .ok && clinic.text.contains("Week of 2031-03-03"))
            #expect(clinic.text.contains("Monday 2031-03-03") && clinic.text.contains("Sunday 2031-03-09") && !clinic.text.contains("2031-03-10<"))
            for time in ["09:00–09:30", "15:00–15:30", "11:00–11:30"] { #expect(clinic.text.contains(time), "\(time)") }
            #expect(clinic.text.contains("date=2031-03-10") && clinic.text.contains("date=2031-02-24"), "next and previous weeks")
            let one = try await app.send(.GET, week + "?date=2031-03-03&practitionerId=\(team.practitioner.userID)", as: team.bookkeeper)
            #expect(one.text.contains("09:00–09:30") && !one.text.contains("11:00–11:30"))
            #expect(try await app.send(.GET, week + "?date=March", as: team.receptionist).status == .badRequest)
        }
    }
}
