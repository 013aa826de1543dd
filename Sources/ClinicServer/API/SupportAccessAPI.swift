import ClinicDomain
import Foundation
import Vapor

/// The clinic's side of support access (`SupportGrants`): the owners see every request and
/// grant, refuse or revoke it.
enum SupportAccessAPI {
    static func register(_ api: any RoutesBuilder) {
        let requests = api.grouped("clinics", ":clinicId", "support-access")
        requests.inClinic(.GET, permission: (.clinicSettings, .read), doc: SupportAccessDocs.list, use: list)
        requests.inClinic(.POST, ":requestId", "grant", permission: (.clinicSettings, .update), doc: SupportAccessDocs.grant,
                          use: { try await decide($0, $1, .granted) })
        requests.inClinic(.POST, ":requestId", "refuse", permission: (.clinicSettings, .update), doc: SupportAccessDocs.refuse,
                          use: { try await decide($0, $1, .refused) })
        requests.inClinic(.POST, ":requestId", "revoke", permission: (.clinicSettings, .update), doc: SupportAccessDocs.revoke,
                          use: { try await decide($0, $1, .revoked) })
    }

    struct SupportRequest: Content {
        let id, operatorName, reason, state, requestedAt: String
        let hours: Int
        let decidedAt, expiresAt, supportUserId: String?
        /// Granted and within its hours: the support identity can be signed in now.
        let active: Bool

        init(_ grant: SupportGrant) {
            id = grant.id.uuidString.lowercased()
            operatorName = grant.operatorName
            reason = grant.reason
            hours = grant.hours
            state = grant.state.rawValue
            requestedAt = Timestamp.string(grant.requestedAt)
            decidedAt = grant.decidedAt.map(Timestamp.string)
            expiresAt = grant.expiresAt.map(Timestamp.string)
            supportUserId = grant.supportUser?.description
            active = grant.admits()
        }
    }

    struct RequestList: Content { let requests: [SupportRequest] }

    static func list(_ request: Request, scope: ClinicScope) async throws -> RequestList {
        RequestList(requests: try await SupportGrants(services: request.services).list(scope: scope).map(SupportRequest.init))
    }

    static func decide(_ request: Request, _ scope: ClinicScope, _ state: SupportAccessState) async throws -> SupportRequest {
        let id = try request.pathUUID("requestId")
        return SupportRequest(try await SupportGrants(services: request.services).decide(id, to: state, scope: scope))
    }
}
