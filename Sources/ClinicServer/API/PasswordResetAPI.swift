import ClinicDomain
import Foundation
import Vapor

/// `POST /api/v1/auth/password-reset` and `.../complete`.
enum PasswordResetAPI {
    static func register(_ api: any RoutesBuilder) {
        api.anyone(.POST, "auth", "password-reset", doc: OpenAPIDocs.requestPasswordReset, use: requestReset)
        api.anyone(.POST, "auth", "password-reset", "complete", doc: OpenAPIDocs.completePasswordReset, use: completeReset)
    }

    struct RequestBody: Content { let email: String? }
    struct CompleteBody: Content { let token: String?; let newPassword: String? }

    /// Always 202: whether the address has an account is never told. The lookup and the e-mail
    /// happen after the answer, so its timing tells nothing either.
    static func requestReset(_ request: Request) async throws -> HTTPStatus {
        let body = try request.decodeBody(RequestBody.self)
        let email = try EmailAddress(parsing: body.email ?? "")
        try await startReset(for: email, request: request)
        return .accepted
    }

    static func startReset(for email: EmailAddress, request: Request) async throws {
        let services = request.services
        let throttle = SignInThrottle(services: services)
        let subjects = try await throttle.subjects([(.resetAccount, email.value), (.resetAddress, request.sourceAddress)])
        if case let .refused(retryAfter) = try await throttle.admit(subjects) {
            try await IdentityDirectory(services: services).recordThrottled(action: "password.reset.request", context: request.requestContext)
            throw ClinicError.tooManyAttempts(retryAfter: retryAfter)
        }
        let context = request.requestContext, logger = request.logger
        Task {
            do {
                try await PasswordResets(services: services).request(for: email, context: context)
            } catch {
                logger.error("password reset request failed", metadata: ["error_type": .string(String(reflecting: type(of: error)))])
            }
        }
    }

    static func completeReset(_ request: Request) async throws -> HTTPStatus {
        let body = try request.decodeBody(CompleteBody.self)
        guard let token = body.token, !token.isEmpty else { throw ClinicError.invalid("token", "Give the token from the e-mailed link.", code: "required") }
        guard let newPassword = body.newPassword else { throw ClinicError.invalid("newPassword", "Choose a new password.", code: "required") }
        try await completeReset(token: token, newPassword: newPassword, request: request)
        return .noContent
    }

    static func completeReset(token: String, newPassword: String, request: Request) async throws {
        let services = request.services
        let throttle = SignInThrottle(services: services)
        let guesses = try await throttle.subjects([(.resetToken, request.sourceAddress)])
        if case let .refused(retryAfter) = try await throttle.admit(guesses) {
            throw ClinicError.tooManyAttempts(retryAfter: retryAfter)
        }
        let resets = PasswordResets(services: services)
        let directory = IdentityDirectory(services: services)
        guard let user = try await resets.holder(of: token), let person = try await directory.person(user) else {
            throw ClinicError.resetTokenInvalid
        }
        try await services.checkNewPassword(newPassword, field: "newPassword", minimumLength: try await directory.passwordMinimum(for: user))
        let hash = try await services.hashPassword(newPassword)
        let email = try EmailAddress(parsing: person.email)
        let account = try await throttle.subjects([(.loginAccount, email.value)])[0]
        guard try await resets.complete(token: token, user: user, newPasswordHash: hash, accountThrottle: account,
                                        context: request.requestContext) else {
            throw ClinicError.resetTokenInvalid
        }
    }
}

extension ClinicError {
    static let resetTokenInvalid = ClinicError.invalid("token", "This reset link is not valid, has expired, or has been used; ask for a new one.",
                                                       code: "reset_token_invalid")
}
