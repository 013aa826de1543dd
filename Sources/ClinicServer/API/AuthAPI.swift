import ClinicDomain
import Foundation
import Vapor

/// Sign-up, sign-in, sign-out and "who am I".
enum AuthAPI {
    static func register(_ api: any RoutesBuilder) {
        api.anyone(.POST, "clinics", doc: OpenAPIDocs.signUp, use: signUp)
        api.anyone(.POST, "auth", "login", doc: OpenAPIDocs.login, use: login)
        api.signingIn(.POST, "auth", "mfa", doc: OpenAPIDocs.secondFactor, use: secondFactor)
        api.signingIn(.POST, "auth", "logout", doc: OpenAPIDocs.logout, use: logout)
        api.signedIn(.GET, "me", doc: OpenAPIDocs.me, use: me)
    }

    struct ValidSignUp: Sendable {
        let clinicName: String
        let country: CountryCode
        let email: EmailAddress
        let ownerName: String
        let password: String
    }

    static func validate(_ body: APIShapes.SignUpRequest, policy: PasswordPolicy) throws -> ValidSignUp {
        let clinicName = (body.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !clinicName.isEmpty else { throw ClinicError.invalid("name", "Give the clinic a name.", code: "required") }
        guard clinicName.unicodeScalars.count <= 200 else { throw ClinicError.invalid("name", "Use at most 200 characters.") }
        var country = CountryCode.australia
        if let text = body.country {
            guard let code = CountryCode(text) else {
                throw ClinicError.invalid("country", "Use one of these country codes: \(CountryCode.supported.joined(separator: ", ")).")
            }
            country = code
        }
        guard let owner = body.owner else { throw ClinicError.invalid("owner", "Give the owner's e-mail, name and password.", code: "required") }
        let email = try EmailAddress(parsing: owner.email ?? "", field: "owner.email")
        let ownerName = (owner.name ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !ownerName.isEmpty, ownerName.count <= 200 else { throw ClinicError.invalid("owner.name", "Give the owner's name (at most 200 characters).") }
        guard let password = owner.password else { throw ClinicError.invalid("owner.password", "Choose a password.", code: "required") }
        try policy.check(password, field: "owner.password")
        return ValidSignUp(clinicName: clinicName, country: country, email: email, ownerName: ownerName, password: password)
    }

    /// Creates the clinic and its owner; shared by the API and the setup page.
    static func createClinic(_ valid: ValidSignUp, request: Request) async throws -> IdentityDirectory.NewClinic {
        try await request.services.checkNewPassword(valid.password, field: "owner.password")
        let hash = try await request.services.hashPassword(valid.password)
        let outcome = try await IdentityDirectory(services: request.services).createClinic(
            name: valid.clinicName, country: valid.country, ownerEmail: valid.email, ownerName: valid.ownerName,
            passwordHash: hash, context: request.requestContext)
        switch outcome {
        case let .created(clinic): return clinic
        case .emailInUse:
            throw ClinicError.conflict("email_in_use", "This e-mail address already has an account; sign in and add the clinic from there.", field: "owner.email")
        }
    }

    static func signUp(_ request: Request) async throws -> Response {
        guard request.services.settings.signupOpen else {
            throw ClinicError(status: 403, code: "signup_closed", message: "Sign-up is closed on this server; use the setup link the operator was given.")
        }
        let valid = try validate(try request.decodeBody(APIShapes.SignUpRequest.self), policy: request.services.passwordPolicy)
        try await SignInThrottle(services: request.services).limit([(.signUpAddress, request.sourceAddress)])
        let created = try await createClinic(valid, request: request)
        let body = APIShapes.SignUpResponse(clinic: .init(id: created.clinic.description, name: valid.clinicName),
                                            user: .init(id: created.owner.description))
        let response = Response(status: .created)
        try response.content.encode(body)
        return response
    }

    enum SignInResult {
        /// `stage` is `.secondFactor` when the person must still give a code.
        case signedIn(SessionStore.Issued, stage: SessionStore.Stage, mfaEnrolmentRequired: Bool)
        case refused
    }

    /// Checks a password and opens a session; the same for the API and the login page.
    /// Every attempt is counted per account and per source address before the password is
    /// checked (ASVS 2.2.1); an unknown e-mail is counted, delayed and locked exactly like a
    /// known one, so neither answers nor timing tell whether an account exists.
    static func signIn(email emailText: String, password: String, request: Request) async throws -> SignInResult {
        let services = request.services
        let directory = IdentityDirectory(services: services)
        let throttle = SignInThrottle(services: services)
        let email = try? EmailAddress(parsing: emailText)
        let accountName = email?.value ?? emailText.lowercased()
        let subjects = try await throttle.subjects([(.loginAccount, accountName), (.loginAddress, request.sourceAddress)])
        let failures: Int64
        switch try await throttle.admit(subjects) {
        case let .refused(retryAfter):
            try await directory.recordThrottled(action: "auth.login", context: request.requestContext)
            throw ClinicError.tooManyAttempts(retryAfter: retryAfter)
        case let .admitted(count):
            failures = count
        }
        let credentials = try await email.asyncFlatMap { try await directory.credentials(for: $0) }
        // A decoy hash when the e-mail is unknown: both failures take a bcrypt's time.
        let matches = try await services.verifyPassword(password, hash: credentials?.passwordHash ?? services.decoyPasswordHash)
        // A locked account fails exactly as a wrong password does: the same answer, time and count.
        let succeeded = matches && credentials != nil && credentials?.locked == false && password.count <= 1024
        if succeeded {
            try await throttle.succeeded(subjects[0])
        } else {
            let accountLocked = try await throttle.failed(subjects[0])
            let addressLocked = try await throttle.failed(subjects[1])
            if accountLocked || addressLocked {
                try await directory.recordLockout(of: accountLocked ? credentials?.user : nil, email: accountLocked ? email : nil,
                                                  detail: accountLocked ? "account" : "address", context: request.requestContext)
            }
            await throttle.delay(afterFailures: failures)
        }
        let stage: SessionStore.Stage = credentials?.hasTOTP == true ? .secondFactor : .full
        let issued = try await directory.recordSignIn(user: credentials?.user, succeeded: succeeded, stage: stage, context: request.requestContext,
                                                      client: request.sessionClient, sessions: SessionStore(services: services))
        guard let issued, let credentials, succeeded else { return .refused }
        let memberships = credentials.hasTOTP ? [] : try await directory.memberships(of: credentials.user)
        let mustEnrol = memberships.contains { $0.requiresMFA() }
        return .signedIn(issued, stage: stage, mfaEnrolmentRequired: mustEnrol)
    }

    static func login(_ request: Request) async throws -> Response {
        let body = try request.decodeBody(APIShapes.LoginRequest.self)
        guard let email = body.email, !email.isEmpty else { throw ClinicError.invalid("email", "Give your e-mail address.", code: "required") }
        guard let password = body.password, !password.isEmpty else { throw ClinicError.invalid("password", "Give your password.", code: "required") }
        guard case let .signedIn(issued, stage, mustEnrol) = try await signIn(email: email, password: password, request: request) else {
            throw ClinicError.invalidCredentials
        }
        let response = Response(status: .ok)
        try response.content.encode(APIShapes.LoginResponse(next: stage == .full ? "done" : "mfa", csrfToken: issued.csrfToken,
                                                            mfaEnrolmentRequired: mustEnrol))
        response.cookies[SessionStore.cookieName] = .session(issued.token)
        return response
    }

    enum SecondFactorResult {
        case signedIn(SessionStore.Issued)
        case refused
    }

    /// The second step: a TOTP code or a recovery code turns the pending session into a full
    /// one with a new id and token (ASVS 3.2.1). Wrong codes are counted per person.
    static func completeSecondFactor(code: String, session: SessionStore.Active, request: Request) async throws -> SecondFactorResult {
        guard session.stage == .secondFactor else {
            throw ClinicError.conflict("mfa_not_pending", "This session is already signed in.")
        }
        let services = request.services
        let directory = IdentityDirectory(services: services)
        let throttle = SignInThrottle(services: services)
        let subjects = try await throttle.subjects([(.secondFactor, session.user.description)])
        switch try await throttle.admit(subjects) {
        case let .refused(retryAfter):
            try await directory.recordThrottled(action: "auth.mfa", context: request.requestContext)
            throw ClinicError.tooManyAttempts(retryAfter: retryAfter)
        case .admitted:
            break
        }
        let verdict = try await SecondFactors(services: services).verify(code, of: session.user)
        if verdict == .invalid {
            if try await throttle.failed(subjects[0]) {
                try await directory.recordLockout(of: session.user, email: nil, detail: "second-factor", context: request.requestContext)
            }
        } else {
            try await throttle.succeeded(subjects[0])
        }
        let issued = try await directory.completeSecondFactor(session: session, verdict: verdict, context: request.requestContext,
                                                              client: request.sessionClient, sessions: SessionStore(services: services))
        return issued.map(SecondFactorResult.signedIn) ?? .refused
    }

    struct CodeBody: Content { let code: String? }

    static func secondFactor(_ request: Request, session: SessionStore.Active) async throws -> Response {
        let body = try request.decodeBody(CodeBody.self)
        guard let code = body.code, !code.isEmpty, code.count <= 64 else {
            throw ClinicError.invalid("code", "Give the 6-digit code from your authenticator app, or a recovery code.", code: "required")
        }
        guard case let .signedIn(issued) = try await completeSecondFactor(code: code, session: session, request: request) else {
            throw ClinicError.invalidCode
        }
        let response = Response(status: .ok)
        try response.content.encode(APIShapes.LoginResponse(next: "done", csrfToken: issued.csrfToken, mfaEnrolmentRequired: false))
        response.cookies[SessionStore.cookieName] = .session(issued.token)
        return response
    }

    static func logout(_ request: Request, session: SessionStore.Active) async throws -> Response {
        try await SessionStore(services: request.services).end(session.session)
        let response = Response(status: .noContent)
        response.cookies[SessionStore.cookieName] = .expiredSession
        return response
    }

    static func me(_ request: Request, session: SessionStore.Active) async throws -> APIShapes.MeResponse {
        let directory = IdentityDirectory(services: request.services)
        guard let person = try await directory.person(session.user) else { throw ClinicError.notSignedIn }
        let memberships = try await directory.memberships(of: session.user)
        return APIShapes.MeResponse(
            user: .init(id: person.id.description, email: person.email, name: person.name),
            memberships: memberships.map { .init(clinicId: $0.clinic.description, clinicName: $0.clinicName, roles: $0.roles.sorted().map(\.rawValue)) },
            mfa: .init(totp: session.hasTOTP, passkeys: 0))
    }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
