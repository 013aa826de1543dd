@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor

@Suite("Products and stock")
struct ProductTests {
    static func add(_ app: ClinicTestApp, _ team: ClinicTeam, name: String = "Arnica cream", price: Int = 1_850) async throws -> String {
        let created = try await app.send(.POST, team.path("products"), json: ["name": name, "sku": "ARN-50", "priceCents": price], as: team.owner)
        #expect(created.status == .created && created.json["stock"] as? Int == 0 && created.json["gstApplies"] as? Bool == true)
        return try #require(created.json["id"] as? String)
    }

    @Test("owners add and change products; stock moves only by counted changes, never below zero", arguments: TestDatabase.allCases)
    func catalogueAndStock(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let id = try await Self.add(app, team)
            let product = team.path("products/\(id)")
            let changed = try await app.send(.PATCH, product, json: ["priceCents": 1_990, "gstApplies": false, "stock": 500], as: team.owner)
            #expect(changed.status == .ok && changed.json["priceCents"] as? Int == 1_990 && changed.json["gstApplies"] as? Bool == false)
            #expect(changed.json["stock"] as? Int == 0)
            let received = try await app.send(.POST, product + "/stock", json: ["change": 5, "reason": "received"], as: team.receptionist)
            #expect(received.status == .ok && received.json["stock"] as? Int == 5)
            let oversold = try await app.send(.POST, product + "/stock", json: ["change": -6, "reason": "sold"], as: team.receptionist)
            #expect(oversold.status == .conflict && oversold.errorCode == "stock_insufficient")
            #expect(try await app.send(.GET, product, as: team.bookkeeper).json["stock"] as? Int == 5)
            let sold = try await app.send(.POST, product + "/stock", json: ["change": -5, "reason": "sold"], as: team.bookkeeper)
            #expect(sold.status == .ok && sold.json["stock"] as? Int == 0)
            let events = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("""
                    SELECT action, outcome, detail FROM audit_events
                    WHERE chain_id = \(bind: UUID(uuidString: team.clinic)!) AND action LIKE 'product.%' ORDER BY sequence
                    """).all().map { "\(try $0.decode(column: "action", as: String.self)) \(try $0.decode(column: "outcome", as: String.self)) \(try $0.decode(column: "detail", as: String?.self) ?? "")" }
            }
            #expect(events == ["product.create success ", "product.update success fields=priceCents,gstApplies",
                               "product.stock success change=5 reason=received stock=5", "product.stock failure change=-6 reason=sold",
                               "product.stock success change=-5 reason=sold stock=0"])
        }
    }

    @Test("twelve sales of the last three units at once: exactly three succeed and the stock ends at zero", arguments: TestDatabase.allCases)
    func concurrentSales(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let stock = team.path("products/\(try await Self.add(app, team))/stock")
            #expect(try await app.send(.POST, stock, json: ["change": 3, "reason": "received"], as: team.owner).status == .ok)
            let statuses = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await app.send(.POST, stock, json: ["change": -1, "reason": "sold"], as: team.receptionist).status }
                }
                return try await group.reduce(into: [HTTPStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 3 && statuses.filter { $0 == .conflict }.count == 9)
            let products = try await app.send(.GET, team.path("products"), as: team.owner).json["products"] as? [[String: Any]]
            #expect(products?.first?["stock"] as? Int == 0)
        }
    }

    @Test("prices and stock changes are checked; practitioners cannot change stock nor receptionists prices; retired products leave the list", arguments: [TestDatabase.sqlite])
    func inputAndRoles(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let bad: [([String: any Sendable], String)] = [(["name": "X"], "priceCents"), (["name": "X", "priceCents": -1], "priceCents"),
                                                          (["priceCents": 100], "name"), (["name": "X", "priceCents": 1, "sku": String(repeating: "s", count: 65)], "sku")]
            for (body, field) in bad {
                let answer = try await app.send(.POST, team.path("products"), json: body, as: team.owner)
                #expect(answer.status == .badRequest && answer.errorField == field, "\(body)")
            }
            let id = try await Self.add(app, team)
            let stock = team.path("products/\(id)/stock")
            #expect(try await app.send(.POST, stock, json: ["change": 0, "reason": "counted"], as: team.owner).errorField == "change")
            #expect(try await app.send(.POST, stock, json: ["change": 1_000_000, "reason": "received"], as: team.owner).status == .ok)
            #expect(try await app.send(.POST, stock, json: ["change": 1, "reason": "received"], as: team.owner).errorCode == "stock_limit")
            #expect(try await app.send(.POST, stock, json: ["change": 2, "reason": "found"], as: team.owner).errorField == "reason")
            #expect(try await app.send(.POST, stock, json: ["change": 1, "reason": "received"], as: team.practitioner).status == .forbidden)
            #expect(try await app.send(.PATCH, team.path("products/\(id)"), json: ["priceCents": 1], as: team.receptionist).status == .forbidden)
            #expect(try await app.send(.PATCH, team.path("products/\(id)"), json: ["active": false], as: team.owner).status == .ok)
            #expect((try await app.send(.GET, team.path("products"), as: team.practitioner).json["products"] as? [Any])?.isEmpty == true)
            #expect((try await app.send(.GET, team.path("products?includeInactive=true"), as: team.practitioner).json["products"] as? [Any])?.count == 1)
            let other = try await app.signUpClinic()
            #expect(try await app.send(.GET, "/api/v1/clinics/\(other.clinicID)/products/\(id)", as: other).status == .notFound)
            #expect(try await app.send(.POST, "/api/v1/clinics/\(other.clinicID)/products/\(id)/stock",
                                       json: ["change": 1, "reason": "received"], as: other).status == .notFound)
        }
    }
}
