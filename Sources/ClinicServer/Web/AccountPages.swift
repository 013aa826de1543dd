import ClinicDomain
import Vapor

/// The pages around signing in: the second factor, your sessions, and resetting a password.
enum AccountPages {
    static func register(_ pages: any RoutesBuilder) {
        pages.signingIn(.GET, "login", "mfa", use: secondFactorPage)
        pages.signingIn(.POST, "login", "mfa", use: secondFactor)
        pages.signedIn(.GET, "me", "sessions", use: sessions)
        pages.signedIn(.POST, "me", "sessions", ":sessionId", "revoke", use: revoke)
        pages.signedIn(.POST, "me", "sessions", "revoke-others", use: revokeOthers)
        pages.anyone(.GET, "forgot-password", use: forgotPage)
        pages.anyone(.POST, "forgot-password", use: forgot)
        pages.anyone(.GET, "reset-password", use: resetPage)
        pages.anyone(.POST, "reset-password", use: reset)
    }

    struct SecondFactorForm: Encodable {
        let pendingCsrfToken: String
        var error: String?
    }

    static func secondFactorPage(_ request: Request, session: SessionStore.Active) async throws -> Response {
        guard session.stage == .secondFactor else { return request.redirect(to: "/") }
        return try await request.render("login-mfa", Layout("Authentication code", request: request),
                                        SecondFactorForm(pendingCsrfToken: session.csrfToken))
    }

    struct CodeForm: Content { let code: String? }

    static func secondFactor(_ request: Request, session: SessionStore.Active) async throws -> Response {
        let code = (try request.content.decode(CodeForm.self).code ?? "").prefix(64)
        if case let .signedIn(issued) = try await AuthAPI.completeSecondFactor(code: String(code), session: session, request: request) {
            let response = request.redirect(to: "/")
            response.cookies[SessionStore.cookieName] = .session(issued.token)
            return response
        }
        return try await request.render("login-mfa", Layout("Authentication code", request: request),
                                        SecondFactorForm(pendingCsrfToken: session.csrfToken, error: ClinicError.invalidCode.message),
                                        status: .unauthorized)
    }

    struct SessionRow: Encodable {
        let id: String, current: Bool, createdAt: String, lastSeenAt: String, address: String, userAgent: String
    }

    struct SessionsPage: Encodable { let sessions: [SessionRow] }

    static func sessions(_ request: Request, session: SessionStore.Active) async throws -> Response {
        let list = try await MeAPI.sessions(request, session: session)
        return try await request.render("sessions", Layout("Your sessions", request: request), SessionsPage(sessions: list.sessions.map {
            SessionRow(id: $0.id, current: $0.current, createdAt: $0.createdAt, lastSeenAt: $0.lastSeenAt,
                       address: $0.address ?? "unknown", userAgent: $0.userAgent ?? "unknown")
        }))
    }

    static func revoke(_ request: Request, session: SessionStore.Active) async throws -> Response {
        _ = try await MeAPI.revoke(request, session: session)
        return request.redirect(to: "/me/sessions")
    }

    static func revokeOthers(_ request: Request, session: SessionStore.Active) async throws -> Response {
        _ = try await MeAPI.revokeOthers(request, session: session)
        return request.redirect(to: "/me/sessions")
    }

    struct ForgotForm: Encodable {
        var loginToken: String?
        var sent = false
    }

    static func forgotPage(_ request: Request) async throws -> Response {
        try await Pages.withLoginToken(request) { token in
            try await request.render("forgot-password", Layout("Reset your password", request: request), ForgotForm(loginToken: token))
        }
    }

    struct EmailForm: Content { let email: String? }

    static func forgot(_ request: Request) async throws -> Response {
        try Pages.checkLoginToken(request)
        if let email = try? EmailAddress(parsing: try request.content.decode(EmailForm.self).email ?? "") {
            try await PasswordResetAPI.startReset(for: email, request: request)
        }
        return try await request.render("forgot-password", Layout("Reset your password", request: request), ForgotForm(sent: true))
    }

    struct ResetForm: Encodable {
        let loginToken: String
        let token: String
        var error: String?
    }

    static func resetPage(_ request: Request) async throws -> Response {
        let token = (try? request.query.get(String.self, at: "token")) ?? ""
        return try await Pages.withLoginToken(request) { loginToken in
            try await request.render("reset-password", Layout("Choose a new password", request: request), ResetForm(loginToken: loginToken, token: token))
        }
    }

    struct ResetBody: Content { let token: String?; let newPassword: String? }

    static func reset(_ request: Request) async throws -> Response {
        try Pages.checkLoginToken(request)
        let body = try request.content.decode(ResetBody.self)
        let token = body.token ?? ""
        do {
            try await PasswordResetAPI.completeReset(token: token, newPassword: body.newPassword ?? "", request: request)
            return request.redirect(to: "/login")
        } catch let error as ClinicError where error.status == 400 {
            return try await Pages.withLoginToken(request) { loginToken in
                try await request.render("reset-password", Layout("Choose a new password", request: request),
                                         ResetForm(loginToken: loginToken, token: token, error: error.message), status: .badRequest)
            }
        }
    }
}
