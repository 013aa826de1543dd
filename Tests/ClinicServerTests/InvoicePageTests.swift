@testable import ClinicServer
import ClinicTestSupport
import Foundation
import Testing
import Vapor

@Suite("Invoice and staff pages")
struct InvoicePageTests {
    @Test("a bookkeeper bills a visit from the chart, issues the invoice and settles it through the pages; mistakes come back on the form",
          arguments: TestDatabase.allCases)
    func billAVisit(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let booked = try await app.book(team, as: team.receptionist, at: "2031-05-14T09:00:00Z")
            let appointment = try #require(booked.json["id"] as? String)
            let chart = try await app.send(.GET, "/clinics/\(team.clinic)/patients/\(team.patientID)/chart", as: team.bookkeeper)
            #expect(chart.text.contains("New invoice") && chart.text.contains("/invoices\""))
            let form = "/clinics/\(team.clinic)/patients/\(team.patientID)/invoices/new"
            #expect(try await app.send(.GET, form, as: team.bookkeeper).text.contains(appointment))
            let badAmount = try await app.postForm(form, as: team.bookkeeper, [("appointmentId", appointment), ("description", "Heat pack"), ("amount", "22 dollars")])
            #expect(badAmount.status == .badRequest && badAmount.text.contains("Give the line&#39;s amount") && badAmount.text.contains("value=\"Heat pack\""))
            let saved = try await app.postForm(form, as: team.bookkeeper, [("appointmentId", appointment), ("description", "Heat pack"),
                                                                           ("amount", "$22"), ("gstApplies", "on")])
            #expect(saved.status == .seeOther)
            let page = try #require(saved.headers.first(name: .location))
            let draft = try await app.send(.GET, page, as: team.bookkeeper)
            #expect(draft.text.contains("Draft invoice") && draft.text.contains("$95.00") && draft.text.contains("$117.00") && draft.text.contains("$2.00"))
            #expect(!draft.text.contains("<script") && draft.text.contains("name=\"csrfToken\""))
            #expect(try await app.postForm(page + "/issue", as: team.bookkeeper, []).status == .seeOther)
            let issued = try await app.send(.GET, page, as: team.bookkeeper)
            #expect(issued.text.contains("Invoice 1") && issued.text.contains("value=\"117.00\"") && !issued.text.contains("/issue\""))
            let over = try await app.postForm(page + "/payments", as: team.bookkeeper, [("amount", "200"), ("method", "cash")])
            #expect(over.status == .conflict && over.text.contains("more than is owed"))
            #expect(try await app.postForm(page + "/payments", as: team.bookkeeper, [("amount", "17"), ("method", "cash")]).status == .seeOther)
            #expect(try await app.postForm(page + "/payments", as: team.bookkeeper, [("amount", "100.00"), ("method", "eftpos"),
                                                                                    ("reference", "EFT 7")]).status == .seeOther)
            let paid = try await app.send(.GET, page, as: team.bookkeeper)
            #expect(paid.text.contains("<dd id=\"invoice-status\">paid</dd>") && paid.text.contains("EFT 7") && !paid.text.contains("/payments\""))
            let listed = try await app.send(.GET, "/clinics/\(team.clinic)/invoices?status=paid", as: team.owner)
            #expect(listed.text.contains(page.components(separatedBy: "/").last!))
        }
    }

    // DC-11: the clinicians and the desk never see what the clinic earns
    @Test("practitioners and receptionists see no invoices: not in the menu, not on the chart, and the pages are refused",
          arguments: [TestDatabase.sqlite])
    func noRevenueForOthers(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let created = try await app.send(.POST, team.path("invoices"), json: ["patientId": team.patientID,
                                                                                  "lines": [["appointmentTypeId": team.typeID]]], as: team.owner)
            let invoice = try #require(created.json["id"] as? String)
            for session in [team.practitioner, team.receptionist] {
                let chart = try await app.send(.GET, "/clinics/\(team.clinic)/patients/\(team.patientID)/chart", as: session)
                #expect(chart.status == .ok && !chart.text.contains("Invoices") && !chart.text.contains("$95.00"))
                #expect(try await app.send(.GET, "/clinics/\(team.clinic)/invoices", as: session).status == .forbidden)
                let page = try await app.send(.GET, "/clinics/\(team.clinic)/invoices/\(invoice)", as: session)
                #expect(page.status == .forbidden && !page.text.contains("$95.00"))
                #expect(try await app.send(.GET, "/clinics/\(team.clinic)/patients/\(team.patientID)/invoices/new", as: session).status == .forbidden)
                #expect(try await app.postForm("/clinics/\(team.clinic)/invoices/\(invoice)/issue", as: session, []).status == .forbidden)
            }
        }
    }

    @Test("the owner invites on the staff page; the link it shows joins once, on the invitation page", arguments: [TestDatabase.sqlite])
    func inviteThroughPages(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let staff = "/clinics/\(owner.clinicID)/staff"
            let noRole = try await app.postForm(staff, as: owner, [("name", "Kai Moana"), ("email", "kai@bay.example")])
            #expect(noRole.status == .badRequest && noRole.text.contains("Give at least one role") && noRole.text.contains("value=\"Kai Moana\""))
            let invited = try await app.postForm(staff, as: owner, [("name", "Kai Moana"), ("email", "kai@bay.example"), ("roles[]", "practitioner")])
            #expect(invited.status == .ok && invited.text.contains("kai@bay.example"))
            let token = try #require(firstMatch(#"/invitations/accept\?token=([A-Za-z0-9_-]+)"#, in: invited.text))
            let form = try await app.send(.GET, "/invitations/accept?token=\(token)")
            let loginToken = try #require(form.setCookie("__Host-clinickeep-login")?.value)
            let headers: HTTPHeaders = ["Content-Type": "application/x-www-form-urlencoded", "Cookie": "__Host-clinickeep-login=\(loginToken)"]
            let body = "token=\(token)&loginToken=\(loginToken)&password=harbour+lantern+9+slowly+drift"
            let forged = try await app.send(.POST, "/invitations/accept", headers: ["Content-Type": "application/x-www-form-urlencoded"], rawBody: body)
            #expect(forged.status == .forbidden, "without the login cookie another site could make a browser accept")
            let joined = try await app.send(.POST, "/invitations/accept", headers: headers, rawBody: body)
            #expect(joined.status == .seeOther && joined.headers.first(name: .location) == "/login")
            #expect(try await app.send(.POST, "/invitations/accept", headers: headers, rawBody: body).status == .notFound)
            let members = try await app.send(.GET, staff, as: owner)
            #expect(members.text.contains("Kai Moana") && members.text.contains("Provider number of Kai Moana"))
            let member = try #require(firstMatch(#"/staff/([0-9a-f-]{36})/provider-number"#, in: members.text))
            #expect(try await app.postForm(staff + "/\(member)/provider-number", as: owner, [("providerNumber", "2123456A")]).status == .seeOther)
            #expect(try await app.send(.GET, staff, as: owner).text.contains("value=\"2123456A\""))
        }
    }

    @Test("amounts typed in dollars become cents; anything else is not an amount")
    func dollarsToCents() {
        let read = ["22": 2_200, "$22": 2_200, "22.5": 2_250, "22.05": 2_205, "1,033.50": 103_350, " 0.99 ": 99]
        for (text, cents) in read { #expect(PageFormat.cents(text) == cents, "\(text)") }
        for text in ["", "abc", "22.555", ".5", "1e3", "-5", "22.", "99999999", "٣٣", "1,5", "33,50", "1,0335", ",100"] { #expect(PageFormat.cents(text) == nil, "\(text)") }
        #expect(PageFormat.money(103_350) == "$1033.50" && PageFormat.money(5) == "$0.05")
        #expect(PageFormat.money(5_000_000_000_00) == "$5000000000.00", "beyond 32 bits")
    }
}
