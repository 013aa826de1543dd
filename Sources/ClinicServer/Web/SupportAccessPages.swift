import ClinicDomain
import Foundation
import Vapor

/// The operator's requests for support access, for the owners to decide (admins see them).
enum SupportAccessPages {
    static func register(_ clinic: any RoutesBuilder) {
        let requests = clinic.grouped("support-access")
        requests.inClinic(.GET, permission: (.clinicSettings, .read), use: show)
        let decisions: [(path: String, state: SupportAccessState)] = [("grant", .granted), ("refuse", .refused), ("revoke", .revoked)]
        for (action, state) in decisions {
            requests.inClinic(.POST, ":requestId", PathComponent(stringLiteral: action), permission: (.clinicSettings, .update)) { request, scope in
                try await decide(request, scope, state)
            }
        }
    }

    struct Row: Encodable {
        let id, operatorName, reason, hours, state, requested: String
        let until: String?
        let canGrant, canRevoke: Bool
    }

    struct PageContent: Encodable {
        let rows: [Row]
        let empty: Bool
        let canDecide: Bool
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        let clock = PageClock(scope), owner = scope.may(.clinicSettings, .update)
        let rows = try await SupportGrants(services: request.services).list(scope: scope).map { grant in
            Row(id: grant.id.uuidString.lowercased(), operatorName: grant.operatorName, reason: grant.reason, hours: String(grant.hours),
                state: grant.state == .granted && !grant.admits() ? "ended" : grant.state.rawValue, requested: clock.time(grant.requestedAt),
                until: grant.state == .granted ? grant.expiresAt.map(clock.time) : nil,
                canGrant: owner && grant.state == .requested, canRevoke: owner && grant.admits())
        }
        return try await request.render("support-access", Layout("Support access", request: request, scope: scope),
                                        PageContent(rows: rows, empty: rows.isEmpty, canDecide: owner))
    }

    static func decide(_ request: Request, _ scope: ClinicScope, _ state: SupportAccessState) async throws -> Response {
        let id = try request.pathUUID("requestId")
        _ = try await SupportGrants(services: request.services).decide(id, to: state, scope: scope)
        return request.redirect(to: "/clinics/\(scope.clinic)/support-access")
    }
}
