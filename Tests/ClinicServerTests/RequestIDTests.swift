import ClinicTestSupport
import Foundation
import Testing
import Vapor

/// Security review round 2, A4: the client used to choose the request id that every audit event
/// stores and the response echoes.
@Suite("Request ids")
struct RequestIDTests {
    @Test("the server makes the request id; a client's X-Request-Id reaches neither the answer nor the ledger", arguments: TestDatabase.allCases)
    func serverMakesTheID(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let (patient, _) = try await app.createPatient(owner)
            let chosen = "forged-by-client-\(UUID().uuidString)"
            let read = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(patient)", as: owner, headers: ["X-Request-Id": chosen])
            #expect(read.status == .ok)
            let answered = try #require(read.headers.first(name: "X-Request-Id"))
            #expect(answered != chosen && UUID(uuidString: answered) != nil)
            let audit = try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/audit?patientId=\(patient)", as: owner)
            #expect(!audit.text.contains(chosen))
            let entries = try #require(audit.json["events"] as? [[String: Any]])
            #expect(entries.contains { $0["requestId"] as? String == answered && $0["action"] as? String == "patient.read" })
        }
    }
}
