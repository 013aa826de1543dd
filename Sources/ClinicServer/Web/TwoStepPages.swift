import ClinicDomain
import Vapor

/// Two-step sign-in for the person signed in: set up an authenticator app (secret and otpauth
/// link, then a code), see the recovery codes once, replace them, or turn it off. Setting up,
/// replacing and turning off need the password again, as in the API.
enum TwoStepPages {
    static let path = "/me/two-step"

    static func register(_ pages: any RoutesBuilder) {
        pages.signedIn(.GET, "me", "two-step", use: show)
        pages.signedIn(.POST, "me", "two-step", "begin", use: begin)
        pages.signedIn(.POST, "me", "two-step", "confirm", use: confirm)
        pages.signedIn(.POST, "me", "two-step", "recovery-codes", use: regenerate)
        pages.signedIn(.POST, "me", "two-step", "disable", use: disable)
    }

    struct Setup: Encodable {
        /// The secret in groups of four, easier to type into an app by hand.
        let secretGroups: [String]
        let otpauthUrl: String
    }

    struct Content: Encodable {
        let enabled: Bool
        var setup: Setup?
        /// A code was wrong: ask again, without the secret (it is shown once, when setup starts).
        var pending = false
        var recoveryCodes: [String]?
        var error: String?
    }

    static func show(_ request: Request, session: SessionStore.Active) async throws -> Response {
        try await render(request, Content(enabled: session.hasTOTP))
    }

    static func begin(_ request: Request, session: SessionStore.Active) async throws -> Response {
        if let refused = try await reauthenticate(request, session: session) { return refused }
        guard let person = try await IdentityDirectory(services: request.services).person(session.user) else { throw ClinicError.notSignedIn }
        let enrolment = try await SecondFactors(services: request.services).beginEnrolment(of: session.user, email: person.email,
                                                                                            context: request.requestContext)
        return try await render(request, Content(enabled: false, setup: setup(enrolment)))
    }

    struct CodeForm: Vapor.Content { let code: String? }

    static func confirm(_ request: Request, session: SessionStore.Active) async throws -> Response {
        let code = String((try request.content.decode(CodeForm.self).code ?? "").prefix(64))
        if !code.isEmpty, let codes = try await SecondFactors(services: request.services).confirmEnrolment(of: session.user, session: session.session, code: code,
                                                                                                         context: request.requestContext) {
            return try await render(request, Content(enabled: true, recoveryCodes: codes))
        }
        // The secret is not shown again: whoever holds this session must not read a key its owner is about to trust.
        return try await render(request, Content(enabled: false, pending: true, error: ClinicError.invalidCode.message), status: .badRequest)
    }

    struct PasswordForm: Vapor.Content { let password: String? }

    /// The password again, or a page saying what was wrong; an empty field is not counted as a guess.
    static func reauthenticate(_ request: Request, session: SessionStore.Active) async throws -> Response? {
        let password = try request.content.decode(PasswordForm.self).password ?? ""
        do {
            guard !password.isEmpty else { throw ClinicError.invalid("password", "Give your password.", code: "required") }
            try await MeAPI.requireCurrentPassword(password, of: session.user, field: "password", request: request)
            return nil
        } catch let error as ClinicError where error.status == 400 {
            return try await render(request, Content(enabled: session.hasTOTP, error: error.message), status: .badRequest)
        }
    }

    static func regenerate(_ request: Request, session: SessionStore.Active) async throws -> Response {
        if let refused = try await reauthenticate(request, session: session) { return refused }
        guard let codes = try await SecondFactors(services: request.services).regenerateRecoveryCodes(of: session.user,
                                                                                                     context: request.requestContext) else {
            return request.redirect(to: path)
        }
        return try await render(request, Content(enabled: true, recoveryCodes: codes))
    }

    static func disable(_ request: Request, session: SessionStore.Active) async throws -> Response {
        if let refused = try await reauthenticate(request, session: session) { return refused }
        try await SecondFactors(services: request.services).disable(for: session.user, context: request.requestContext)
        return request.redirect(to: path)
    }

    static func setup(_ enrolment: SecondFactors.Enrolment) -> Setup {
        let characters = Array(enrolment.secret)
        let groups = stride(from: 0, to: characters.count, by: 4).map { String(characters[$0..<min($0 + 4, characters.count)]) }
        return Setup(secretGroups: groups, otpauthUrl: enrolment.otpauthURL)
    }

    static func render(_ request: Request, _ content: Content, status: HTTPResponseStatus = .ok) async throws -> Response {
        try await request.render("two-step", Layout("Two-step sign-in", request: request), content, status: status)
    }
}
