import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// The staff side of messages: the settings form and the chart's list.
@Suite("Communication pages")
struct CommunicationsPageTests {
    @Test("owners set lead times, quiet hours, channels and sender name on a form; the desk may not", arguments: [TestDatabase.sqlite])
    func settingsForm(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let path = "/clinics/\(team.clinic)/settings/communications"
            let blank = try await app.send(.GET, path, as: team.owner)
            #expect(blank.status == .ok)
            #expect(blank.text.contains("value=\"24\"") && blank.text.contains("value=\"20:00\""))
            let saved = try await app.postForm(path, as: team.owner, [("leadHours", "24, 2"), ("quietStart", "21:00"), ("quietEnd", "07:30"),
                                                                      ("channel[]", "email"), ("channel[]", "sms"), ("senderName", "Harbour Clinic")])
            #expect(saved.status == .seeOther, "\(saved.text)")
            let api = try await app.send(.GET, team.path("settings/communications"), as: team.owner)
            #expect(api.json["reminderLeadHours"] as? [Int] == [24, 2])
            #expect(api.json["channels"] as? [String] == ["email", "sms"])
            #expect((api.json["quietHours"] as? [String: Any])?["end"] as? String == "07:30")
            let bad = try await app.postForm(path, as: team.owner, [("leadHours", "soon"), ("quietStart", "21:00"), ("quietEnd", "07:30")])
            #expect(bad.status == .badRequest)
            #expect(bad.text.contains("role=\"alert\""))
            #expect(try await app.send(.GET, path, as: team.receptionist).status == .forbidden)
        }
    }

    @Test("the chart lists what was sent to the patient", arguments: [TestDatabase.sqlite])
    func chartListsMessages(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let chart = "/clinics/\(team.clinic)/patients/\(team.patientID)/chart"
            #expect(try await app.send(.GET, chart, as: team.receptionist).text.contains("No message has been sent"))
            #expect(try await app.book(team, as: team.receptionist, at: "2030-03-04T09:00:00Z").status == .created)
            let page = try await app.send(.GET, chart, as: team.receptionist)
            #expect(page.text.contains("<td>confirmation</td><td>e-mail</td><td>queued"), "\(page.text)")
        }
    }
}
