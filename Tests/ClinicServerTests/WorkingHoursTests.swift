import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Practitioners' working hours")
struct WorkingHoursTests {
    static let week: [String: any Sendable] = ["hours": [["weekday": "monday", "starts": "09:00", "ends": "17:00"]] as [[String: any Sendable]]]

    @Test("with working hours set, a booking or a move outside them is refused; inside them it is taken", arguments: TestDatabase.allCases)
    func bookingsKeepToHours(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let hours = team.path("practitioners/\(team.practitioner.userID)/hours")
            // 2031-03-03 is a Monday; nothing set yet, so any time may be booked.
            #expect(try await app.book(team, as: team.receptionist, at: "2031-03-03T07:00:00Z").status == .created)
            let set = try await app.send(.PUT, hours, json: Self.week, as: team.practitioner)
            #expect(set.status == .ok && set.json["timeZone"] as? String == "UTC")
            let early = try await app.book(team, as: team.receptionist, at: "2031-03-03T08:00:00Z")
            #expect(early.status == .conflict && early.errorCode == "outside_hours")
            #expect(try await app.book(team, as: team.receptionist, at: "2031-03-04T10:00:00Z").errorCode == "outside_hours")
            let inside = try await app.book(team, as: team.receptionist, at: "2031-03-03T16:30:00Z")
            #expect(inside.status == .created)
            let id = try #require(inside.json["id"] as? String)
            let late = try await app.send(.PATCH, team.path("appointments/\(id)"), json: ["startsAt": "2031-03-03T16:45:00Z"], as: team.receptionist)
            #expect(late.status == .conflict && late.errorCode == "outside_hours")
            let read = try await app.send(.GET, hours, as: team.bookkeeper)
            #expect((read.json["hours"] as? [[String: Any]])?.first?["ends"] as? String == "17:00")
        }
    }

    @Test("the hours are the clinic's wall clock: a clinic in Sydney books Monday 09:00 local, Sunday 22:00 UTC in March",
          arguments: [TestDatabase.sqlite])
    func clinicTimeZone(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            #expect(try await app.send(.PUT, team.path("settings"), json: ["timeZone": "Mars/Olympus"], as: team.owner).errorField == "timeZone")
            #expect(try await app.send(.PUT, team.path("settings"), json: ["timeZone": "Australia/Sydney"], as: team.receptionist).status == .forbidden)
            let zone = try await app.send(.PUT, team.path("settings"), json: ["timeZone": "Australia/Sydney"], as: team.owner)
            #expect(zone.status == .ok && zone.json["timeZone"] as? String == "Australia/Sydney")
            #expect(try await app.send(.PUT, team.path("practitioners/\(team.practitioner.userID)/hours"), json: Self.week, as: team.owner).status == .ok)
            #expect(try await app.book(team, as: team.receptionist, at: "2031-03-02T22:00:00Z").status == .created)
            #expect(try await app.book(team, as: team.receptionist, at: "2031-03-03T09:00:00Z").errorCode == "outside_hours")
        }
    }

    @Test("the pages keep the clinic's clock: the diary takes and shows Sydney times and books them inside Sydney hours",
          arguments: [TestDatabase.sqlite])
    func pagesOnTheClinicsClock(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            #expect(try await app.send(.PUT, team.path("settings"), json: ["timeZone": "Australia/Sydney"], as: team.owner).status == .ok)
            #expect(try await app.send(.PUT, team.path("practitioners/\(team.practitioner.userID)/hours"), json: Self.week, as: team.owner).status == .ok)
            let calendar = "/clinics/\(team.clinic)/calendar"
            let booked = try await app.postForm(calendar + "/book", as: team.receptionist, [
                ("patientId", team.patientID), ("practitionerId", team.practitioner.userID), ("appointmentTypeId", team.typeID),
                ("startsAt", "2031-03-03T09:00")])
            #expect(booked.status == .seeOther && booked.headers.first(name: .location) == calendar + "?date=2031-03-03")
            let listed = try await app.send(.GET, team.path("appointments?from=2031-03-02T00:00:00Z&to=2031-03-04T00:00:00Z"), as: team.owner)
            #expect((listed.json["appointments"] as? [[String: Any]])?.first?["startsAt"] as? String == "2031-03-02T22:00:00.000Z")
            let day = try await app.send(.GET, calendar + "?date=2031-03-03", as: team.receptionist)
            #expect(day.text.contains("Times are in Australia/Sydney") && day.text.contains("09:00–09:30"))
            let early = try await app.postForm(calendar + "/book", as: team.receptionist, [
                ("patientId", team.patientID), ("practitionerId", team.practitioner.userID), ("appointmentTypeId", team.typeID),
                ("startsAt", "2031-03-03T08:00")])
            #expect(early.status == .conflict && early.text.contains("does not work at this time"))
        }
    }

    @Test("hours are set for practitioners of this clinic only; the bookkeeper reads them but cannot change them", arguments: [TestDatabase.sqlite])
    func whoAndWhose(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.signUpClinic()
            #expect(try await app.send(.PUT, team.path("practitioners/\(team.practitioner.userID)/hours"), json: Self.week,
                                       as: team.bookkeeper).status == .forbidden)
            #expect(try await app.send(.PUT, team.path("practitioners/\(team.receptionist.userID)/hours"), json: Self.week,
                                       as: team.owner).errorField == "userId")
            #expect(try await app.send(.GET, team.path("practitioners/\(other.userID)/hours"), as: team.owner).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(other.clinicID)/practitioners/\(team.practitioner.userID)/hours",
                                       as: other).status == .notFound)
            let bad = try await app.send(.PUT, team.path("practitioners/\(team.practitioner.userID)/hours"),
                                         json: ["hours": [["weekday": "monday", "starts": "17:00", "ends": "09:00"]] as [[String: any Sendable]]], as: team.owner)
            #expect(bad.status == .badRequest && bad.errorField == "hours[0].ends")
        }
    }

    @Test("the front desk keeps a practitioner's hours on the hours page; a bad row comes back on the form", arguments: [TestDatabase.sqlite])
    func hoursPage(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let page = "/clinics/\(team.clinic)/practitioners/\(team.practitioner.userID)/hours"
            let blank = try await app.send(.GET, page, as: team.receptionist)
            #expect(blank.status == .ok && blank.text.contains("Working hours: ") && blank.text.contains("UTC"))
            let rows = [("weekday[]", "tuesday"), ("starts[]", "08:30"), ("ends[]", "12:00"),
                        ("weekday[]", "monday"), ("starts[]", ""), ("ends[]", ""),
                        ("weekday[]", "thursday"), ("starts[]", "13:00"), ("ends[]", "18:00")]
            #expect(try await app.postForm(page, as: team.receptionist, rows).status == .seeOther)
            let week = try await app.send(.GET, team.path("practitioners/\(team.practitioner.userID)/hours"), as: team.owner)
            let saved = (week.json["hours"] as? [[String: Any]] ?? []).map { "\($0["weekday"] ?? "") \($0["starts"] ?? "")-\($0["ends"] ?? "")" }
            #expect(saved == ["tuesday 08:30-12:00", "thursday 13:00-18:00"])
            let bad = try await app.postForm(page, as: team.receptionist, [("weekday[]", "friday"), ("starts[]", "9am"), ("ends[]", "17:00")])
            #expect(bad.status == .badRequest && bad.text.contains("HH:MM") && bad.text.contains("value=\"9am\""))
            let readOnly = try await app.send(.GET, page, as: team.bookkeeper)
            #expect(readOnly.status == .ok && readOnly.text.contains("value=\"08:30\" disabled") && !readOnly.text.contains("Save hours"))
        }
    }
}

