import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// The unsubscribe link of reminders: no sign-in, one purpose, one patient, one clinic.
@Suite("Unsubscribe links")
struct UnsubscribeTests {
    /// A token of `ids`' clinic and patient with `code`'s code: 32 bytes of ids, 32 of code.
    static func spliced(ids: String, code: String) -> String {
        func bytes(_ token: String) -> Data {
            Data(base64Encoded: token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "==")!
        }
        let joined = bytes(ids).prefix(32) + bytes(code).suffix(32)
        return joined.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private func kinds(_ app: ClinicTestApp, _ team: ClinicTeam) async throws -> [String] {
        let listed = try await app.send(.GET, team.path("patients/\(team.patientID)/messages"), as: team.owner)
        return (listed.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["kind"] as? String }
    }

    @Test("the page asks first; the button (or a one-click POST) stops e-mail, recorded as the patient's own change",
          arguments: TestDatabase.allCases)
    func stopsEmail(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let token = try await app.unsubscribeToken(clinic: team.clinic, patient: team.patientID)
            let page = try await app.send(.GET, "/unsubscribe?token=\(token)")
            #expect(page.status == .ok)
            #expect(page.text.contains("Stop appointment e-mails?"))
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").status == .created)
            #expect(try await kinds(app, team) == ["confirmation"], "opening the page changed nothing")

            let done = try await app.send(.POST, "/unsubscribe?token=\(token)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                          rawBody: "List-Unsubscribe=One-Click")
            #expect(done.status == .ok, "\(done.text)")
            #expect(done.text.contains("will not e-mail you"))
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-05T09:00:00Z").status == .created)
            #expect(try await kinds(app, team) == ["confirmation"], "no e-mail after unsubscribing")
            let audit = try await app.send(.GET, team.path("audit?patientId=\(team.patientID)"), as: team.owner)
            let events = audit.json["events"] as? [[String: Any]] ?? []
            #expect(events.contains { $0["action"] as? String == "patient.unsubscribe" && $0["actorId"] == nil })
        }
    }

    @Test("an altered token, or one moved to another patient, is not valid and changes nothing", arguments: [TestDatabase.sqlite])
    func alteredToken(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let token = try await app.unsubscribeToken(clinic: team.clinic, patient: team.patientID)
            var altered = Array(token)
            altered[80] = altered[80] == "A" ? "B" : "A"
            let (otherPatient, _) = try await app.createPatient(team.owner)
            let theirs = try await app.unsubscribeToken(clinic: team.clinic, patient: otherPatient)
            // The other patient's ids with this patient's code.
            let swapped = Self.spliced(ids: theirs, code: token)
            for bad in [String(altered), swapped, "not-a-token", ""] {
                #expect(try await app.send(.GET, "/unsubscribe?token=\(bad)").status == .notFound)
                #expect(try await app.send(.POST, "/unsubscribe?token=\(bad)").status == .notFound)
            }
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").status == .created)
            #expect(try await kinds(app, team) == ["confirmation"])
        }
    }

    @Test("a token made by another clinic does not work for this one", arguments: [TestDatabase.sqlite])
    func fromAnotherClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let other = try await app.clinicTeam()
            let foreign = try await app.unsubscribeToken(clinic: other.clinic, patient: other.patientID)
            let ours = try await app.unsubscribeToken(clinic: team.clinic, patient: team.patientID)
            // Our clinic and patient, the other clinic's code for its own patient.
            let forged = Self.spliced(ids: ours, code: foreign)
            #expect(try await app.send(.POST, "/unsubscribe?token=\(forged)").status == .notFound)
        }
    }
}
