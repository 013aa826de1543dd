import Foundation
import Testing
import Vapor

/// A clinic with one person in each working role, a patient and an appointment type: what
/// most tests of the clinic's day start from.
public struct ClinicTeam: Sendable {
    public let owner: TestSession
    public let practitioner: TestSession
    public let receptionist: TestSession
    public let bookkeeper: TestSession
    public let patientID: String
    public let typeID: String

    public var clinic: String { owner.clinicID }
    public func path(_ rest: String) -> String { "/api/v1/clinics/\(owner.clinicID)/\(rest)" }
}

extension ClinicTestApp {
    public func clinicTeam() async throws -> ClinicTeam {
        let owner = try await signUpClinic()
        let practitioner = try await addMember(to: owner, roles: ["practitioner"])
        let receptionist = try await addMember(to: owner, roles: ["receptionist"])
        let bookkeeper = try await addMember(to: owner, roles: ["bookkeeper"])
        let (patientID, _) = try await createPatient(owner)
        let typeID = try await createAppointmentType(owner, minutes: 30)
        // New clinics narrow a practitioner's reads to patients they are involved with; the
        // team's practitioner is on its patient's care team, as a clinic would set it up.
        try await joinCareTeam(owner, patient: patientID, practitioners: [practitioner.userID])
        return ClinicTeam(owner: owner, practitioner: practitioner, receptionist: receptionist, bookkeeper: bookkeeper,
                          patientID: patientID, typeID: typeID)
    }

    public func createAppointmentType(_ session: TestSession, name: String = "Standard consultation", minutes: Int) async throws -> String {
        let response = try await send(.POST, "/api/v1/clinics/\(session.clinicID)/appointment-types",
                                      json: ["name": name, "durationMinutes": minutes, "priceCents": 9500], as: session)
        try #require(response.status == .created, "type answered \(response.status): \(response.text)")
        return try #require(response.json["id"] as? String)
    }

    /// Replaces a patient's care team, as `session` (an owner or admin).
    public func joinCareTeam(_ session: TestSession, patient: String, practitioners: [String]) async throws {
        let response = try await send(.PUT, "/api/v1/clinics/\(session.clinicID)/patients/\(patient)/care-team",
                                      json: ["practitionerIds": practitioners], as: session)
        try #require(response.status == .ok, "care team answered \(response.status): \(response.text)")
    }

    /// Books `team`'s patient with `practitioner` at `start` (ISO 8601), as `session`.
    public func book(_ team: ClinicTeam, as session: TestSession, practitioner: String? = nil, at start: String,
                     minutes: Int? = nil) async throws -> TestResponse {
        var body: [String: any Sendable] = ["patientId": team.patientID, "practitionerId": practitioner ?? team.practitioner.userID,
                                            "appointmentTypeId": team.typeID, "startsAt": start]
        if let minutes { body["durationMinutes"] = minutes }
        return try await send(.POST, team.path("appointments"), json: body, as: session)
    }

    /// Starts a consultation note for `team`'s patient as its practitioner; answers its id.
    public func startConsultation(_ team: ClinicTeam, note: [String: any Sendable]) async throws -> String {
        var body = note
        body["patientId"] = team.patientID
        let response = try await send(.POST, team.path("consultations"), json: body, as: team.practitioner)
        try #require(response.status == .created, "consultation answered \(response.status): \(response.text)")
        return try #require(response.json["id"] as? String)
    }
}
