import ClinicDomain
import Vapor

/// Resumes the session named by the `__Host-` cookie, if any. Whether a route needs one is
/// the route's business (see `Endpoints`); this only establishes who is asking.
struct SessionAuthenticator: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let token = request.cookies[SessionStore.cookieName]?.string {
            request.staffSession = try await SessionStore(services: request.services).resume(token: token)
        }
        return try await next.respond(to: request)
    }
}

extension Request {
    private struct StaffSessionKey: StorageKey { typealias Value = SessionStore.Active }

    /// The signed-in person's session, when the request carried a live session cookie.
    var staffSession: SessionStore.Active? {
        get { storage[StaffSessionKey.self] }
        set { storage[StaffSessionKey.self] = newValue }
    }

    var sessionClient: SessionStore.Client {
        SessionStore.Client(address: remoteAddress?.ipAddress, userAgent: headers.first(name: .userAgent))
    }

    /// The peer's socket address, the unit of per-address throttling (never a forwarded-for
    /// header, which the sender writes). A request with no socket peer only exists inside the
    /// process (the test harness); those share one bucket per application instance.
    var sourceAddress: String { remoteAddress?.ipAddress ?? "in-process:\(services.instanceID)" }

    var requestContext: RequestContext {
        RequestContext(actor: staffSession?.user, address: remoteAddress?.ipAddress, requestID: id)
    }
}

extension HTTPCookies.Value {
    /// The session cookie: `__Host-` (Secure, Path=/, no Domain), HttpOnly, SameSite=Strict.
    static func session(_ token: String) -> HTTPCookies.Value {
        HTTPCookies.Value(string: token, path: "/", isSecure: true, isHTTPOnly: true, sameSite: .strict)
    }

    static var expiredSession: HTTPCookies.Value {
        HTTPCookies.Value(string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/", isSecure: true, isHTTPOnly: true, sameSite: .strict)
    }
}
