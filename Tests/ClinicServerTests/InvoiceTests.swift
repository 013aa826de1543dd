@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Invoices and payments")
struct InvoiceTests {
    /// A product in the catalogue: $22.00 with GST.
    static func product(_ app: ClinicTestApp, _ team: ClinicTeam) async throws -> String {
        let created = try await app.send(.POST, team.path("products"), json: ["name": "Heat pack", "priceCents": 2_200], as: team.owner)
        return try #require(created.json["id"] as? String)
    }

    /// A draft for the team's patient: the appointment type ($95, GST-free) and two heat packs.
    static func draft(_ app: ClinicTestApp, _ team: ClinicTeam, as session: TestSession? = nil) async throws -> [String: Any] {
        let product = try await Self.product(app, team)
        let created = try await app.send(.POST, team.path("invoices"), json: [
            "patientId": team.patientID, "practitionerId": team.practitioner.userID,
            "lines": [["appointmentTypeId": team.typeID], ["productId": product, "quantity": 2]] as [[String: any Sendable]],
        ], as: session ?? team.bookkeeper)
        try #require(created.status == .created, "\(created.text)")
        return created.json
    }

    @Test("a draft takes names and prices from the catalogue, adds GST of one eleventh on taxable lines, and changes until issued",
          arguments: TestDatabase.allCases)
    func draftFromCatalogue(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let invoice = try await Self.draft(app, team)
            #expect(invoice["status"] as? String == "draft" && invoice["number"] == nil)
            let lines = try #require(invoice["lines"] as? [[String: Any]])
            #expect(lines.map { $0["description"] as? String } == ["Standard consultation", "Heat pack"])
            #expect(lines.map { $0["totalCents"] as? Int } == [9_500, 4_400] && lines.map { $0["gstCents"] as? Int } == [0, 400])
            #expect(invoice["totalCents"] as? Int == 13_900 && invoice["gstCents"] as? Int == 400 && invoice["balanceCents"] as? Int == 13_900)
            let id = try #require(invoice["id"] as? String)
            let changed = try await app.send(.PATCH, team.path("invoices/\(id)"), json: [
                "lines": [["description": "Report for insurer", "unitCents": 3_300, "gstApplies": true]] as [[String: any Sendable]],
                "notes": "Paid by the fund"], as: team.bookkeeper)
            #expect(changed.status == .ok && changed.json["totalCents"] as? Int == 3_300 && changed.json["gstCents"] as? Int == 300)
            #expect(changed.json["notes"] as? String == "Paid by the fund" && changed.json["practitionerId"] as? String == team.practitioner.userID)
        }
    }

    @Test("issuing numbers the invoice and locks it: no route changes it afterwards", arguments: TestDatabase.allCases)
    func issuedIsLocked(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try #require(try await Self.draft(app, team)["id"] as? String)
            let issued = try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper)
            #expect(issued.status == .ok && issued.json["status"] as? String == "issued" && issued.json["number"] as? Int == 1)
            #expect(issued.json["issuedAt"] as? String != nil)
            let change = try await app.send(.PATCH, team.path("invoices/\(id)"), json: ["notes": "changed"], as: team.owner)
            #expect(change.status == .conflict && change.errorCode == "invoice_locked")
            #expect(try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.owner).errorCode == "invoice_locked")
            let read = try await app.send(.GET, team.path("invoices/\(id)"), as: team.owner)
            #expect(read.json["notes"] == nil && read.json["totalCents"] as? Int == 13_900 && read.json["number"] as? Int == 1)
        }
    }

    @Test("the practitioner's provider number of the day is printed on the invoice when it is issued", arguments: [TestDatabase.sqlite])
    func providerNumber(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let member = team.path("staff/\(team.practitioner.userID)/provider-number")
            #expect(try await app.send(.PUT, member, json: ["providerNumber": "2123456A!"], as: team.owner).errorField == "providerNumber")
            #expect(try await app.send(.PUT, team.path("staff/\(team.receptionist.userID)/provider-number"), json: ["providerNumber": "2123456A"],
                                       as: team.owner).errorField == "providerNumber")
            #expect(try await app.send(.PUT, member, json: ["providerNumber": "2123456a"], as: team.owner).status == .noContent)
            let staff = try await app.send(.GET, team.path("staff"), as: team.owner).json["staff"] as? [[String: Any]] ?? []
            #expect(staff.first { $0["userId"] as? String == team.practitioner.userID }?["providerNumber"] as? String == "2123456A")
            let id = try #require(try await Self.draft(app, team)["id"] as? String)
            let issued = try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper)
            #expect(issued.json["providerNumber"] as? String == "2123456A")
            #expect(try await app.send(.PUT, member, json: ["providerNumber": ""], as: team.owner).status == .noContent)
            #expect(try await app.send(.GET, team.path("invoices/\(id)"), as: team.bookkeeper).json["providerNumber"] as? String == "2123456A")
        }
    }

    @Test("six drafts issued at once take the numbers 1 to 6, each once", arguments: TestDatabase.allCases)
    func concurrentNumbers(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            var ids: [String] = []
            for _ in 0..<6 { ids.append(try #require(try await Self.draft(app, team)["id"] as? String)) }
            let numbers = try await withThrowingTaskGroup(of: Int?.self) { group in
                for id in ids {
                    group.addTask { try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper).json["number"] as? Int }
                }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            #expect(numbers.compactMap { $0 }.sorted() == Array(1...6))
        }
    }

    @Test("payments settle an issued invoice; more than is owed is refused, even when sent at once", arguments: TestDatabase.allCases)
    func payments(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try #require(try await Self.draft(app, team)["id"] as? String)
            let pay = team.path("invoices/\(id)/payments")
            #expect(try await app.send(.POST, pay, json: ["amountCents": 100, "method": "cash"], as: team.bookkeeper).errorCode == "invoice_not_issued")
            #expect(try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper).status == .ok)
            // Total 13,900: eight payments of 5,000 at once; exactly two fit.
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await app.send(.POST, pay, json: ["amountCents": 5_000, "method": "eftpos"], as: team.bookkeeper).status }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 2 && statuses.filter { $0 == .conflict }.count == 6)
            let settled = try await app.send(.POST, pay, json: ["amountCents": 3_900, "method": "card", "reference": "R-77"], as: team.owner)
            #expect(settled.status == .created && settled.json["status"] as? String == "paid" && settled.json["balanceCents"] as? Int == 0)
            let payments = try #require(settled.json["payments"] as? [[String: Any]])
            #expect(payments.count == 3 && payments.last?["reference"] as? String == "R-77")
            #expect(try await app.send(.POST, pay, json: ["amountCents": 1, "method": "cash"], as: team.owner).errorCode == "invoice_not_issued")
            #expect(try await app.send(.POST, team.path("invoices/\(id)/void"), json: ["reason": "x"], as: team.owner).errorCode == "invoice_has_payments")
        }
    }

    @Test("a void invoice keeps its number and reason; one with payments cannot be voided", arguments: [TestDatabase.sqlite])
    func voiding(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try #require(try await Self.draft(app, team)["id"] as? String)
            #expect(try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper).status == .ok)
            #expect(try await app.send(.POST, team.path("invoices/\(id)/void"), json: [:] as [String: String], as: team.bookkeeper).errorField == "reason")
            let void = try await app.send(.POST, team.path("invoices/\(id)/void"), json: ["reason": "Billed twice"], as: team.bookkeeper)
            #expect(void.status == .ok && void.json["status"] as? String == "void" && void.json["number"] as? Int == 1)
            #expect(void.json["voidReason"] as? String == "Billed twice" && void.json["balanceCents"] as? Int == 0)
            #expect(try await app.send(.POST, team.path("invoices/\(id)/payments"), json: ["amountCents": 1, "method": "cash"],
                                       as: team.owner).errorCode == "invoice_not_issued")
            let listed = try await app.send(.GET, team.path("invoices?status=void"), as: team.owner).json["invoices"] as? [[String: Any]]
            #expect(listed?.map { $0["id"] as? String } == [id])
        }
    }

    // DC-11: clinical staff and the front desk never see what the clinic earns
    @Test("only owners and bookkeepers reach invoices: practitioners, receptionists and admins are refused", arguments: [TestDatabase.sqlite])
    func financeRoles(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try #require(try await Self.draft(app, team, as: team.owner)["id"] as? String)
            for session in [team.practitioner, team.receptionist] {
                #expect(try await app.send(.GET, team.path("invoices"), as: session).status == .forbidden)
                #expect(try await app.send(.GET, team.path("invoices/\(id)"), as: session).status == .forbidden)
                #expect(try await app.send(.POST, team.path("invoices/\(id)/issue"), as: session).status == .forbidden)
                #expect(try await app.send(.POST, team.path("invoices"), json: ["patientId": team.patientID], as: session).status == .forbidden)
            }
            #expect(try await app.send(.GET, team.path("invoices/\(id)"), as: team.bookkeeper).status == .ok)
        }
    }

    @Test("bad lines are refused and named: none, unknown ids, both kinds, no price, quantities", arguments: [TestDatabase.sqlite])
    func badInput(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let bad: [([[String: any Sendable]], String)] = [
                ([], "lines"),
                ([["appointmentTypeId": UUID().uuidString]], "lines[0].appointmentTypeId"),
                ([["productId": "not-an-id"]], "lines[0].productId"),
                ([["productId": UUID().uuidString, "appointmentTypeId": team.typeID]], "lines[0]"),
                ([["description": "Report"]], "lines[0].unitCents"),
                ([["unitCents": 100]], "lines[0].description"),
                ([["appointmentTypeId": team.typeID, "quantity": 0]], "lines[0].quantity"),
                ([["description": "Line\u{2028}break", "unitCents": 1]], "lines[0].description"),
            ]
            for (lines, field) in bad {
                let answer = try await app.send(.POST, team.path("invoices"), json: ["patientId": team.patientID, "lines": lines], as: team.bookkeeper)
                #expect(answer.status == .badRequest && answer.errorField == field, "\(lines): \(answer.text)")
            }
            let noPatient = try await app.send(.POST, team.path("invoices"), json: ["patientId": UUID().uuidString, "lines": [["description": "X", "unitCents": 1]] as [[String: any Sendable]]],
                                               as: team.bookkeeper)
            #expect(noPatient.errorField == "patientId")
            let notPractitioner = try await app.send(.POST, team.path("invoices"), json: [
                "patientId": team.patientID, "practitionerId": team.receptionist.userID, "lines": [["description": "X", "unitCents": 1]] as [[String: any Sendable]]], as: team.bookkeeper)
            #expect(notPractitioner.errorField == "practitionerId")
            for (amount, method, field) in [(0, "cash", "amountCents"), (100, "cheque", "method")] as [(Int, String, String)] {
                let id = try #require(try await Self.draft(app, team)["id"] as? String)
                #expect(try await app.send(.POST, team.path("invoices/\(id)/payments"), json: ["amountCents": amount, "method": method],
                                           as: team.bookkeeper).errorField == field)
            }
        }
    }

    // DAO-5, POR-2: what an invoice says was done is sealed at rest; every read is in the ledger
    @Test("lines, notes and payment references are sealed at rest, and reads name the patient in the ledger", arguments: TestDatabase.allCases)
    func sealedAndAudited(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let secret = Canary.word("Inv")
            let created = try await app.send(.POST, team.path("invoices"), json: [
                "patientId": team.patientID, "notes": "Note " + secret,
                "lines": [["description": "Treatment " + secret, "unitCents": 5_000]] as [[String: any Sendable]]], as: team.bookkeeper)
            let id = try #require(created.json["id"] as? String)
            #expect(try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper).status == .ok)
            #expect(try await app.send(.POST, team.path("invoices/\(id)/payments"), json: ["amountCents": 5_000, "method": "insurer", "reference": "Claim " + secret],
                                       as: team.bookkeeper).status == .created)
            #expect(try await app.send(.GET, team.path("invoices/\(id)"), as: team.owner).status == .ok)
            let stored = try await app.asOwner(realm: team.clinic) { sql in
                let invoice = try await sql.raw("SELECT lines, notes FROM invoices").all()
                let payment = try await sql.raw("SELECT reference FROM payments").all()
                return try invoice.flatMap { [try $0.decode(column: "lines", as: Data.self), try $0.decode(column: "notes", as: Data.self)] }
                    + payment.map { try $0.decode(column: "reference", as: Data.self) }
            }
            #expect(stored.count == 3)
            for bytes in stored { #expect(bytes.first == 1 && !bytes.contains(Data(secret.utf8))) }
            let events = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("""
                    SELECT action, detail FROM audit_events WHERE chain_id = \(bind: UUID(uuidString: team.clinic)!) AND action LIKE 'invoice.%' ORDER BY sequence
                    """).all().map { "\(try $0.decode(column: "action", as: String.self)) \(try $0.decode(column: "detail", as: String?.self) ?? "")" }
            }
            #expect(events == ["invoice.create patient=\(team.patientID)", "invoice.issue patient=\(team.patientID) number=1 total=5000",
                               "invoice.pay patient=\(team.patientID) amount=5000 method=insurer", "invoice.read patient=\(team.patientID)"])
        }
    }

    @Test("another clinic's invoice is not found, for reading, changing, issuing, paying or voiding", arguments: TestDatabase.allCases)
    func otherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.signUpClinic()
            let id = try #require(try await Self.draft(app, team)["id"] as? String)
            for base in ["/api/v1/clinics/\(other.clinicID)/invoices/\(id)", team.path("invoices/\(id)")] {
                #expect(try await app.send(.GET, base, as: other).status == .notFound)
                #expect(try await app.send(.PATCH, base, json: ["notes": "x"], as: other).status == .notFound)
                #expect(try await app.send(.POST, base + "/issue", as: other).status == .notFound)
                #expect(try await app.send(.POST, base + "/payments", json: ["amountCents": 1, "method": "cash"], as: other).status == .notFound)
                #expect(try await app.send(.POST, base + "/void", json: ["reason": "x"], as: other).status == .notFound)
            }
            #expect(try await app.send(.GET, team.path("invoices/\(id)"), as: team.owner).json["status"] as? String == "draft")
        }
    }
}
