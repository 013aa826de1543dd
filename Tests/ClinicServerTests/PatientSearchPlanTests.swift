import ClinicDomain
import ClinicTestSupport
import Foundation
import Keyring
import NIOConcurrencyHelpers
import SQLKit
import Testing
@testable import ClinicServer

/// Search must not scan (issue 9: a search at 100,000 patients within 1.5 times its figure at
/// 1,000). SQLite's plan for each search statement, read with EXPLAIN QUERY PLAN: it starts from
/// the search's own index, never from the clinic's patients in date order or from all of the
/// clinic's name tokens.
@Suite("Patient search plans")
struct PatientSearchPlanTests {
    static func plan(of filter: PatientFilter) async throws -> String {
        let realm = UUID()
        let keys = try RealmKeys(realm: realm, dataKeys: [DataKey.generate(version: .first)], current: .first,
                                 indexKey: BlindIndexKey.generate(version: .first))
        let query = try #require(PatientRepository.listQuery(filter, realm: realm, keys: keys))
        let plan = NIOLockedValueBox("")
        try await ClinicTestApp.with(.sqlite) { app in
            let rows = try await app.serverConnectionWithoutRealm.raw("EXPLAIN QUERY PLAN \(query)").all()
            let lines = try rows.map { try $0.decode(column: "detail", as: String.self) }
            plan.withLockedValue { $0 = lines.joined(separator: "\n") }
        }
        return plan.withLockedValue { $0 }
    }

    @Test("a phone search starts from the phone index")
    func phone() async throws {
        var filter = PatientFilter()
        filter.phone = try PhoneNumber(parsing: "0412 345 678", country: .australia)
        let plan = try await Self.plan(of: filter)
        #expect(plan.contains("patients_by_phone"), "\(plan)")
        #expect(!plan.contains("patients_by_created"), "\(plan)")
    }

    @Test("an e-mail search starts from the e-mail index")
    func email() async throws {
        var filter = PatientFilter()
        filter.email = try EmailAddress(parsing: "ada@example.org")
        let plan = try await Self.plan(of: filter)
        #expect(plan.contains("patients_by_email"), "\(plan)")
        #expect(!plan.contains("patients_by_created"), "\(plan)")
    }

    @Test("a name search looks up each token by its key and reads only the patients it names")
    func name() async throws {
        var filter = PatientFilter()
        filter.nameQuery = "ada lovelace"
        let plan = try await Self.plan(of: filter)
        #expect(plan.contains("(clinic_id=? AND token_index=?)"), "\(plan)")
        #expect(!plan.contains("patient_name_tokens_by_patient"), "\(plan)")
        #expect(!plan.contains("patients_by_created"), "\(plan)")
    }

    @Test("the plain list still walks the date index, so it stops at the page's end")
    func list() async throws {
        let plan = try await Self.plan(of: PatientFilter())
        #expect(plan.contains("patients_by_created"), "\(plan)")
    }
}
