import ClinicDomain
import Foundation
import Vapor

/// A signed-in person's own sessions and password.
enum MeAPI {
    static func register(_ api: any RoutesBuilder) {
        api.signedIn(.GET, "me", "sessions", doc: OpenAPIDocs.listSessions, use: sessions)
        api.signedIn(.DELETE, "me", "sessions", ":sessionId", doc: OpenAPIDocs.revokeSession, use: revoke)
        api.signedIn(.DELETE, "me", "sessions", doc: OpenAPIDocs.revokeOtherSessions, use: revokeOthers)
        api.signedIn(.POST, "me", "password", doc: OpenAPIDocs.changePassword, use: changePassword)
        api.signedIn(.POST, "me", "totp", doc: OpenAPIDocs.beginTOTP, use: beginTOTP)
        api.signedIn(.POST, "me", "totp", "confirm", doc: OpenAPIDocs.confirmTOTP, use: confirmTOTP)
        api.signedIn(.POST, "me", "totp", "disable", doc: OpenAPIDocs.disableTOTP, use: disableTOTP)
        api.signedIn(.POST, "me", "recovery-codes", doc: OpenAPIDocs.regenerateRecoveryCodes, use: regenerateRecoveryCodes)
    }

    struct Ended: Content { let ended: Int }
    struct TOTPEnrolment: Content { let secret: String; let otpauthUrl: String }
    struct RecoveryCodes: Content { let recoveryCodes: [String] }
    struct PasswordOnly: Content { let password: String? }