@Suite("Today page")
struct TodayPageTests {
    @Test("signing in opens today: the practitioner's own list with names, the clinic's counts, and what is owed for finance roles only",
          arguments: [TestDatabase.sqlite])
    func today(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let patient = try await app.send(.GET, team.path("patients/\(team.patientID)"), as: team.owner)
            let family = try #require(patient.json["familyName"] as? String)
            let now = Date()
            let slot = ISO8601DateFormatter().string(from: Calendar(identifier: .gregorian).startOfDay(for: now).addingTimeInterval(60))
            #expect(try await app.book(team, as: team.receptionist, at: slot).status == .created)
            let invoice = try await app.send(.POST, team.path("invoices"), json: ["patientId": team.patientID,
                                                                                  "lines": [["appointmentTypeId": team.typeID]]], as: team.bookkeeper)
            let id = try #require(invoice.json["id"] as? String)
            #expect(try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper).status == .ok)
            let home = try await app.send(.GET, "/", as: team.practitioner)
            #expect(home.headers.first(name: .location) == "/clinics/\(team.clinic)/today")
            let mine = try await app.send(.GET, "/clinics/\(team.clinic)/today", as: team.practitioner)
            #expect(mine.status == .ok && mine.text.contains("Your appointments") && mine.text.contains("1 appointment.") && mine.text.contains(family))
            #expect(!mine.text.contains("Owing") && !mine.text.contains("$95.00"))
            let books = try await app.send(.GET, "/clinics/\(team.clinic)/today", as: team.bookkeeper)
            #expect(books.text.contains("1 issued invoice</a>") && books.text.contains("$95.00") && !books.text.contains("Your appointments"))
            let desk = try await app.send(.GET, "/clinics/\(team.clinic)/today", as: team.receptionist)
            #expect(!desk.text.contains("Owing") && !desk.text.contains(family))
        }
    }
}
