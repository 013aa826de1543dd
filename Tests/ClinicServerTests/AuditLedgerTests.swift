import ClinicTestSupport
import Foundation
import SQLKit
import Testing
import Vapor
@testable import ClinicServer

@Suite("Audit ledger")
struct AuditLedgerServerTests {
    func events(_ app: ClinicTestApp, _ owner: TestSession, _ query: String = "") async throws -> [[String: Any]] {
        let response = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/audit\(query)", as: owner)
        try #require(response.status == .ok, "\(response.text)")
        return response.json["events"] as? [[String: Any]] ?? []
    }

    // PRX-8, POR-8, DC-19
    @Test("every patient read, search, create, update and delete leaves an event naming the patient", arguments: TestDatabase.allCases)
    func everyAccessRecorded(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, sent) = try await app.createPatient(owner)
            let base = "/api/v1/clinics/\(owner.clinicID)/patients"
            _ = try await app.send(.GET, "\(base)/\(id)", as: owner)
            _ = try await app.send(.GET, "\(base)?q=\((sent["familyName"] as! String).lowercased())", as: owner)
            _ = try await app.send(.PATCH, "\(base)/\(id)", json: ["address": "9 Elm St"], as: owner)
            _ = try await app.send(.DELETE, "\(base)/\(id)", as: owner)
            let about = try await events(app, owner, "?patientId=\(id)")
            #expect(about.compactMap { $0["action"] as? String } == ["patient.create", "patient.read", "patient.search", "patient.update", "patient.delete"])
            #expect(about.allSatisfy { $0["actorId"] as? String == owner.userID })
            #expect(about.first { $0["action"] as? String == "patient.update" }?["detail"] as? String == "fields=address")
        }
    }

    @Test("events carry ids, never personal data", arguments: TestDatabase.allCases)
    func noPersonalData(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (_, sent) = try await app.createPatient(owner)
            _ = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients?q=\((sent["givenName"] as! String).lowercased())", as: owner)
            let text = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/audit", as: owner).text
            for value in sent.values.compactMap({ $0 as? String }) + [owner.email] {
                #expect(!text.contains(value))
            }
        }
    }

    @Test("sign-in attempts, failed or not, are recorded in the identity chain", arguments: TestDatabase.allCases)
    func signInsRecorded(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await app.send(.POST, "/api/v1/auth/login", json: ["email": owner.email, "password": "wrong wrong wrong"])
            let rows = try await app.services.store.transaction(realm: IdentityRealm.id) { tx in
                try await tx.sql.raw("""
                    SELECT outcome FROM audit_events WHERE chain_id = \(bind: IdentityRealm.id) AND action = 'auth.login' AND actor_id = \(bind: UUID(uuidString: owner.userID)!)
                    """).all().map { try $0.decode(column: "outcome", as: String.self) }
            }
            #expect(rows.sorted() == ["failure", "success"])
        }
    }

    @Test("an untouched ledger verifies", arguments: TestDatabase.allCases)
    func verifies(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            _ = try await app.createPatient(owner)
            let report = try await app.verifyLedger(clinic: owner.clinicID)
            #expect(report.fault == nil)
            #expect(report.totalEntries >= 3)
        }
    }

    enum Tamper: String, CaseIterable, Sendable { case edit, delete, swap, truncate }

    // PRX-8: tamper-evident
    @Test("editing, deleting, swapping or truncating ledger rows is caught and named",
          arguments: TestDatabase.allCases, Tamper.allCases)
    func tamperCaught(_ database: TestDatabase, _ tamper: Tamper) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, _) = try await app.createPatient(owner)
            for _ in 0..<3 { _ = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", as: owner) }
            let chain = UUID(uuidString: owner.clinicID)!
            try await app.asTamperer(realm: owner.clinicID) { sql in
                switch tamper {
                case .edit:
                    try await sql.raw("UPDATE audit_events SET action = 'patient.list' WHERE chain_id = \(bind: chain) AND sequence = 4").run()
                case .delete:
                    try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence = 4").run()
                case .swap:
                    try await sql.raw("UPDATE audit_events SET sequence = -1 WHERE chain_id = \(bind: chain) AND sequence = 4").run()
                    try await sql.raw("UPDATE audit_events SET sequence = 4 WHERE chain_id = \(bind: chain) AND sequence = 5").run()
                    try await sql.raw("UPDATE audit_events SET sequence = 5 WHERE chain_id = \(bind: chain) AND sequence = -1").run()
                case .truncate:
                    try await sql.raw("DELETE FROM audit_events WHERE chain_id = \(bind: chain) AND sequence >= 5").run()
                }
            }
            let fault = try #require(try await app.verifyLedger(clinic: owner.clinicID).fault)
            #expect(fault.chain == chain)
            #expect(fault.sequence == (tamper == .truncate ? 5 : 4))
        }
    }

    @Test("concurrent requests of one clinic never fork its chain", arguments: TestDatabase.allCases)
    func concurrentAppends(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (id, _) = try await app.createPatient(owner)
            // On a loaded two-core machine a SQLite request may wait past the pool's 30 s and get
            // the documented 503 (busy, retry later): it read nothing and appended nothing.
            let read = try await withThrowingTaskGroup(of: HTTPStatus.self) { group in
                for _ in 0..<16 {
                    group.addTask { try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(id)", as: owner).status }
                }
                var read = 0
                for try await status in group {
                    #expect(status == .ok || status == .serviceUnavailable)
                    if status == .ok { read += 1 }
                }
                return read
            }
            #expect(read > 0)
            let report = try await app.verifyLedger(clinic: owner.clinicID)
            #expect(report.fault == nil)
            #expect(report.totalEntries == 2 + 1 + read) // clinic and membership creation, the patient, the reads
        }
    }

    @Test("the audit API is refused to those without the permission, and that refusal is itself recorded")
    func deniedRecorded() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let clerk = try await app.signUpClinic()
            // Make the second person a receptionist of the first clinic (staff invitations come with the identity issue).
            try await app.serverConnectionWithoutRealm.raw("""
                INSERT INTO memberships (clinic_id, user_id, roles, created_at_ms)
                VALUES (\(bind: UUID(uuidString: owner.clinicID)!), \(bind: UUID(uuidString: clerk.userID)!), 'receptionist', 0)
                """).run()
            let response = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/audit", as: clerk)
            #expect(response.status == .forbidden)
            let denied = try await events(app, owner).filter { $0["action"] as? String == "access.denied" }
            #expect(denied.count == 1)
            #expect(denied.first?["actorId"] as? String == clerk.userID)
        }
    }

    // Issue 6, DC-19: every denied request on tenant data is recorded, on every route
    @Test("every clinic route answers an outsider 404 and records the probe in that clinic's chain", arguments: TestDatabase.allCases)
    func outsidersRecordedOnEveryRoute(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let outsider = try await app.signUpClinic()
            let clinic = UUID(uuidString: owner.clinicID)!
            var walked = 0
            for route in app.app.routes.all where route.path.contains(where: { $0.description == ":clinicId" }) {
                let path = "/" + route.path.map { component -> String in
                    switch component {
                    case .parameter("clinicId"): owner.clinicID
                    case .parameter: UUID().uuidString.lowercased()
                    default: component.description
                    }
                }.joined(separator: "/")
                let before = try await app.chainLength(clinic)
                let response = try await app.send(route.method, path, json: RequestGuards.unsafeMethods.contains(route.method) ? [:] : nil, as: outsider)
                #expect(response.status == .notFound, "\(route.method) \(path): \(response.status)")
                #expect(try await app.chainLength(clinic) == before + 1, "\(route.method) \(path) left no event")
                walked += 1
            }
            #expect(walked >= 30)
            let probes = try await events(app, owner, "?userId=\(outsider.userID)")
            #expect(probes.count == walked)
            #expect(probes.allSatisfy { $0["action"] as? String == "access.denied" && $0["outcome"] as? String == "denied" && $0["detail"] as? String == "not-a-member" })
        }
    }
}

