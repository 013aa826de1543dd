import ClinicDomain
import Foundation
import Vapor

/// Every break-glass in the clinic, newest first: what the owners review (with the reasons)
/// and admins see (without them, since a reason is often clinical).
enum BreakGlassPages {
    static func register(_ clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "break-glass", permission: (.auditLog, .read), use: show)
    }

    struct Row: Encodable {
        let opened, expires, userId, patientId: String
        let reason: String?
        let open: Bool
    }

    struct PageContent: Encodable {
        let rows: [Row]
        let empty: Bool
        let showReasons: Bool
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        let clock = PageClock(scope), now = Date(), owner = scope.roles.contains(.owner)
        let grants = try await BreakGlass(scope: scope, services: request.services).list(paging: Paging(limit: 200))
        let rows = grants.map {
            Row(opened: clock.time($0.createdAt), expires: clock.time($0.expiresAt), userId: $0.user.description,
                patientId: $0.patient.description, reason: owner ? $0.reason : nil, open: $0.expiresAt > now)
        }
        return try await request.render("break-glass", Layout("Break-glass", request: request, scope: scope),
                                        PageContent(rows: rows, empty: rows.isEmpty, showReasons: owner))
    }
}
