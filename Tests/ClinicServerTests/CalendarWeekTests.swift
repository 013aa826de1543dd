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

    /// The diary as a front desk reads it: a column per practitioner, a booking a block as many
    /// five-minute rows high as it is long, time outside working hours shaded, status in the class.
    @Test("the day is a time grid: a column per practitioner, blocks sized by duration, hours shaded", arguments: [TestDatabase.sqlite])
    func dayGrid(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.addMember(to: team.owner, roles: ["practitioner"])
            let hours = [["weekday": "monday", "starts": "09:00", "ends": "12:00"], ["weekday": "monday", "starts": "13:00", "ends": "17:00"]]
            let set = try await app.send(.PUT, team.path("practitioners/\(team.practitioner.userID)/hours"), json: ["hours": hours], as: team.owner)
            try #require(set.status == .ok, "\(set.text)")
            #expect(try await app.book(team, as: team.receptionist, at: "2031-03-03T09:00:00Z").status == .created)
            let arrived = try await app.book(team, as: team.receptionist, practitioner: other.userID, at: "2031-03-03T14:10:00Z", minutes: 45)
            try #require(arrived.status == .created, "\(arrived.text)")
            let id = try #require(arrived.json["id"] as? String)
            #expect(try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "arrived"], as: team.receptionist).status == .ok)
            let page = try await app.send(.GET, "/clinics/\(team.clinic)/calendar?date=2031-03-03", as: team.receptionist)
            #expect(page.status == .ok)
            let grid = try #require(page.text.components(separatedBy: "<table class=\"diary-grid\">").dropFirst().first?
                .components(separatedBy: "</table>").first)
            #expect(grid.components(separatedBy: "<th scope=\"col\">").count - 1 == 2, "a column per practitioner")
            #expect(grid.contains("<td rowspan=\"6\" class=\"grid-booking grid-booked\"><span class=\"grid-when\">09:00–09:30</span>"))
            #expect(grid.contains("<td rowspan=\"9\" class=\"grid-booking grid-arrived\"><span class=\"grid-when\">14:10–14:55</span>"))
            // 09:00 to 17:00: 96 rows under the heading row; the lunch hour (12 rows) is outside the first practitioner's hours.
            #expect(grid.components(separatedBy: "<tr>").count - 1 == 1 + 96)
            #expect(grid.components(separatedBy: "<td class=\"grid-closed\">").count - 1 == 12)
            #expect(grid.contains("<th scope=\"row\" rowspan=\"12\" class=\"grid-time\">09:00</th>"))
            #expect(!page.text.contains("style="), "the CSP allows no inline style")
            // One practitioner's week: a column per day.
            let week = try await app.send(.GET, "/clinics/\(team.clinic)/calendar/week?date=2031-03-03&practitionerId=\(other.userID)", as: team.receptionist)
            #expect(week.text.contains("<table class=\"diary-grid\">") && week.text.contains("<th scope=\"col\">Sunday 2031-03-09</th>"))
            #expect(week.text.contains("grid-arrived") && !week.text.contains("grid-booked\""))
        }
    }
}
