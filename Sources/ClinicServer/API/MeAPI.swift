import ClinicDomain
import Foundation
import Vapor

/// A signed-in person's own sessions and password.
enum MeAPI {
    static func register(_ api: any RoutesBuilder) {
        api.signedIn(.GET, "me", "sessions", doc: OpenAPIDocs.listSessions, use: sessions)
        api.signedIn(.DELETE, "me", "sessions", ":sessionId", doc: OpenAPIDocs.revokeSession, use: revoke)
        api.signedIn(.POST, "me", "password", doc: OpenAPIDocs.changePassword, use: changePassword)
    }

    struct SessionInfo: Content {
        let id: String
        let current: Bool
        let createdAt: String
        let lastSeenAt: String
        let address: String?
        let userAgent: String?
    }

    struct SessionList: Content { let sessions: [SessionInfo] }
    struct PasswordBody: Content { let currentPassword: String?; let newPassword: String? }

    static func sessions(_ request: Request, session: SessionStore.Active) async throws -> SessionList {
        let summaries = try await SessionStore(services: request.services).list(for: session.user)
        return SessionList(sessions: summaries.map {
            SessionInfo(id: $0.id.description, current: $0.id == session.session, createdAt: Timestamp.string($0.createdAt),
                        lastSeenAt: Timestamp.string($0.lastSeenAt), address: $0.address, userAgent: $0.userAgent)
        })
    }

    static func revoke(_ request: Request, session: SessionStore.Active) async throws -> HTTPStatus {
        guard let text = request.parameters.get("sessionId"), let id = SessionID(string: text) else { throw ClinicError.notFound }
        guard try await SessionStore(services: request.services).revoke(id, of: session.user) else { throw ClinicError.notFound }
        let context = request.requestContext
        try await request.services.store.transaction(realm: IdentityRealm.id) { tx in
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "session.revoke", resourceType: "session", resource: id.rawValue), in: tx)
        }
        return .noContent
    }

    /// Needs the current password; every other session of the person ends (ASVS 3.3.3).
    static func changePassword(_ request: Request, session: SessionStore.Active) async throws -> HTTPStatus {
        let body = try request.decodeBody(PasswordBody.self)
        guard let current = body.currentPassword, !current.isEmpty else { throw ClinicError.invalid("currentPassword", "Give your current password.", code: "required") }
        guard let new = body.newPassword else { throw ClinicError.invalid("newPassword", "Choose a new password.", code: "required") }
        let services = request.services
        try services.passwordPolicy.check(new, field: "newPassword")
        let stored = try await services.store.global.raw("SELECT password_hash FROM users WHERE id = \(bind: session.user.rawValue)").first()
        guard let hash = try stored?.decode(column: "password_hash", as: String.self),
              try await services.verifyPassword(current, hash: hash) else {
            throw ClinicError.invalid("currentPassword", "This is not your current password.", code: "invalid_credentials")
        }
        let newHash = try await services.hashPassword(new)
        let context = request.requestContext
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            try await tx.sql.raw("UPDATE users SET password_hash = \(bind: newHash) WHERE id = \(bind: session.user.rawValue)").run()
            let ended = try await SessionStore(services: services).endOthers(of: session.user, keep: session.session, in: tx)
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "password.change", resourceType: "user",
                                                  resource: session.user.rawValue, detail: "sessions-ended=\(ended)"), in: tx)
        }
        return .noContent
    }
}
