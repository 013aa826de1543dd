import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Clinic-day pages")
struct ClinicPagesTests {
    @Test("a receptionist books through the calendar form, sees the booking, marks it arrived, and a clash comes back on the form",
          arguments: TestDatabase.allCases)
    func bookThroughCalendar(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let (patient, sent) = try await app.createPatient(team.owner)
            let family = try #require(sent["familyName"] as? String)
            let calendar = "/clinics/\(team.clinic)/calendar"
            let blank = try await app.send(.GET, calendar + "?date=2031-05-14", as: team.receptionist)
            #expect(blank.status == .ok)
            #expect(blank.text.contains("name=\"csrfToken\""))
            #expect(blank.text.contains(family), "the booking form offers the clinic's patients")
            let booking = [("patientId", patient), ("practitionerId", team.practitioner.userID), ("appointmentTypeId", team.typeID),
                           ("startsAt", "2031-05-14T09:30")]
            let booked = try await app.postForm(calendar + "/book", as: team.receptionist, booking)
            #expect(booked.status == .seeOther)
            #expect(booked.headers.first(name: .location) == calendar + "?date=2031-05-14")
            let day = try await app.send(.GET, calendar + "?date=2031-05-14", as: team.receptionist)
            #expect(day.text.contains("09:30–10:00"))
            #expect(day.text.contains(family))
            #expect(!day.text.contains("<script") && !day.text.contains("style="))
            let other = try await app.send(.GET, calendar + "?date=2031-05-15", as: team.receptionist)
            #expect(!other.text.contains("09:30–10:00"))

            let clash = try await app.postForm(calendar + "/book", as: team.receptionist, booking)
            #expect(clash.status == .conflict)
            #expect(clash.text.contains("already has an appointment"))

            let id = try #require(firstMatch(#"appointments/([0-9a-f-]{36})/status"#, in: day.text))
            let arrived = try await app.postForm("/clinics/\(team.clinic)/appointments/\(id)/status", as: team.receptionist,
                                                 [("status", "arrived"), ("date", "2031-05-14")])
            #expect(arrived.status == .seeOther)
            #expect(try await app.send(.GET, calendar + "?date=2031-05-14", as: team.receptionist).text.contains("<td>arrived</td>"))
            let backwards = try await app.postForm("/clinics/\(team.clinic)/appointments/\(id)/status", as: team.receptionist,
                                                   [("status", "cancelled"), ("date", "2031-05-14")])
            #expect(backwards.status == .conflict)
            #expect(backwards.text.contains("cannot become cancelled"))
        }
    }

    @Test("the bookkeeper sees the diary but gets no booking form or status buttons", arguments: TestDatabase.allCases)
    func bookkeeperReadsOnly(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            #expect(try await app.book(team, as: team.receptionist, at: "2031-05-14T11:00:00Z").status == .created)
            let day = try await app.send(.GET, "/clinics/\(team.clinic)/calendar?date=2031-05-14", as: team.bookkeeper)
            #expect(day.status == .ok)
            #expect(day.text.contains("11:00–11:30"))
            #expect(!day.text.contains("/calendar/book") && !day.text.contains("/status\""))
            let refused = try await app.postForm("/clinics/\(team.clinic)/calendar/book", as: team.bookkeeper, [("patientId", team.patientID)])
            #expect(refused.status == .forbidden)
        }
    }

    @Test("a practitioner writes, edits, signs and amends a consultation through the pages; a receptionist sees none of it",
          arguments: TestDatabase.allCases)
    func consultationThroughPages(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let first = Canary.word("Sx"), revised = Canary.word("Rv"), corrected = Canary.word("Am")
            let newPath = "/clinics/\(team.clinic)/patients/\(team.patientID)/consultations/new"
            let form = try await app.send(.GET, newPath, as: team.practitioner)
            #expect(form.status == .ok)
            #expect(form.text.contains("name=\"assessment\""))
            let created = try await app.postForm(newPath, as: team.practitioner, [("subjective", first), ("plan", "Rest")])
            #expect(created.status == .seeOther)
            let page = try #require(created.headers.first(name: .location))
            let draft = try await app.send(.GET, page, as: team.practitioner)
            #expect(draft.text.contains(first))
            #expect(draft.text.contains(page + "/sign"))
            #expect(!draft.text.contains("<script") && !draft.text.contains("style="))

            #expect(try await app.postForm(page, as: team.practitioner, [("subjective", revised), ("objective", ""), ("assessment", ""),
                                                                          ("plan", "Rest")]).status == .seeOther)
            #expect(try await app.postForm(page + "/sign", as: team.practitioner, []).status == .seeOther)
            let signed = try await app.send(.GET, page, as: team.practitioner)
            #expect(signed.text.contains(revised) && !signed.text.contains(first))
            #expect(signed.text.contains("As signed"))
            #expect(!signed.text.contains(page + "/sign"))
            #expect(signed.text.contains(page + "/amendments"))

            let empty = try await app.postForm(page + "/amendments", as: team.practitioner, [("reason", "typo")])
            #expect(empty.status == .badRequest)
            #expect(empty.text.contains("Give at least one part"))
            #expect(try await app.postForm(page + "/amendments", as: team.practitioner,
                                           [("reason", "Wrong word"), ("subjective", corrected)]).status == .seeOther)
            let amended = try await app.send(.GET, page, as: team.practitioner)
            #expect(amended.text.contains(revised) && amended.text.contains(corrected) && amended.text.contains("Wrong word"))

            let chart = "/clinics/\(team.clinic)/patients/\(team.patientID)/chart"
            let practitionerChart = try await app.send(.GET, chart, as: team.practitioner)
            #expect(practitionerChart.text.contains(revised) && practitionerChart.text.contains(corrected))
            let receptionistChart = try await app.send(.GET, chart, as: team.receptionist)
            #expect(receptionistChart.status == .ok)
            #expect(!receptionistChart.text.contains(revised) && !receptionistChart.text.contains(corrected))
            #expect(!receptionistChart.text.contains("Consultations"))
            #expect(try await app.send(.GET, page, as: team.receptionist).status == .forbidden)
            #expect(try await app.send(.GET, newPath, as: team.receptionist).status == .forbidden)
        }
    }

    @Test("a prescription written through the form prints with its medication and formula", arguments: TestDatabase.allCases)
    func prescriptionPrints(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let formula = try await app.send(.POST, team.path("formulas"), json: [
                "name": "Gui Pi Tang", "herbs": [["herb": "Huang Qi", "grams": 12.0] as [String: any Sendable]],
            ], as: team.practitioner)
            let formulaID = try #require(formula.json["id"] as? String)
            let newPath = "/clinics/\(team.clinic)/patients/\(team.patientID)/prescriptions/new"
            let form = try await app.send(.GET, newPath, as: team.practitioner)
            #expect(form.text.contains("Gui Pi Tang"))
            let medication = Canary.word("Md")
            let fields = [("formulaId", formulaID), ("name", medication), ("dose", "500 mg"), ("route", "oral"),
                          ("frequency", "twice daily"), ("quantity", "20"), ("repeats", "1")]
            let bad = try await app.postForm(newPath, as: team.practitioner, fields.map { $0.0 == "quantity" ? ($0.0, "lots") : $0 })
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("Give a quantity") && bad.text.contains(medication))
            let written = try await app.postForm(newPath, as: team.practitioner, fields)
            #expect(written.status == .seeOther)
            let print = try #require(written.headers.first(name: .location))
            #expect(print.hasSuffix("/print"))
            let page = try await app.send(.GET, print, as: team.practitioner)
            #expect(page.status == .ok)
            #expect(page.text.contains(medication) && page.text.contains("twice daily") && page.text.contains("Huang Qi"))
            #expect(!page.text.contains("<script") && !page.text.contains("style="))
            #expect(try await app.send(.GET, print, as: team.receptionist).status == .forbidden)
            let chart = try await app.send(.GET, "/clinics/\(team.clinic)/patients/\(team.patientID)/chart", as: team.owner)
            #expect(chart.text.contains(medication))
        }
    }

    // DC-19, POR-8: owners answer "who accessed this patient" on a page; other roles may not ask
    @Test("the owner's audit page shows who opened a patient's chart, links its CSV, and is refused to a receptionist",
          arguments: TestDatabase.allCases)
    func auditPage(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let chart = try await app.send(.GET, "/clinics/\(team.clinic)/patients/\(team.patientID)/chart", as: team.practitioner)
            #expect(chart.status == .ok)
            #expect(!chart.text.contains("Who accessed this record"))
            let ownersChart = try await app.send(.GET, "/clinics/\(team.clinic)/patients/\(team.patientID)/chart", as: team.owner)
            #expect(ownersChart.text.contains("/clinics/\(team.clinic)/audit?patientId=\(team.patientID)"))
            let page = try await app.send(.GET, "/clinics/\(team.clinic)/audit?patientId=\(team.patientID)&from=2000-01-01", as: team.owner)
            #expect(page.status == .ok)
            #expect(page.text.contains(team.practitioner.userID) && page.text.contains("patient.read"))
            #expect(page.text.contains("href=\"/api/v1/clinics/\(team.clinic)/audit?patientId=\(team.patientID)&amp;from="))
            #expect(page.text.contains("format=csv\">Download these events as CSV"))
            let refused = try await app.send(.GET, "/clinics/\(team.clinic)/audit", as: team.receptionist)
            #expect(refused.status == .forbidden)
            let bad = try await app.send(.GET, "/clinics/\(team.clinic)/audit?from=yesterday", as: team.owner)
            #expect(bad.status == .badRequest)
        }
    }
}

func firstMatch(_ pattern: String, in text: String) -> String? {
    guard let regex = try? NSRegularExpression(pattern: pattern),
          let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
          let range = Range(match.range(at: 1), in: text) else { return nil }
    return String(text[range])
}

extension ClinicTestApp {
    /// Posts a page form as a browser would: URL-encoded, with the session's CSRF token as a field.
    func postForm(_ path: String, as session: TestSession, _ fields: [(String, String)]) async throws -> TestResponse {
        let encode = { (text: String) in text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
        let body = ([("csrfToken", session.csrfToken)] + fields).map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
        return try await send(.POST, path, as: session, csrf: false, headers: ["Content-Type": "application/x-www-form-urlencoded"], rawBody: body)
    }
}
