import ClinicDomain
import Vapor

/// Resumes the session named by the `__Host-` cookie, or the integration named by an
/// `Authorization: Bearer` API token. Whether a route needs either is the route's business (see
/// `Endpoints`); this only establishes who is asking. A request that presents a token is that
/// token's alone: a cookie beside it is not read, and a token that does not open is refused here.
struct SessionAuthenticator: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let presented = request.headers.bearerAuthorization?.token {
            guard let bearer = try await APIBearer.resume(presented, services: request.services) else {
                request.logger.notice("api token refused")
                throw APIBearer.invalid
            }
            request.apiBearer = bearer
        } else if let token = request.cookies[SessionStore.cookieName]?.string {
            // The clinic in the path, if any, is read with the session: its settings version
            // tells whether a membership kept in memory still holds (`MembershipCache`).
            let clinic = try? request.pathID("clinicId", as: ClinicID.self)
            request.staffSession = try await SessionStore(services: request.services).resume(token: token, clinic: clinic)
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

    private struct APIBearerKey: StorageKey { typealias Value = APIBearer }

    /// The integration asking, when the request carried a live API token.
    var apiBearer: APIBearer? {
        get { storage[APIBearerKey.self] }
        set { storage[APIBearerKey.self] = newValue }
    }

    var sessionClient: SessionStore.Client {
        SessionStore.Client(address: remoteAddress?.ipAddress, userAgent: headers.first(name: .userAgent))
    }

    /// The peer's socket address, the unit of per-address throttling (never a forwarded-for
    /// header, which the sender writes). A request with no socket peer only exists inside the
    /// process (the test harness); those share one bucket per application instance.
    var sourceAddress: String { remoteAddress?.ipAddress ?? "in-process:\(services.instanceID)" }

    var requestContext: RequestContext {
        RequestContext(actor: staffSession?.user ?? apiBearer.map { UserID($0.token) }, address: remoteAddress?.ipAddress, requestID: serverRequestID)
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
