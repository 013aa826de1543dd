import ClinicDomain
import ClinicTestSupport
import Foundation
import Vapor
import Testing
@testable import ClinicServer

/// DAO-17 (part): a clinic takes its records anywhere as CSV, kind by kind
/// (`GET …/exports/{kind}.csv`): the API's columns, sealed fields opened, spreadsheet formulas
/// neutralised, each kind behind the read permission of what it holds, every export recorded.
@Suite("CSV exports")
struct ExportTests {
    /// The file's lines, without the final line break.
    static func lines(_ response: TestResponse) -> [String] {
        response.text.components(separatedBy: "\r\n").dropLast().map { $0 }
    }

    @Test("the patients file has the API's columns and each patient as the API shows them", arguments: TestDatabase.allCases)
    func patientsAsTheAPIShowsThem(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let shown = try await app.send(.GET, team.path("patients/\(team.patientID)"), as: team.owner)
            try #require(shown.status == .ok, "\(shown.text)")

            let export = try await app.send(.GET, team.path("exports/patients.csv"), as: team.owner)

            #expect(export.status == .ok, "\(export.text)")
            #expect(export.headers.first(name: .contentType)?.hasPrefix("text/csv") == true)
            #expect(export.headers.first(name: "X-Export-Rows") == "1")
            let lines = Self.lines(export)
            #expect(lines.first == ExportKind.patients.header.joined(separator: ","))
            #expect(lines.count == 2, "\(lines)")
            let row = lines.last ?? ""
            // Whole cells, as the API gives them: a phone in E.164 keeps its "+".
            let cells = Set(row.components(separatedBy: ","))
            for field in ["id", "givenName", "familyName", "birthDate", "phone", "email", "medicareNumber"] {
                let value = try #require(shown.json[field] as? String, "\(field)")
                #expect(cells.contains(value), "\(field) \(value) not a cell of \(row)")
            }
        }
    }

    @Test("a cell a spreadsheet would run as a formula is quoted and prefixed", arguments: [TestDatabase.sqlite])
    func formulaNeutralised(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let made = try await app.send(.POST, team.path("products"), json: ["name": "=1+2", "sku": "@SUM(A1)", "priceCents": 100], as: team.owner)
            try #require(made.status == .created, "\(made.text)")

            let export = try await app.send(.GET, team.path("exports/products.csv"), as: team.owner)

            #expect(export.status == .ok)
            let row = try #require(Self.lines(export).last)
            #expect(row.contains(",\"'=1+2\",\"'@SUM(A1)\",100,"), "\(row)")
        }
    }

    @Test("every row comes out once, in pages that each start after the last", arguments: TestDatabase.allCases)
    func pagesCoverEveryRowOnce(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            var made: Set<String> = []
            for number in 1...5 {
                let product = try await app.send(.POST, team.path("products"), json: ["name": "Item \(number)", "priceCents": number * 100], as: team.owner)
                made.insert(try #require(product.json["id"] as? String, "\(product.text)"))
            }
            let export = ClinicExport(scope: IntegrationSecretTests.scope(app, team.owner), services: app.services, pageSize: 2)

            var seen: [String] = []
            var after: UUID?
            var pages = 0
            repeat {
                let page = try await export.page(.products, after: after)
                seen += page.rows.map { $0[0] }
                after = page.next
                pages += 1
            } while after != nil

            #expect(seen.count == 5 && Set(seen) == made, "\(seen)")
            #expect(pages == 3)
        }
    }

    @Test("a file of people is for owners and admins; the formulary for those who read it", arguments: [TestDatabase.sqlite])
    func permissionPerKind(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let admin = try await app.addMember(to: team.owner, roles: ["admin"])
            func status(_ kind: String, _ session: TestSession) async throws -> HTTPStatus {
                try await app.send(.GET, team.path("exports/\(kind).csv"), as: session).status
            }
            // Those who run the clinic take its records away.
            #expect(try await status("patients", team.owner) == .ok)
            #expect(try await status("patients", admin) == .ok)
            // The desk reads patients and the diary a page at a time, but takes no file of them;
            // the formulary it may not even read.
            #expect(try await status("patients", team.receptionist) == .forbidden)
            #expect(try await status("appointments", team.receptionist) == .forbidden)
            #expect(try await status("formulas", team.receptionist) == .forbidden)
            // The formulary is its practitioners'; a bookkeeper has no use for herbs.
            #expect(try await status("herbs", team.practitioner) == .ok)
            #expect(try await status("patients", team.practitioner) == .forbidden)
            #expect(try await status("herbs", team.bookkeeper) == .forbidden)
            #expect(try await status("nothing", team.owner) == .notFound)
        }
    }

    @Test("herbs: one row per herb of every formula", arguments: [TestDatabase.sqlite])
    func herbLines(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let formula = try await app.send(.POST, team.path("formulas"), json: [
                "name": "Gui Pi Tang", "herbs": [["herb": "Huang Qi", "grams": 12], ["herb": "Dang Gui", "grams": 4.5]] as [[String: any Sendable]],
            ], as: team.practitioner)
            let id = try #require(formula.json["id"] as? String, "\(formula.text)")

            let export = try await app.send(.GET, team.path("exports/herbs.csv"), as: team.practitioner)

            #expect(Self.lines(export) == ["formulaId,formulaName,herb,grams", "\(id),Gui Pi Tang,Huang Qi,12", "\(id),Gui Pi Tang,Dang Gui,4.5"])
            #expect(export.headers.first(name: "X-Export-Rows") == "2")
        }
    }

    @Test("bom=true starts the file with a byte order mark; another value is refused", arguments: [TestDatabase.sqlite])
    func byteOrderMark(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let marked = try await app.send(.GET, team.path("exports/products.csv?bom=true"), as: team.owner)
            #expect(Array(marked.body.prefix(3)) == [0xEF, 0xBB, 0xBF])
            let plain = try await app.send(.GET, team.path("exports/products.csv"), as: team.owner)
            #expect(plain.text.hasPrefix("id,name,"))
            let wrong = try await app.send(.GET, team.path("exports/products.csv?bom=yes"), as: team.owner)
            #expect(wrong.status == .badRequest && wrong.errorField == "bom", "\(wrong.text)")
        }
    }

    @Test("from another clinic: 404, and nothing of this clinic in that clinic's own file", arguments: TestDatabase.allCases)
    func fromAnotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.clinicTeam()

            let theirs = try await app.send(.GET, team.path("exports/patients.csv"), as: other.owner)
            let own = try await app.send(.GET, other.path("exports/patients.csv"), as: other.owner)

            #expect(theirs.status == .notFound)
            #expect(own.status == .ok && !own.text.contains(team.patientID) && own.text.contains(other.patientID))
        }
    }
}
