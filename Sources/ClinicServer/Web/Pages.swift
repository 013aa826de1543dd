import ClinicDomain
import Vapor

/// The staff pages: plain HTML forms, no script, a CSRF token in every form.
enum Pages {
    static let loginCookie = "__Host-clinickeep-login"

    static func register(_ app: any RoutesBuilder) {
        let pages = app.grouped(PageErrorMiddleware())
        pages.anyone(.GET, use: home)
        pages.anyone(.GET, "login", use: loginPage)
        pages.anyone(.POST, "login", use: login)
        pages.signingIn(.POST, "logout", use: logout)
        AccountPages.register(pages)
        TwoStepPages.register(pages)
        SupportSignInPages.register(pages)
        UnsubscribePages.register(pages)
        pages.anyone(.GET, "setup", use: setupPage)
        pages.anyone(.POST, "setup", use: setup)
        let patients = pages.grouped("clinics", ":clinicId", "patients")
        patients.inClinic(.GET, permission: (.patient, .read), use: PatientPages.list)
        patients.inClinic(.GET, "new", permission: (.patient, .create), use: PatientPages.newForm)
        patients.inClinic(.POST, permission: (.patient, .create), use: PatientPages.create)
        patients.inClinic(.GET, ":patientId", permission: (.patient, .read), use: PatientPages.show)
        patients.inClinic(.POST, ":patientId", permission: (.patient, .update), use: PatientPages.update)
        patients.inClinic(.POST, ":patientId", "delete", permission: (.patient, .delete), use: PatientPages.delete)
        patients.inClinic(.GET, ":patientId", "chart", permission: (.patient, .read), use: ChartPages.show)
        patients.inClinic(.POST, ":patientId", "break-glass", permission: (.clinicalNote, .read), use: ChartPages.breakGlass)
        let clinic = pages.grouped("clinics", ":clinicId")
        CalendarPages.register(clinic)
        ConsultationPages.register(patients: patients, clinic: clinic)
        PrescriptionPages.register(patients: patients, clinic: clinic)
        InvoicePages.register(patients: patients, clinic: clinic)
        StaffPages.register(clinic: clinic, pages: pages)
        HoursPages.register(clinic)
        CommunicationsPages.register(clinic)
        ReportPages.register(clinic)
        DashboardPages.register(clinic)
        AuditPages.register(clinic)
        BreakGlassPages.register(clinic)
        SupportAccessPages.register(clinic)
    }

    static func home(_ request: Request) async throws -> Response {
        guard let session = request.staffSession else { return request.redirect(to: "/login") }
        let memberships = try await IdentityDirectory(services: request.services).memberships(of: session.user)
        guard let first = memberships.first else {
            return try await request.render("message", Layout("No clinic", request: request),
                                            PageErrorMiddleware.Message(message: "You are not a member of any clinic yet."))
        }
        return request.redirect(to: "/clinics/\(first.clinic)/today")
    }

    struct LoginForm: Encodable {
        let loginToken: String
        var email: String?
        var error: String?
    }

    /// The login and setup forms carry a token that must match a SameSite=Strict cookie, so
    /// another site cannot sign a browser in to an account of its choosing (login CSRF).
    static func withLoginToken(_ request: Request, render: (String) async throws -> Response) async throws -> Response {
        let token = SecureToken.generate()
        let response = try await render(token)
        response.cookies[loginCookie] = HTTPCookies.Value(string: token, maxAge: 3600, path: "/", isSecure: true, isHTTPOnly: true, sameSite: .strict)
        return response
    }

    static func checkLoginToken(_ request: Request) throws {
        let presented = try? request.content.get(String.self, at: "loginToken")
        guard let presented, let cookie = request.cookies[loginCookie]?.string, SecureToken.equal(presented, cookie) else {
            throw ClinicError.csrfRejected
        }
    }

    static func loginPage(_ request: Request) async throws -> Response {
        try await withLoginToken(request) { token in
            try await request.render("login", Layout("Sign in", request: request), LoginForm(loginToken: token))
        }
    }

