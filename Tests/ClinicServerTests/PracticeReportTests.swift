import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

/// The practice's figures (`GET …/kpis`): exact against a hand-made fortnight, and cut to what
/// each role may see.
@Suite("Practice figures")
struct PracticeReportTests {
    /// A period of fifteen days around today (UTC, the clinic's zone): a week back, a week on.
    struct Fixture {
        let team: ClinicTeam
        let newPatient: String
        let from: String
        let to: String
        let days = 15
        var query: String { "kpis?from=\(from)&to=\(to)" }
    }

    static func day(_ offset: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: Date().addingTimeInterval(Double(offset) * 86_400))
    }

    /// A start `hours` from now (from 20:00 UTC when it is later: the clinic works whole days,
    /// so a 30-minute visit three hours on must not run past midnight into the next day), on a
    /// five-minute boundary.
    static func at(hours: Double) -> String {
        let evening = (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 + 20 * 3600
        let raw = min(Date().timeIntervalSince1970, evening) + hours * 3600
        return ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: (raw / 300).rounded(.down) * 300))
    }

    /// Hand-counted: six appointments in the period (A completed, B arrived, A no-show, A
    /// cancelled days ahead, B still booked, A cancelled three hours ahead: late), one completed
    /// visit of A before it; working every hour of every day; one issued invoice of 110.00 with
    /// 10.00 GST, 50.00 paid; a draft and a voided invoice that do not count.
    static func fixture(_ app: ClinicTestApp) async throws -> Fixture {
        let team = try await app.clinicTeam()
        let (patientB, _) = try await app.createPatient(team.owner)
        // Stock: one product running low (2 left), one with plenty (40).
        for (name, stock) in [("Heat pack", 2), ("Tape", 40)] {
            let product = try await app.send(.POST, team.path("products"), json: ["name": name, "priceCents": 1_000], as: team.owner)
            try #require(product.status == .created, "\(product.text)")
            let id = try #require(product.json["id"] as? String)
            let received = try await app.send(.POST, team.path("products/\(id)/stock"), json: ["change": stock, "reason": "received"], as: team.owner)
            try #require(received.status == .ok, "\(received.text)")
        }
        let allWeek = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].map {
            ["weekday": $0, "starts": "00:00", "ends": "24:00"] as [String: any Sendable]
        }
        let hours = try await app.send(.PUT, team.path("practitioners/\(team.practitioner.userID)/hours"), json: ["hours": allWeek], as: team.owner)
        try #require(hours.status == .ok, "\(hours.text)")
        func book(_ patient: String, _ start: String, then status: String?) async throws -> String {
            let booked = try await app.send(.POST, team.path("appointments"), json: [
                "patientId": patient, "practitionerId": team.practitioner.userID, "appointmentTypeId": team.typeID, "startsAt": start,
            ], as: team.receptionist)
            try #require(booked.status == .created, "\(booked.text)")
            let id = try #require(booked.json["id"] as? String)
            if let status {
                let moved = try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": status], as: team.receptionist)
                try #require(moved.status == .ok, "\(moved.text)")
            }
            return id
        }
        _ = try await book(team.patientID, at(hours: -30 * 24), then: "completed")
        let visit = try await book(team.patientID, at(hours: -5 * 24), then: "completed")
        _ = try await book(patientB, at(hours: -4 * 24), then: "arrived")
        _ = try await book(team.patientID, at(hours: -3 * 24), then: "no_show")
        _ = try await book(team.patientID, at(hours: 5 * 24), then: "cancelled")
        _ = try await book(patientB, at(hours: 4 * 24), then: nil)
        _ = try await book(team.patientID, at(hours: 3), then: "cancelled")

        func invoice(appointment: String?) async throws -> String {
            var body: [String: any Sendable] = ["patientId": team.patientID, "practitionerId": team.practitioner.userID,
                                                "lines": [["description": "Visit", "unitCents": 11_000, "gstApplies": true]] as [[String: any Sendable]]]
            if let appointment { body["appointmentId"] = appointment }
            let created = try await app.send(.POST, team.path("invoices"), json: body, as: team.bookkeeper)
            try #require(created.status == .created, "\(created.text)")
            return try #require(created.json["id"] as? String)
        }
        // Formulas: Gui Pi Tang prescribed twice, Xiao Yao San once; a prescription without a
        // library formula counts for none.
        var formulaIDs: [String] = []
        for name in ["Gui Pi Tang", "Xiao Yao San"] {
            var body = PrescriptionTests.formula
            body["name"] = name
            let made = try await app.send(.POST, team.path("formulas"), json: body, as: team.practitioner)
            try #require(made.status == .created, "\(made.text)")
            formulaIDs.append(try #require(made.json["id"] as? String))
        }
        for formula in [formulaIDs[0], formulaIDs[1], formulaIDs[0]] {
            let prescribed = try await app.send(.POST, team.path("prescriptions"), json: ["patientId": team.patientID, "formulaId": formula],
                                                as: team.practitioner)
            try #require(prescribed.status == .created, "\(prescribed.text)")
        }
        let plain = try await app.send(.POST, team.path("prescriptions"), json: [
            "patientId": team.patientID, "medications": [["name": "Magnesium", "dose": "300 mg", "route": "oral", "frequency": "daily", "quantity": 30, "repeats": 0]]
                as [[String: any Sendable]],
        ], as: team.practitioner)
        try #require(plain.status == .created, "\(plain.text)")
        let issued = try await invoice(appointment: visit)
        #expect(try await app.send(.POST, team.path("invoices/\(issued)/issue"), as: team.bookkeeper).status == .ok)
        #expect(try await app.send(.POST, team.path("invoices/\(issued)/payments"), json: ["amountCents": 5_000, "method": "card"],
                                   as: team.bookkeeper).status == .created)
        _ = try await invoice(appointment: nil)
        let voided = try await invoice(appointment: nil)
        #expect(try await app.send(.POST, team.path("invoices/\(voided)/issue"), as: team.bookkeeper).status == .ok)
        #expect(try await app.send(.POST, team.path("invoices/\(voided)/void"), json: ["reason": "entered twice"], as: team.bookkeeper).status == .ok)
        return Fixture(team: team, newPatient: patientB, from: day(-7), to: day(8))
    }

    @Test("every figure is exact against a hand-counted fortnight", arguments: TestDatabase.allCases)
    func exactFigures(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let team = fixture.team
            let report = try await app.send(.GET, team.path(fixture.query), as: team.owner)
            try #require(report.status == .ok, "\(report.text)")
            let appointments = try #require(report.json["appointments"] as? [String: Any])
            #expect(appointments["booked"] as? Int == 6)
            #expect(appointments["attended"] as? Int == 2)
            #expect(appointments["cancelled"] as? Int == 2)
            #expect(appointments["lateCancelled"] as? Int == 1)
            #expect(appointments["noShow"] as? Int == 1)
            #expect(abs((appointments["noShowRate"] as? Double ?? 0) - 1.0 / 3.0) < 1e-9)
            let utilisation = try #require(report.json["utilisation"] as? [[String: Any]])
            #expect(utilisation.count == 1)
            #expect(utilisation.first?["practitionerId"] as? String == team.practitioner.userID)
            #expect(utilisation.first?["bookedMinutes"] as? Int == 4 * 30)
            #expect(utilisation.first?["workingMinutes"] as? Int == fixture.days * 24 * 60)
            let patients = try #require(report.json["patients"] as? [String: Any])
            #expect(patients["seen"] as? Int == 2 && patients["new"] as? Int == 1 && patients["returning"] as? Int == 1)
            let revenue = try #require(report.json["revenue"] as? [String: Any])
            #expect(revenue["invoicedCents"] as? Int == 11_000)
            #expect(revenue["gstCents"] as? Int == 1_000)
            #expect(revenue["collectedCents"] as? Int == 5_000)
            #expect(revenue["outstandingCents"] as? Int == 6_000)
            #expect((revenue["byPractitioner"] as? [[String: Any]])?.first?["id"] as? String == team.practitioner.userID)
            #expect((revenue["byAppointmentType"] as? [[String: Any]])?.first?["id"] as? String == team.typeID)
            let ages = try #require(report.json["outstandingByAge"] as? [String: Any])
            #expect(ages["0-30"] as? Int == 6_000 && ages["90+"] as? Int == 0)
            let low = try #require(report.json["lowStock"] as? [[String: Any]])
            #expect(low.map { $0["name"] as? String } == ["Heat pack"], "\(low)")
            let formulas = try #require(report.json["topFormulas"] as? [[String: Any]])
            #expect(formulas.map { "\($0["name"] as? String ?? "?") \($0["count"] as? Int ?? -1)" } == ["Gui Pi Tang 2", "Xiao Yao San 1"])
        }
    }

    @Test("a patient who came before, during and after a period was seen in it, not new; between visits, not seen",
          arguments: TestDatabase.allCases)
    func seenBetweenVisits(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            // A's visits: 30 and 5 days ago (the fixture's), and yesterday; B's: 4 days ago.
            let fixture = try await Self.fixture(app)
            let team = fixture.team
            let booked = try await app.book(team, as: team.receptionist, at: Self.at(hours: -24))
            let id = try #require(booked.json["id"] as? String, "\(booked.text)")
            let completed = try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "completed"], as: team.receptionist)
            try #require(completed.status == .ok, "\(completed.text)")
            func patients(from: Int, to: Int) async throws -> [String: Any] {
                let report = try await app.send(.GET, team.path("kpis?from=\(Self.day(from))&to=\(Self.day(to))"), as: team.owner)
                try #require(report.status == .ok, "\(report.text)")
                return try #require(report.json["patients"] as? [String: Any])
            }
            let around = try await patients(from: -6, to: -4)
            #expect(around["seen"] as? Int == 1 && around["new"] as? Int == 0 && around["returning"] as? Int == 1, "\(around)")
            let between = try await patients(from: -10, to: -8)
            #expect(between["seen"] as? Int == 0 && between["new"] as? Int == 0, "\(between)")
        }
    }

    @Test("narrowed to a practitioner: seen means seen by them; new means new to the clinic", arguments: TestDatabase.allCases)
    func seenByOnePractitioner(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            // A saw the team practitioner 30 and 5 days ago (the fixture's), and a colleague 9
            // days ago and yesterday.
            let fixture = try await Self.fixture(app)
            let team = fixture.team
            let colleague = try await app.addMember(to: team.owner, roles: ["practitioner"])
            for hours in [-9.0 * 24, -24] {
                let booked = try await app.book(team, as: team.receptionist, practitioner: colleague.userID, at: Self.at(hours: hours))
                let id = try #require(booked.json["id"] as? String, "\(booked.text)")
                let completed = try await app.send(.POST, team.path("appointments/\(id)/status"), json: ["status": "completed"], as: team.receptionist)
                try #require(completed.status == .ok, "\(completed.text)")
            }
            func patients(from: Int, to: Int) async throws -> [String: Any] {
                let query = "kpis?from=\(Self.day(from))&to=\(Self.day(to))&practitionerId=\(colleague.userID)"
                let report = try await app.send(.GET, team.path(query), as: team.owner)
                try #require(report.status == .ok, "\(report.text)")
                return try #require(report.json["patients"] as? [String: Any])
            }
            // A's first visit with the colleague, but not at the clinic: seen, returning.
            let first = try await patients(from: -10, to: -8)
            #expect(first["seen"] as? Int == 1 && first["new"] as? Int == 0, "\(first)")
            // Between A's visits with the colleague; the visit then was with someone else.
            let between = try await patients(from: -6, to: -4)
            #expect(between["seen"] as? Int == 0, "\(between)")
        }
    }

    // PRX-5: finance stays with the roles allowed to see it; absent, not zeroed.
    @Test("each role gets only its parts: the desk bookings, the books money, a practitioner their own activity", arguments: [TestDatabase.sqlite])
    func partsByRole(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let team = fixture.team
            func keys(_ session: TestSession, _ query: String? = nil) async throws -> Set<String> {
                let report = try await app.send(.GET, team.path(query ?? fixture.query), as: session)
                try #require(report.status == .ok, "\(report.text)")
                return Set(report.json.keys)
            }
            #expect(try await keys(team.owner) == ["period", "appointments", "utilisation", "patients", "revenue", "outstandingByAge", "lowStock",
                                                   "topFormulas"])
            #expect(try await keys(team.bookkeeper) == ["period", "revenue", "outstandingByAge", "lowStock"])
            #expect(try await keys(team.receptionist) == ["period", "appointments", "lowStock"])
            #expect(try await keys(team.practitioner) == ["period", "appointments", "utilisation", "patients", "topFormulas"])
            let colleague = try await app.addMember(to: team.owner, roles: ["practitioner"])
            let theirs = try await app.send(.GET, team.path(fixture.query + "&practitionerId=\(team.practitioner.userID)"), as: colleague)
            #expect(theirs.status == .forbidden)
            // The colleague's own figures: none of the team practitioner's appointments.
            let own = try await app.send(.GET, team.path(fixture.query), as: colleague)
            #expect((own.json["appointments"] as? [String: Any])?["booked"] as? Int == 0)
            #expect((own.json["topFormulas"] as? [[String: Any]])?.isEmpty == true, "a colleague's prescriptions are not theirs")
        }
    }

    @Test("bad periods are refused with the field named", arguments: [TestDatabase.sqlite])
    func badPeriods(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            for query in ["kpis", "kpis?from=2031-03-10&to=2031-03-03", "kpis?from=2031-02-30&to=2031-03-03", "kpis?from=2030-01-01&to=2031-03-03",
                          "kpis?from=2031-03-01&to=2031-03-03&practitionerId=\(team.receptionist.userID)"] {
                let answer = try await app.send(.GET, team.path(query), as: team.owner)
                #expect(answer.status == .badRequest, "\(query): \(answer.text)")
            }
        }
    }

    // PRX-15: a clinic's figures never mix with another's.
    @Test("from another clinic: 404, and its own figures hold none of this clinic's", arguments: TestDatabase.allCases)
    func fromAnotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let other = try await app.clinicTeam()
            #expect(try await app.send(.GET, fixture.team.path(fixture.query), as: other.owner).status == .notFound)
            let theirs = try await app.send(.GET, other.path(fixture.query), as: other.owner)
            #expect((theirs.json["appointments"] as? [String: Any])?["booked"] as? Int == 0)
            #expect((theirs.json["revenue"] as? [String: Any])?["invoicedCents"] as? Int == 0)
            #expect((theirs.json["utilisation"] as? [[String: Any]])?.isEmpty == true)
            #expect((theirs.json["topFormulas"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    @Test("the reports page draws the weeks as SVG bars beside their table; money only for those who may see it", arguments: [TestDatabase.sqlite])
    func reportsPage(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let team = fixture.team
            let path = "/clinics/\(team.clinic)/reports?from=\(fixture.from)&to=\(fixture.to)"
            let owner = try await app.send(.GET, path, as: team.owner)
            #expect(owner.status == .ok, "\(owner.text)")
            #expect(owner.text.contains("<svg class=\"chart\"") && owner.text.contains("<title id=\"weeks-title\">"))
            #expect(owner.text.contains("1 attended") || owner.text.contains("2 attended"))
            #expect(owner.text.contains("$110.00") && owner.text.contains("Invoiced by practitioner"))
            // Invoicing week by week, stacked by practitioner: this week's bar holds the one invoice.
            #expect(owner.text.contains("<title id=\"invoicing-title\">"))
            #expect(owner.text.components(separatedBy: "<rect class=\"chart-money-0\"").count - 1 == 1)
            #expect(owner.text.contains("<td>$110.00</td><td>$110.00</td></tr>"))
            #expect(!owner.text.contains("style="), "the CSP allows no inline style")
            #expect(owner.text.contains("Running low") && owner.text.contains("<td>Heat pack</td><td>2</td>"))
            #expect(owner.text.contains("<td>Gui Pi Tang</td><td>2</td>"))
            // The utilisation line: one point per week, on a plot 0 to 100% high.
            #expect(owner.text.contains("<title id=\"share-title\">") && owner.text.contains("<polyline class=\"chart-line\""))
            #expect(owner.text.components(separatedBy: "<circle class=\"chart-point\"").count - 1 == 3)
            let desk = try await app.send(.GET, path, as: team.receptionist)
            #expect(desk.status == .ok)
            #expect(desk.text.contains("weeks-title") && !desk.text.contains("$110.00") && !desk.text.contains("<h2>Money</h2>"))
            #expect(!desk.text.contains("invoicing-title"))
            let books = try await app.send(.GET, path, as: team.bookkeeper)
            #expect(books.text.contains("$110.00") && !books.text.contains("weeks-title") && !books.text.contains("share-title"))
            let blank = try await app.send(.GET, "/clinics/\(team.clinic)/reports", as: team.owner)
            #expect(blank.status == .ok, "the last four weeks by default")
        }
    }

    @Test("each table of the page downloads as CSV with the same figures; money only for those who may see it", arguments: [TestDatabase.sqlite])
    func csvDownloads(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let team = fixture.team
            func csv(_ table: String, as session: TestSession) async throws -> (status: HTTPStatus, rows: [String], response: TestResponse) {
                let response = try await app.send(.GET, "/clinics/\(team.clinic)/reports.csv?table=\(table)&from=\(fixture.from)&to=\(fixture.to)",
                                                  as: session)
                return (response.status, response.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }, response)
            }
            let staff = try await app.send(.GET, team.path("staff"), as: team.owner).json["staff"] as? [[String: Any]] ?? []
            let name = try #require(staff.first { $0["userId"] as? String == team.practitioner.userID }?["name"] as? String)
            let weeks = try await csv("weeks", as: team.owner)
            #expect(weeks.status == .ok)
            #expect(weeks.response.headers.contentType?.subType == "csv")
            #expect(weeks.response.headers.first(name: .contentDisposition) == "attachment; filename=\"weeks-\(fixture.from)-\(fixture.to).csv\"")
            #expect(weeks.rows.first == "Week from,Booked,Attended,Did not come,Cancelled")
            // Summed over the weeks, the columns give the period's figures (6 booked, 2 attended, 1 no-show, 2 cancelled).
            let cells = weeks.rows.dropFirst().map { $0.split(separator: ",").dropFirst().map { Int($0) ?? -1 } }
            #expect(cells.count == 3 && (0..<4).map { column in cells.reduce(0) { $0 + $1[column] } } == [6, 2, 1, 2], "\(weeks.rows)")
            let invoiced = try await csv("invoiced", as: team.bookkeeper)
            #expect(invoiced.rows == ["Practitioner,Invoiced (dollars)", "\(name),110.00"])
            let stacked = try await csv("invoiced-by-week", as: team.bookkeeper)
            #expect(stacked.rows == ["Week from,\(name),Total", "\(Self.day(-7)),0.00,0.00", "\(Self.day(0)),110.00,110.00",
                                     "\(Self.day(7)),0.00,0.00"])
            #expect(try await csv("invoiced-by-week", as: team.receptionist).status == .notFound)
            #expect(try await csv("formulas", as: team.practitioner).rows == ["Formula,Prescribed", "Gui Pi Tang,2", "Xiao Yao San,1"])
            #expect(try await csv("formulas", as: team.bookkeeper).status == .notFound)
            // Week by week, booked and working minutes add up to the period's.
            let byWeek = try await csv("time-by-week", as: team.owner)
            #expect(byWeek.rows.first == "Week from,Booked minutes,Working minutes")
            let minutes = byWeek.rows.dropFirst().map { $0.split(separator: ",").dropFirst().map { Int($0) ?? -1 } }
            #expect(minutes.reduce(0) { $0 + $1[0] } == 120 && minutes.reduce(0) { $0 + $1[1] } == fixture.days * 24 * 60, "\(byWeek.rows)")
            let time = try await csv("time-booked", as: team.owner)
            #expect(time.rows.last == "\(name),120,\(fixture.days * 24 * 60)")
            // The desk sees no money: that table does not exist for it.
            #expect(try await csv("invoiced", as: team.receptionist).status == .notFound)
            #expect(try await csv("payroll", as: team.owner).status == .badRequest)
        }
    }

    @Test("a product named like a spreadsheet formula is text in the CSV, never a formula", arguments: [TestDatabase.sqlite])
    func csvFormulaInjection(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let made = try await app.send(.POST, team.path("products"), json: ["name": "=HYPERLINK(\"http://x.example\",\"Tape\")", "priceCents": 100],
                                          as: team.owner)
            try #require(made.status == .created, "\(made.text)")
            let low = try await app.send(.GET, "/clinics/\(team.clinic)/reports.csv?table=running-low", as: team.owner)
            #expect(low.status == .ok)
            #expect(low.text.contains("\"'=HYPERLINK(\"\"http://x.example\"\",\"\"Tape\"\")\",0"), "\(low.text)")
        }
    }

    @Test("from another clinic: the CSV answers 404", arguments: [TestDatabase.sqlite])
    func csvFromAnotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.clinicTeam()
            let probe = try await app.send(.GET, "/clinics/\(team.clinic)/reports.csv?table=weeks", as: other.owner)
            #expect(probe.status == .notFound)
        }
    }

    @Test("revenue by product counts issued invoices' product lines; a voided one and a draft do not", arguments: TestDatabase.allCases)
    func revenueByProduct(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let made = try await app.send(.POST, team.path("products"), json: ["name": "Heat pack", "priceCents": 1_000], as: team.owner)
            try #require(made.status == .created, "\(made.text)")
            let product = try #require(made.json["id"] as? String)
            func invoice(quantity: Int) async throws -> String {
                let created = try await app.send(.POST, team.path("invoices"), json: [
                    "patientId": team.patientID, "practitionerId": team.practitioner.userID,
                    "lines": [["productId": product, "quantity": quantity], ["description": "Visit", "unitCents": 9_000]] as [[String: any Sendable]],
                ], as: team.bookkeeper)
                try #require(created.status == .created, "\(created.text)")
                return try #require(created.json["id"] as? String)
            }
            let kept = try await invoice(quantity: 3)
            #expect(try await app.send(.POST, team.path("invoices/\(kept)/issue"), as: team.bookkeeper).status == .ok)
            let voided = try await invoice(quantity: 1)
            #expect(try await app.send(.POST, team.path("invoices/\(voided)/issue"), as: team.bookkeeper).status == .ok)
            #expect(try await app.send(.POST, team.path("invoices/\(voided)/void"), json: ["reason": "entered twice"], as: team.bookkeeper).status == .ok)
            _ = try await invoice(quantity: 5)
            let query = "kpis?from=\(Self.day(-1))&to=\(Self.day(2))"
            let report = try await app.send(.GET, team.path(query), as: team.bookkeeper)
            let byProduct = (report.json["revenue"] as? [String: Any])?["byProduct"] as? [[String: Any]]
            #expect(byProduct?.map { "\($0["id"] as? String ?? "?") \($0["cents"] as? Int ?? -1)" } == ["\(product) 3000"], "\(report.text)")
            // Narrowed to another practitioner: none of it.
            let colleague = try await app.addMember(to: team.owner, roles: ["practitioner"])
            let theirs = try await app.send(.GET, team.path(query + "&practitionerId=\(colleague.userID)"), as: team.owner)
            #expect(((theirs.json["revenue"] as? [String: Any])?["byProduct"] as? [[String: Any]])?.isEmpty == true)
        }
    }

    // Days and weeks are the clinic's: Sydney's clocks go forward at 02:00 on Sunday 5 October
    // 2031, so that day is 23 hours long and the week after it starts at 00:00 +11:00.
    @Test("across a daylight-saving change, days and weeks end at the clinic's midnight", arguments: TestDatabase.allCases)
    func daylightSaving(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let zone = try await app.send(.PUT, team.path("settings"), json: ["timeZone": "Australia/Sydney"], as: team.owner)
            try #require(zone.status == .ok, "\(zone.text)")
            // 23:30 on Saturday 4 October (+10:00), 00:30 and 23:30 on Sunday 5 October (the 00:30
            // before the change, +10:00; the 23:30 after it, +11:00), 00:30 on Monday 6 October (+11:00).
            for start in ["2031-10-04T13:30:00Z", "2031-10-04T14:30:00Z", "2031-10-05T12:30:00Z", "2031-10-05T13:30:00Z"] {
                let booked = try await app.book(team, as: team.receptionist, at: start)
                try #require(booked.status == .created, "\(start): \(booked.text)")
            }
            func booked(_ from: String, _ to: String) async throws -> Int? {
                let report = try await app.send(.GET, team.path("kpis?from=\(from)&to=\(to)"), as: team.owner)
                return (report.json["appointments"] as? [String: Any])?["booked"] as? Int
            }
            #expect(try await booked("2031-10-05", "2031-10-06") == 2, "Sunday holds its 00:30 and its 23:30")
            #expect(try await booked("2031-10-04", "2031-10-05") == 1)
            #expect(try await booked("2031-10-06", "2031-10-07") == 1)
            // Weeks from Monday 29 September: the Monday 00:30 is the second week's, not the first's.
            let weeks = try await app.send(.GET, "/clinics/\(team.clinic)/reports.csv?table=weeks&from=2031-09-29&to=2031-10-13", as: team.owner)
            #expect(weeks.text.components(separatedBy: "\r\n").filter { !$0.isEmpty } == [
                "Week from,Booked,Attended,Did not come,Cancelled", "2031-09-29,3,0,0,0", "2031-10-06,1,0,0,0",
            ], "\(weeks.text)")
        }
    }

    // PRX-5: money opens to practitioners (their own) or admins only when an owner says so.
    @Test("owners may let practitioners see their own revenue and admins all of it; no one else may", arguments: TestDatabase.allCases)
    func revenueOpenedByOwners(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let team = fixture.team
            let admin = try await app.addMember(to: team.owner, roles: ["admin"])
            let colleague = try await app.addMember(to: team.owner, roles: ["practitioner"])
            func revenue(_ session: TestSession) async throws -> [String: Any]? {
                let report = try await app.send(.GET, team.path(fixture.query), as: session)
                return report.json["revenue"] as? [String: Any]
            }
            let closedToPractitioner = try await revenue(team.practitioner), closedToAdmin = try await revenue(admin)
            #expect(closedToPractitioner == nil && closedToAdmin == nil, "closed by default")
            // An admin may read the switches but not turn them.
            #expect(try await app.send(.GET, team.path("settings/reports"), as: admin).json["adminsSeeRevenue"] as? Bool == false)
            #expect(try await app.send(.PUT, team.path("settings/reports"), json: ["adminsSeeRevenue": true], as: admin).status == .forbidden)
            #expect(try await app.send(.PUT, team.path("settings/reports"), json: ["adminsSeeRevenue": "yes"], as: team.owner).status == .badRequest)

            let opened = try await app.send(.PUT, team.path("settings/reports"), json: ["practitionersSeeOwnRevenue": true], as: team.owner)
            #expect(opened.json["practitionersSeeOwnRevenue"] as? Bool == true && opened.json["adminsSeeRevenue"] as? Bool == false)
            #expect(try await revenue(team.practitioner)?["invoicedCents"] as? Int == 11_000, "their own invoice")
            #expect(try await revenue(colleague)?["invoicedCents"] as? Int == 0, "never a colleague's")
            #expect(try await revenue(admin) == nil)
            #expect(try await revenue(team.receptionist) == nil)
            // An admin who also treats gets money as a practitioner: their own, never a colleague's.
            let both = try await app.addMember(to: team.owner, roles: ["admin", "practitioner"])
            #expect(try await revenue(both)?["invoicedCents"] as? Int == 0)
            let asked = try await app.send(.GET, team.path(fixture.query + "&practitionerId=\(team.practitioner.userID)"), as: both)
            #expect(asked.status == .ok && asked.json["revenue"] == nil && asked.json["appointments"] != nil, "\(asked.text)")

            _ = try await app.send(.PUT, team.path("settings/reports"), json: ["adminsSeeRevenue": true], as: team.owner)
            #expect(try await revenue(admin)?["invoicedCents"] as? Int == 11_000)
            // The page's form sets both at once: an unticked box turns its switch off.
            let page = try await app.send(.POST, "/clinics/\(team.clinic)/reports/visibility", as: team.owner,
                                          headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                          rawBody: "csrfToken=\(team.owner.csrfToken)&adminsSeeRevenue=on")
            #expect(page.status == .seeOther)
            let practitionerAfterForm = try await revenue(team.practitioner), adminAfterForm = try await revenue(admin)
            #expect(practitionerAfterForm == nil && adminAfterForm?["invoicedCents"] as? Int == 11_000)

            // From another clinic: 404, and its switches stay as they were.
            let other = try await app.clinicTeam()
            #expect(try await app.send(.PUT, team.path("settings/reports"), json: ["adminsSeeRevenue": false], as: other.owner).status == .notFound)
            #expect(try await app.send(.GET, other.path("settings/reports"), as: other.owner).json["adminsSeeRevenue"] as? Bool == false)
        }
    }

    @Test("voiding an invoice issued before the tallies existed takes nothing back", arguments: [TestDatabase.sqlite])
    func voidBeforeTallies(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let made = try await app.send(.POST, team.path("products"), json: ["name": "Heat pack", "priceCents": 1_000], as: team.owner)
            let product = try #require(made.json["id"] as? String)
            let created = try await app.send(.POST, team.path("invoices"), json: [
                "patientId": team.patientID, "lines": [["productId": product, "quantity": 2]] as [[String: any Sendable]],
            ], as: team.bookkeeper)
            let invoice = try #require(created.json["id"] as? String)
            #expect(try await app.send(.POST, team.path("invoices/\(invoice)/issue"), as: team.bookkeeper).status == .ok)
            // As an invoice issued by the version before: never tallied.
            try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("DELETE FROM product_sales").run()
                try await sql.raw("UPDATE invoices SET sales_tallied = 0").run()
            }
            #expect(try await app.send(.POST, team.path("invoices/\(invoice)/void"), json: ["reason": "entered twice"], as: team.bookkeeper).status == .ok)
            let report = try await app.send(.GET, team.path("kpis?from=\(Self.day(-1))&to=\(Self.day(2))"), as: team.owner)
            #expect(((report.json["revenue"] as? [String: Any])?["byProduct"] as? [[String: Any]])?.isEmpty == true, "\(report.text)")
        }
    }

    // A January report read in June still shows January's debts: money paid after a period
    // ended was owed at its end, on an invoice settled since as on one still open.
    @Test("what was owed at a past period's end counts what was paid after it as owed then", arguments: TestDatabase.allCases)
    func owedAtPastEnd(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let created = try await app.send(.POST, team.path("invoices"), json: [
                "patientId": team.patientID, "lines": [["description": "Visit", "unitCents": 11_000]] as [[String: any Sendable]],
            ], as: team.bookkeeper)
            let invoice = try #require(created.json["id"] as? String, "\(created.text)")
            #expect(try await app.send(.POST, team.path("invoices/\(invoice)/issue"), as: team.bookkeeper).status == .ok)
            // As if issued forty days ago; paid in two parts today, the second settling it.
            let id = try #require(UUID(uuidString: invoice))
            try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("UPDATE invoices SET issued_at_ms = issued_at_ms - \(bind: Int64(40 * 86_400_000)) WHERE id = \(bind: id)").run()
            }
            for cents in [5_000, 6_000] {
                let paid = try await app.send(.POST, team.path("invoices/\(invoice)/payments"), json: ["amountCents": cents, "method": "card"],
                                              as: team.bookkeeper)
                #expect(paid.status == .created, "\(paid.text)")
            }
            func owed(to offset: Int) async throws -> (total: Int?, aged31to60: Int?) {
                let report = try await app.send(.GET, team.path("kpis?from=\(Self.day(-60))&to=\(Self.day(offset))"), as: team.owner)
                return ((report.json["revenue"] as? [String: Any])?["outstandingCents"] as? Int,
                        (report.json["outstandingByAge"] as? [String: Any])?["31-60"] as? Int)
            }
            let fiveDaysAgo = try await owed(to: -5)
            #expect(fiveDaysAgo.total == 11_000 && fiveDaysAgo.aged31to60 == 11_000)
            #expect(try await owed(to: 1).total == 0)
        }
    }
}
