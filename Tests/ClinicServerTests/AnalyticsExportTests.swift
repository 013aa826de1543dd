import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// POR-11: the analytics export carries pseudonymised, banded visits only, and no description
/// that fewer than k patients share.
@Suite("Pseudonymised analytics export")
struct AnalyticsExportTests {
    struct Fixture {
        let team: ClinicTeam
        /// Every personal value the clinic holds about its patients.
        let personal: [String]
        var path: String { team.path("analytics/export") }
    }

    /// Five women of 45 to 49 from Sydney (2000, NSW), each with one completed visit and an issued
    /// invoice of 110.00; one man of 75 from Perth and the team's patient (no sex or postcode),
    /// each with a visit too: two descriptions too rare to share, widened to nothing and still
    /// under 5, so their visits are left out. A booked future visit is not a visit.
    static func fixture(_ app: ClinicTestApp) async throws -> Fixture {
        let team = try await app.clinicTeam()
        let allWeek = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].map {
            ["weekday": $0, "starts": "00:00", "ends": "24:00"] as [String: any Sendable]
        }
        let hours = try await app.send(.PUT, team.path("practitioners/\(team.practitioner.userID)/hours"), json: ["hours": allWeek], as: team.owner)
        try #require(hours.status == .ok, "\(hours.text)")
        var personal: [String] = []
        var patients: [String] = [team.patientID]
        let born = Calendar(identifier: .gregorian).component(.year, from: Date()) - 47
        for index in 0..<6 {
            let woman = index < 5
            let fields: [String: any Sendable] = [
                "givenName": Canary.word("Gv"), "familyName": Canary.word("Fm"), "email": Canary.email(),
                "birthDate": woman ? "\(born)-0\(index + 1)-1\(index)" : "\(born - 28)-07-04",
                "sex": woman ? "female" : "male", "postcode": woman ? "2000" : "6000",
                "medicareNumber": Canary.medicare(), "address": "\(index + 10) \(Canary.word("St")) Road",
            ]
            let (id, _) = try await app.createPatient(team.owner, fields)
            personal += fields.filter { !["sex", "postcode"].contains($0.key) }.compactMap { $0.value as? String }
            patients.append(id)
        }
        for (index, patient) in patients.enumerated() {
            let start = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 - Double(index + 2) * 86_400) / 3600).rounded(.down) * 3600))
            let booked = try await app.send(.POST, team.path("appointments"), json: [
                "patientId": patient, "practitionerId": team.practitioner.userID, "appointmentTypeId": team.typeID, "startsAt": start,
            ], as: team.receptionist)
            try #require(booked.status == .created, "\(booked.text)")
            let appointment = try #require(booked.json["id"] as? String)
            let done = try await app.send(.POST, team.path("appointments/\(appointment)/status"), json: ["status": "completed"], as: team.receptionist)
            try #require(done.status == .ok, "\(done.text)")
            let invoice = try await app.send(.POST, team.path("invoices"), json: [
                "patientId": patient, "practitionerId": team.practitioner.userID, "appointmentId": appointment,
                "lines": [["description": "Visit", "unitCents": 11_000, "gstApplies": true]] as [[String: any Sendable]],
            ], as: team.bookkeeper)
            try #require(invoice.status == .created, "\(invoice.text)")
            let id = try #require(invoice.json["id"] as? String)
            let issued = try await app.send(.POST, team.path("invoices/\(id)/issue"), as: team.bookkeeper)
            try #require(issued.status == .ok, "\(issued.text)")
        }
        let future = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: ((Date().timeIntervalSince1970 + 3 * 86_400) / 3600).rounded(.down) * 3600))
        let later = try await app.send(.POST, team.path("appointments"), json: [
            "patientId": patients[1], "practitionerId": team.practitioner.userID, "appointmentTypeId": team.typeID, "startsAt": future,
        ], as: team.receptionist)
        try #require(later.status == .created, "\(later.text)")
        return Fixture(team: team, personal: personal)
    }

    static func rows(_ response: TestResponse) -> [[String]] {
        response.text.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    }

    @Test("one banded row per visit, only descriptions five patients share, nothing that names anyone", arguments: TestDatabase.allCases)
    func bandedRows(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let response = try await app.send(.GET, fixture.path, as: fixture.team.owner)
            try #require(response.status == .ok, "\(response.text)")
            #expect(response.headers.contentType?.subType == "csv")
            let rows = Self.rows(response)
            #expect(rows.first == ["patient", "ageBand", "sex", "region", "month", "appointmentType", "practitioner", "outcome", "invoiced"])
            let visits = rows.dropFirst()
            #expect(visits.count == 5)
            #expect(Set(visits.map(\.[0])).count == 5)
            #expect(visits.allSatisfy { $0[1] == "45-49" && $0[2] == "female" && $0[3] == "NSW" && $0[7] == "attended" && $0[8] == "100-199" })
            #expect(visits.allSatisfy { $0[4].count == 7 && $0[6].hasPrefix("pr-") })
            #expect(response.headers.first(name: "X-Patients-Left-Out") == "2")
            for value in fixture.personal + [fixture.team.patientID, fixture.team.practitioner.userID] {
                #expect(!response.text.contains(value), "the export holds \(value)")
            }
        }
    }

    @Test("two exports cannot be joined: every pseudonym is new", arguments: [TestDatabase.sqlite])
    func freshPseudonyms(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let first = Self.rows(try await app.send(.GET, fixture.path, as: fixture.team.owner)).dropFirst()
            let second = Self.rows(try await app.send(.GET, fixture.path, as: fixture.team.owner)).dropFirst()
            #expect(first.count == 5 && second.count == 5)
            #expect(Set(first.map(\.[0])).isDisjoint(with: second.map(\.[0])))
            #expect(Set(first.map(\.[6])).isDisjoint(with: second.map(\.[6])))
        }
    }

    @Test("owners only, and each export is an audit event counting what left", arguments: [TestDatabase.sqlite])
    func ownersOnlyAndAudited(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            for session in [fixture.team.practitioner, fixture.team.receptionist, fixture.team.bookkeeper] {
                #expect(try await app.send(.GET, fixture.path, as: session).status == .forbidden)
            }
            #expect(try await app.send(.GET, fixture.path, as: fixture.team.owner).status == .ok)
            let audit = try await app.send(.GET, fixture.team.path("audit"), as: fixture.team.owner)
            let events = audit.json["events"] as? [[String: Any]] ?? []
            let exported = events.filter { $0["action"] as? String == "analytics.export" }
            #expect(exported.count == 1)
            #expect(exported.first?["detail"] as? String == "visits=5 patients=5 left_out=2 k=5")
        }
    }

    @Test("from another clinic: 404, and its own export holds none of this clinic's visits", arguments: TestDatabase.allCases)
    func fromAnotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let fixture = try await Self.fixture(app)
            let other = try await app.clinicTeam()
            #expect(try await app.send(.GET, fixture.path, as: other.owner).status == .notFound)
            let theirs = try await app.send(.GET, other.path("analytics/export"), as: other.owner)
            try #require(theirs.status == .ok)
            #expect(Self.rows(theirs).count == 1)
        }
    }
}
