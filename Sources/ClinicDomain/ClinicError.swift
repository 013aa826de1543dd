import Foundation

/// The one error type the product speaks. Each carries the HTTP status it deserves, so a
/// handler never has to choose one, and a stable code that clients can match on.
public struct ClinicError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
    }

    public let status: Int
    public let code: Code
    /// Safe to show to the person who sent the request: never contains their data back.
    public let message: String
    /// The input field at fault, when there is one.
    public let field: String?
    /// Seconds until trying again makes sense (429), sent as `Retry-After`.
    public let retryAfter: Int?

    public init(status: Int, code: Code, message: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.retryAfter = retryAfter
    }

    public var description: String { "ClinicError(\(status) \(code.rawValue)\(field.map { " field=\($0)" } ?? ""))" }

    public static func invalid(_ field: String, _ message: String, code: Code = "invalid_field") -> ClinicError {
        ClinicError(status: 400, code: code, message: message, field: field)
    }
    public static let notSignedIn = ClinicError(status: 401, code: "not_signed_in", message: "Sign in first.")
    public static let invalidCredentials = ClinicError(status: 401, code: "invalid_credentials", message: "The e-mail address or password is not right.")
    public static func forbidden(_ message: String = "Your role does not allow this.") -> ClinicError {
        ClinicError(status: 403, code: "forbidden", message: message)
    }
    public static let invalidCode = ClinicError(status: 401, code: "invalid_code", message: "This code is not right, or has been used already.")
    public static let secondFactorRequired = ClinicError(status: 401, code: "mfa_required", message: "Give your authentication code first (POST /api/v1/auth/mfa).")
    public static let mfaEnrolmentRequired = ClinicError(status: 403, code: "mfa_enrolment_required",
                                                         message: "This clinic requires two-factor authentication for your role: set up an authenticator app first (POST /api/v1/me/totp).")
    public static let csrfRejected = ClinicError(status: 403, code: "csrf_rejected", message: "The request is missing its CSRF token or the token does not match this session.")
    /// Used both for what does not exist and for what belongs to another clinic: no existence oracle.
    public static let notFound = ClinicError(status: 404, code: "not_found", message: "Not found.")
    public static func conflict(_ code: Code, _ message: String, field: String? = nil) -> ClinicError {
        ClinicError(status: 409, code: code, message: message, field: field)
    }
    public static let integrityFailure = ClinicError(status: 500, code: "integrity_failure", message: "A stored record failed its integrity check; it has been reported.")
}