/// Security review round 2, A5: anyone could flood the permanent ledger with refusals.
@Suite("Repeated refusals in the ledger")
struct RepeatedRefusalTests {
    @Test("an outsider's repeated probe of one route is one entry a minute, the first kept, with a count", arguments: TestDatabase.allCases)
    func probesCoalesced(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let outsider = try await app.signUpClinic()
            let clinic = try #require(UUID(uuidString: owner.clinicID))
            // One entry a minute: the probes below take a second or two, but the PostgreSQL suites
            // run side by side on two cores, so the test counts the minutes they really spanned.
            func minutes(since start: Date) -> Int { Int(Date().timeIntervalSince(start) / 60) + 1 }
            let before = try await app.chainLength(clinic)
            let ownClinic = Date()
            for _ in 0..<6 {
                #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients", as: outsider).status == .notFound)
            }
            let added = try await app.chainLength(clinic) - before
            #expect(added >= 1 && added <= Int64(minutes(since: ownClinic)))
            // Made-up clinic ids, one after another: one entry in the identity chain, not six.
            let madeUp = Date()
            for _ in 0..<6 {
                #expect(try await app.send(.GET, "/api/v1/clinics/\(UUID().uuidString.lowercased())/patients", as: outsider).status == .notFound)
            }
            let spanned = minutes(since: madeUp)
            let outsiderID = try #require(UUID(uuidString: outsider.userID))
            let recorded = try await app.services.store.transaction(realm: IdentityRealm.id) { tx in
                try await tx.sql.raw("""
                    SELECT sequence FROM audit_events WHERE chain_id = \(bind: IdentityRealm.id) AND actor_id = \(bind: outsiderID) AND action = 'access.denied'
                    """).all().count
            }
            #expect(recorded >= 1 && recorded <= spanned)
        }
    }

    @Test("the count of what was not recorded rides on the next entry")
    func countCarried() {
        let events = RepeatedEvents(window: 60)
        let start = Date()
        #expect(events.admit("x", now: start).record)
        for second in 1...4 { #expect(!events.admit("x", now: start.addingTimeInterval(Double(second))).record) }
        let next = events.admit("x", now: start.addingTimeInterval(61))
        #expect(next.record && next.repeated == 4)
        #expect(RepeatedEvents.detail("not-a-member", repeated: next.repeated) == "not-a-member repeated=4")
        #expect(events.admit("y", now: start.addingTimeInterval(2)).record)
    }
}