    /// Ends every session of yours but this one.
    static func revokeOthers(_ request: Request, session: SessionStore.Active) async throws -> Ended {
        let services = request.services, context = request.requestContext
        let ended = try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let ended = try await SessionStore(services: services).endOthers(of: session.user, keep: session.session, in: tx)
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "session.revoke-others", resourceType: "user",
                                                  resource: session.user.rawValue, detail: "sessions-ended=\(ended)"), in: tx)
            return ended
        }
        return Ended(ended: ended)
    }

    /// Needs the password again (review round 2, A13): a stolen session alone cannot enrol an
    /// authenticator of its own and lock the owner out.
    static func beginTOTP(_ request: Request, session: SessionStore.Active) async throws -> Response {
        let body = try request.decodeBody(PasswordOnly.self)
        guard let password = body.password, !password.isEmpty else { throw ClinicError.invalid("password", "Give your password.", code: "required") }
        try await requireCurrentPassword(password, of: session.user, field: "password", request: request)
        guard let person = try await IdentityDirectory(services: request.services).person(session.user) else { throw ClinicError.notSignedIn }
        let enrolment = try await SecondFactors(services: request.services).beginEnrolment(of: session.user, email: person.email,
                                                                                            context: request.requestContext)
        let response = Response(status: .created)
        try response.content.encode(TOTPEnrolment(secret: enrolment.secret, otpauthUrl: enrolment.otpauthURL))
        return response
    }

    static func confirmTOTP(_ request: Request, session: SessionStore.Active) async throws -> RecoveryCodes {
        let body = try request.decodeBody(AuthAPI.CodeBody.self)
        guard let code = body.code, !code.isEmpty, code.count <= 64 else {
            throw ClinicError.invalid("code", "Give the 6-digit code your authenticator app shows.", code: "required")
        }
        guard let codes = try await SecondFactors(services: request.services).confirmEnrolment(of: session.user, session: session.session, code: code,
                                                                                                context: request.requestContext) else {
            throw ClinicError.invalid("code", "This code does not match; check the app's clock and try the newest code.", code: "invalid_code")
        }
        return RecoveryCodes(recoveryCodes: codes)
    }

    /// Turning the second factor off needs the password again (ASVS 2.8.x re-authentication).
    static func disableTOTP(_ request: Request, session: SessionStore.Active) async throws -> HTTPStatus {
        let body = try request.decodeBody(PasswordOnly.self)
        guard let password = body.password, !password.isEmpty else { throw ClinicError.invalid("password", "Give your password.", code: "required") }
        try await requireCurrentPassword(password, of: session.user, field: "password", request: request)
        try await SecondFactors(services: request.services).disable(for: session.user, context: request.requestContext)
        return .noContent
    }

    /// New recovery codes (the old ones, used or not, stop working) need the password again:
    /// a stolen session must not mint a way past the second factor.
    static func regenerateRecoveryCodes(_ request: Request, session: SessionStore.Active) async throws -> RecoveryCodes {
        let body = try request.decodeBody(PasswordOnly.self)
        guard let password = body.password, !password.isEmpty else { throw ClinicError.invalid("password", "Give your password.", code: "required") }
        try await requireCurrentPassword(password, of: session.user, field: "password", request: request)
        guard let codes = try await SecondFactors(services: request.services).regenerateRecoveryCodes(of: session.user,
                                                                                                     context: request.requestContext) else {
            throw ClinicError.conflict("totp_not_enrolled", "Set up an authenticator app first; recovery codes come with it.")
        }
        return RecoveryCodes(recoveryCodes: codes)
    }

    /// Re-authentication: the person's own password, counted against the same per-account
    /// throttle as sign-in so a stolen session cannot guess it.
    static func requireCurrentPassword(_ password: String, of user: UserID, field: String, request: Request) async throws {
        let services = request.services
        let throttle = SignInThrottle(services: services)
        let directory = IdentityDirectory(services: services)
        let subjects = try await throttle.subjects([(.reauthentication, user.description)])
        if case let .refused(retryAfter) = try await throttle.admit(subjects) {
            try await directory.recordThrottled(action: "auth.reauthenticate", context: request.requestContext)
            throw ClinicError.tooManyAttempts(retryAfter: retryAfter)
        }
        let stored = try await services.store.global.raw("SELECT password_hash FROM users WHERE id = \(bind: user.rawValue)").first()
        guard let hash = try stored?.decode(column: "password_hash", as: String.self),
              try await services.verifyPassword(password, hash: hash) else {
            // A wrong password from inside a session is a sign of a stolen one: recorded, and counted.
            let context = request.requestContext
            try await services.store.transaction(realm: IdentityRealm.id) { tx in
                try await Ledger.append(context.event(chain: IdentityRealm.id, action: "auth.reauthenticate", resourceType: "user",
                                                      resource: user.rawValue, outcome: .failure), in: tx)
            }
            if try await throttle.failed(subjects[0]) {
                try await directory.recordLockout(of: user, email: nil, detail: "reauthentication", context: context)
            }
            throw ClinicError.invalid(field, "This is not your current password.", code: "invalid_credentials")
        }
        try await throttle.succeeded(subjects[0])
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
        let id = try request.pathID("sessionId", as: SessionID.self)
        guard try await SessionStore(services: request.services).revoke(id, of: session.user) else { throw ClinicError.notFound }
        let context = request.requestContext
        try await request.services.store.transaction(realm: IdentityRealm.id) { tx in
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "session.revoke", resourceType: "session", resource: id.rawValue), in: tx)
        }
        return .noContent
    }

    /// Needs the current password; every other session of the person ends (ASVS 3.3.3), and
    /// every reset link still outstanding is spent (review round 2, A18).
    static func changePassword(_ request: Request, session: SessionStore.Active) async throws -> HTTPStatus {
        let body = try request.decodeBody(PasswordBody.self)
        guard let current = body.currentPassword, !current.isEmpty else { throw ClinicError.invalid("currentPassword", "Give your current password.", code: "required") }
        guard let new = body.newPassword else { throw ClinicError.invalid("newPassword", "Choose a new password.", code: "required") }
        let services = request.services
        let minimum = try await IdentityDirectory(services: services).passwordMinimum(for: session.user)
        try await services.checkNewPassword(new, field: "newPassword", minimumLength: minimum)
        try await requireCurrentPassword(current, of: session.user, field: "currentPassword", request: request)
        let newHash = try await services.hashPassword(new)
        let context = request.requestContext
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            try await tx.sql.raw("UPDATE users SET password_hash = \(bind: newHash) WHERE id = \(bind: session.user.rawValue)").run()
            let ended = try await SessionStore(services: services).endOthers(of: session.user, keep: session.session, in: tx)
            let links = try await PasswordResets.spendAll(of: session.user, in: tx)
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "password.change", resourceType: "user",
                                                  resource: session.user.rawValue, detail: "sessions-ended=\(ended) reset-links-spent=\(links)"), in: tx)
        }
        return .noContent
    }
}
