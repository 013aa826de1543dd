import ClinicDomain
import Foundation
import Vapor

/// Case-based access (`CaseAccess`): patients' care teams, break-glass, and the owners' list
/// of every break-glass.
enum CaseAccessAPI {
    static func register(_ api: any RoutesBuilder) {
        let patient = api.grouped("clinics", ":clinicId", "patients", ":patientId")
        patient.inClinic(.GET, "care-team", permission: (.staff, .read), doc: CaseAccessDocs.readCareTeam, use: readCareTeam)
        patient.inClinic(.PUT, "care-team", permission: (.staff, .update), doc: CaseAccessDocs.replaceCareTeam, use: replaceCareTeam)
        patient.inClinic(.POST, "break-glass", permission: (.clinicalNote, .read), doc: CaseAccessDocs.breakGlass, use: breakGlass)
        api.grouped("clinics", ":clinicId", "break-glass")
            .inClinic(.GET, permission: (.auditLog, .read), doc: CaseAccessDocs.listBreakGlass, use: listBreakGlass)
    }

    struct CareTeam: Content { let practitionerIds: [String] }
    struct CareTeamInput: Decodable { let practitionerIds: [String]? }
    struct BreakGlassInput: Decodable { let reason: String? }
    struct Grant: Content {
        let id, patientId, userId, createdAt, expiresAt: String
        /// For owners only: a reason is often clinical, and admins are not clinical staff.
        let reason: String?

        init(_ grant: BreakGlassGrant, showReason: Bool) {
            id = grant.id.uuidString.lowercased()
            patientId = grant.patient.description
            userId = grant.user.description
            reason = showReason ? grant.reason : nil
            createdAt = Timestamp.string(grant.createdAt)
            expiresAt = Timestamp.string(grant.expiresAt)
        }
    }
    struct GrantList: Content { let grants: [Grant] }

    static func readCareTeam(_ request: Request, scope: ClinicScope) async throws -> CareTeam {
        let members = try await CareTeams(scope: scope, services: request.services).members(of: try request.pathID("patientId"))
        return CareTeam(practitionerIds: members.map(\.description))
    }

    static func replaceCareTeam(_ request: Request, scope: ClinicScope) async throws -> CareTeam {
        let patient: PatientID = try request.pathID("patientId")
        guard let ids = try request.decodeBody(CareTeamInput.self).practitionerIds else {
            throw ClinicError.invalid("practitionerIds", "Give the team as a list of practitioners' ids (empty to clear it).", code: "required")
        }
        let practitioners = try ids.map { try BodyValue.id($0, field: "practitionerIds") as UserID }
        let members = try await CareTeams(scope: scope, services: request.services).replace(of: patient, with: practitioners)
        return CareTeam(practitionerIds: members.map(\.description))
    }

    static func breakGlass(_ request: Request, scope: ClinicScope) async throws -> Response {
        let patient: PatientID = try request.pathID("patientId")
        let reason = try request.decodeBody(BreakGlassInput.self).reason
        let grant = try await BreakGlass(scope: scope, services: request.services).open(patient: patient, reason: try CaseAccess.validatedReason(reason))
        return try AppointmentsAPI.created(Grant(grant, showReason: true))
    }

    static func listBreakGlass(_ request: Request, scope: ClinicScope) async throws -> GrantList {
        let grants = try await BreakGlass(scope: scope, services: request.services)
            .list(paging: try request.paging(.records))
        let owner = scope.roles.contains(.owner)
        return GrantList(grants: grants.map { Grant($0, showReason: owner) })
    }
}