    struct LoginBody: Content { let email: String?; let password: String? }

    static func login(_ request: Request) async throws -> Response {
        try checkLoginToken(request)
        let body = try request.content.decode(LoginBody.self)
        let email = body.email ?? ""
        if case let .signedIn(issued, stage, _) = try await AuthAPI.signIn(email: email, password: body.password ?? "", request: request) {
            let response = request.redirect(to: stage == .full ? "/" : "/login/mfa")
            response.cookies[SessionStore.cookieName] = .session(issued.token)
            response.cookies[loginCookie] = .expiredSession
            return response
        }
        return try await withLoginToken(request) { token in
            try await request.render("login", Layout("Sign in", request: request),
                                     LoginForm(loginToken: token, email: email, error: ClinicError.invalidCredentials.message), status: .unauthorized)
        }
    }

    static func logout(_ request: Request, session: SessionStore.Active) async throws -> Response {
        try await SessionStore(services: request.services).end(session.session)
        let response = request.redirect(to: "/login")
        response.cookies[SessionStore.cookieName] = .expiredSession
        return response
    }

    struct SetupForm: Encodable {
        let token: String
        let loginToken: String
        var clinicName: String?
        var country: String = "AU"
        var ownerName: String?
        var email: String?
        var error: String?
    }

    static func setupPage(_ request: Request) async throws -> Response {
        let token = (try? request.query.get(String.self, at: "token")) ?? ""
        guard try await SetupLink(services: request.services).isValid(token) else {
            throw ClinicError(status: 404, code: "not_found", message: "This setup link is not valid or has been used.")
        }
        return try await withLoginToken(request) { loginToken in
            try await request.render("setup", Layout("Set up", request: request), SetupForm(token: token, loginToken: loginToken))
        }
    }

    struct SetupBody: Content {
        let token: String?, clinicName: String?, country: String?, ownerName: String?, email: String?, password: String?
    }

    static func setup(_ request: Request) async throws -> Response {
        try checkLoginToken(request)
        try await SignInThrottle(services: request.services).limit([(.setupAddress, request.sourceAddress)])
        let body = try request.content.decode(SetupBody.self)
        let link = SetupLink(services: request.services)
        let token = body.token ?? ""
        guard try await link.isValid(token) else {
            throw ClinicError(status: 404, code: "not_found", message: "This setup link is not valid or has been used.")
        }
        let signUp = APIShapes.SignUpRequest(name: body.clinicName, country: body.country,
                                             owner: .init(email: body.email, name: body.ownerName, password: body.password))
        do {
            let valid = try AuthAPI.validate(signUp, policy: request.services.passwordPolicy)
            // Every check of the password first (the breached-password service too): a refused
            // password must not spend the link (review round 2, A13).
            try await request.services.checkNewPassword(valid.password, field: "owner.password")
            // Claimed before anything is created, so two submissions cannot both set up a clinic;
            // given back when the clinic could not be made after all.
            guard try await link.claim(token) else {
                throw ClinicError(status: 404, code: "not_found", message: "This setup link is not valid or has been used.")
            }
            do {
                _ = try await AuthAPI.createClinic(valid, request: request)
            } catch {
                try await link.release(token)
                throw error
            }
            guard case let .signedIn(issued, _, _) = try await AuthAPI.signIn(email: valid.email.value, password: valid.password, request: request) else {
                return request.redirect(to: "/login")
            }
            let response = request.redirect(to: "/")
            response.cookies[SessionStore.cookieName] = .session(issued.token)
            return response
        } catch let error as ClinicError where error.status == 400 || error.status == 409 {
            return try await withLoginToken(request) { loginToken in
                try await request.render("setup", Layout("Set up", request: request),
                                         SetupForm(token: token, loginToken: loginToken, clinicName: body.clinicName, country: body.country ?? "AU",
                                                   ownerName: body.ownerName, email: body.email, error: error.message), status: .badRequest)
            }
        }
    }
}
