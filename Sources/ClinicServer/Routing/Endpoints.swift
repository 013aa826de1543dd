import ClinicDomain
import Vapor

/// The only way routes are registered. Each names the permission it needs, and the helper
/// enforces it before the handler runs:
///
/// - `anyone`: no session needed;
/// - `signedIn`: a live session (401 otherwise), and for unsafe methods its CSRF token;
/// - `inClinic`: as `signedIn`, plus membership of the clinic in the path (404 otherwise, so
///   another clinic's ids are indistinguishable from ids that do not exist) and a role that
///   the permission matrix allows (403 otherwise, audited); or an integration's API token
///   issued for that clinic, with the token's roles.
extension RoutesBuilder {
    @discardableResult
    func anyone<R: AsyncResponseEncodable>(_ method: HTTPMethod, _ path: PathComponent..., doc: APIDoc? = nil,
                                           use handler: @escaping @Sendable (Request) async throws -> R) -> Route {
        register(method, path, permission: .anyone, doc: doc) { request in
            try RequestGuards.checkOrigin(request)
            return try await handler(request).encodeResponse(for: request)
        }
    }

    @discardableResult
    func signedIn<R: AsyncResponseEncodable>(_ method: HTTPMethod, _ path: PathComponent..., doc: APIDoc? = nil,
                                             use handler: @escaping @Sendable (Request, SessionStore.Active) async throws -> R) -> Route {
        register(method, path, permission: .signedIn, doc: doc) { request in
            let session = try await RequestGuards.requireSession(request)
            return try await handler(request, session).encodeResponse(for: request)
        }
    }

    /// For the second-factor step and signing out: a session at either stage.
    @discardableResult
    func signingIn<R: AsyncResponseEncodable>(_ method: HTTPMethod, _ path: PathComponent..., doc: APIDoc? = nil,
                                              use handler: @escaping @Sendable (Request, SessionStore.Active) async throws -> R) -> Route {
        register(method, path, permission: .signingIn, doc: doc) { request in
            let session = try await RequestGuards.requireSession(request, stages: [.full, .secondFactor])
            return try await handler(request, session).encodeResponse(for: request)
        }
    }

    @discardableResult
    func inClinic<R: AsyncResponseEncodable>(_ method: HTTPMethod, _ path: PathComponent..., permission: (ClinicResource, ClinicAction),
                                             doc: APIDoc? = nil, body: HTTPBodyStreamStrategy = .collect,
                                             use handler: @escaping @Sendable (Request, ClinicScope) async throws -> R) -> Route {
        register(method, path, permission: .clinic(permission.0, permission.1), doc: doc, body: body) { request in
            let scope: ClinicScope
            if let bearer = request.apiBearer {
                scope = try await RequestGuards.clinicScope(request, bearer: bearer, resource: permission.0, action: permission.1)
            } else {
                let session = try await RequestGuards.requireSession(request)
                scope = try await RequestGuards.clinicScope(request, session: session, resource: permission.0, action: permission.1)
            }
            return try await handler(request, scope).encodeResponse(for: request)
        }
    }

    /// `body: .stream` hands the handler the body as it arrives (file uploads); every other
    /// route gets it collected, up to the application's default limit.
    private func register(_ method: HTTPMethod, _ path: [PathComponent], permission: Permission, doc: APIDoc?,
                          body: HTTPBodyStreamStrategy = .collect,
                          handler: @escaping @Sendable (Request) async throws -> Response) -> Route {
        let route = on(method, path, body: body, use: handler)
        route.userInfo[RouteInfo.permission] = permission
        if let doc { route.userInfo[RouteInfo.apiDoc] = doc }
        return route
    }
}

extension ClinicError {
    static let signInWithSecondFactor = ClinicError(status: 401, code: "mfa_session_required",
                                                    message: "This clinic requires two-step sign-in: sign in again with your password and code.")
}

enum RequestGuards {
    static let unsafeMethods: [HTTPMethod] = [.POST, .PUT, .PATCH, .DELETE]

    static func requireSession(_ request: Request, stages: Set<SessionStore.Stage> = [.full]) async throws -> SessionStore.Active {
        guard let session = request.staffSession else { throw ClinicError.notSignedIn }
        guard stages.contains(session.stage) else { throw ClinicError.secondFactorRequired }
        try checkOrigin(request)
        if unsafeMethods.contains(request.method) {
            // Header for scripts, form field for pages.
            let presented = request.headers.first(name: "X-CSRF-Token")
                ?? (request.headers.contentType == .urlEncodedForm ? try? request.content.get(String.self, at: "csrfToken") : nil)
            guard let presented, SecureToken.equal(presented, session.csrfToken) else { throw ClinicError.csrfRejected }
        }
        return session
    }

    /// A cross-site request that states its origin is refused outright on unsafe methods.
    static func checkOrigin(_ request: Request) throws {
        guard unsafeMethods.contains(request.method), let origin = request.headers.first(name: .origin) else { return }
        guard let host = request.headers.first(name: .host), let url = URL(string: origin), let originHost = url.host else {
            throw ClinicError(status: 403, code: "origin_rejected", message: "Cross-site requests are not accepted.")
        }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        guard originAuthority.lowercased() == host.lowercased() else {
            throw ClinicError(status: 403, code: "origin_rejected", message: "Cross-site requests are not accepted.")
        }
    }

    static func clinicScope(_ request: Request, session: SessionStore.Active, resource: ClinicResource,
                            action: ClinicAction) async throws -> ClinicScope {
        let clinic = try request.pathID("clinicId", as: ClinicID.self)
        let directory = IdentityDirectory(services: request.services)
        let versions = session.clinicVersion.map { MembershipCache.Versions(access: session.accessVersion, clinic: $0) }
        guard let membership = try await request.services.memberships.membership(of: session.user, in: clinic, versions: versions, load: {
            try await directory.membership(of: session.user, in: clinic)
        }) else {
            if let support = try await supportScope(request, session: session, clinic: clinic) {
                try await authorize(request, support, resource: resource, action: action)
                return support
            }
            try await recordOutsider(request, user: session.user, clinic: clinic)
            throw ClinicError.notFound
        }
        let scope = ClinicScope(clinic: clinic, country: membership.country, actor: session.user, roles: membership.roles,
                                context: request.requestContext, timeZone: membership.timeZone, caseBasedAccess: membership.caseBasedAccess)
        // The session's own assurance, not the account's: a session opened by a password alone
        // does not gain a second factor when one is set up elsewhere.
        if session.assurance == .password, membership.requiresMFA() {
            let store = request.services.store
            try await store.transaction(realm: scope.realm) { tx in
                try await Ledger.append(scope.event("access.denied", outcome: .denied,
                                                    detail: session.hasTOTP ? "needs=mfa-session" : "needs=mfa-enrolment"), in: tx)
            }
            throw session.hasTOTP ? ClinicError.signInWithSecondFactor : ClinicError.mfaEnrolmentRequired
        }
        try await authorize(request, scope, resource: resource, action: action)
        return scope
    }

    /// An integration's standing: only in the clinic its token was issued for (any other answers
    /// 404, as for a person who is not a member), with the token's roles. No CSRF check: a
    /// browser never sends the token on its own.
    static func clinicScope(_ request: Request, bearer: APIBearer, resource: ClinicResource, action: ClinicAction) async throws -> ClinicScope {
        let clinic = try request.pathID("clinicId", as: ClinicID.self)
        let row = try await request.services.store.global.raw("""
            SELECT country, time_zone FROM clinics WHERE id = \(bind: clinic.rawValue) AND status = 'active'
            """).first()
        guard clinic == bearer.clinic, let row, let country = CountryCode(try row.decode(column: "country", as: String.self)) else {
            try await recordOutsider(request, user: UserID(bearer.token), clinic: clinic)
            throw ClinicError.notFound
        }
        let scope = ClinicScope(clinic: clinic, country: country, actor: UserID(bearer.token), roles: bearer.roles, context: request.requestContext,
                                timeZone: ClinicTimeZone(storedIdentifier: try row.decode(column: "time_zone", as: String.self)))
        try await authorize(request, scope, resource: resource, action: action)
        return scope
    }

    /// A support identity's standing in the clinic its grant is for, while the grant admits it
    /// (checked on every request, so a revocation or the end of its hours takes effect at once);
    /// nil for anyone else.
    private static func supportScope(_ request: Request, session: SessionStore.Active, clinic: ClinicID) async throws -> ClinicScope? {
        let services = request.services
        // A read first: most people who are not members are not support either, and a probe
        // must not take the write lock.
        guard let scope = try await services.store.read(realm: clinic.rawValue, { tx -> ClinicScope? in
            guard let grant = try await SupportGrants(services: services).admitting(session.user, into: clinic, in: tx),
                  let row = try await tx.sql.raw("""
                      SELECT country, time_zone FROM clinics WHERE id = \(bind: clinic.rawValue) AND status = 'active'
                      """).first(),
                  let country = CountryCode(try row.decode(column: "country", as: String.self)) else { return nil }
            return ClinicScope(clinic: clinic, country: country, actor: session.user, roles: [], context: request.requestContext,
                               timeZone: ClinicTimeZone(storedIdentifier: try row.decode(column: "time_zone", as: String.self)),
                               supportGrant: grant)
        }) else { return nil }
        // Every request of the support identity is in the clinic's chain, reads of data with no
        // event of their own (settings, the staff list) too: the operator's access is all on record.
        let route = "\(request.method.rawValue) /" + (request.route?.path.map(\.description).joined(separator: "/") ?? "?")
        try await services.store.transaction(realm: clinic.rawValue) { tx in
            try await Ledger.append(scope.event("support.access", resourceType: "support-access", resource: scope.supportGrant,
                                                detail: "route=\(route)"), in: tx)
        }
        return scope
    }

    /// The permission matrix's answer for the scope's roles (`SupportAccess` for a support
    /// identity); a refusal is audited.
    private static func authorize(_ request: Request, _ scope: ClinicScope, resource: ClinicResource, action: ClinicAction) async throws {
        guard scope.may(resource, action) else {
            let store = request.services.store
            try await store.transaction(realm: scope.realm) { tx in
                try await Ledger.append(scope.event("access.denied", outcome: .denied, detail: "needs=\(resource.rawValue).\(action.rawValue)"), in: tx)
            }
            throw ClinicError.forbidden()
        }
    }

    /// Someone signed in asked for a clinic they do not belong to: the answer is 404 either way,
    /// and the probe is recorded in that clinic's chain (its owners see who tried), or in the
    /// identity chain when no such clinic exists.
    ///
    /// Once per person, chain and route a minute (`RepeatedEvents`): a probe repeated in a loop,
    /// or aimed at one made-up clinic id after another, is one entry with a count, not one per
    /// request.
    static func recordOutsider(_ request: Request, user: UserID, clinic: ClinicID) async throws {
        let store = request.services.store
        let exists = try await store.global.raw("SELECT 1 AS present FROM clinics WHERE id = \(bind: clinic.rawValue)").first() != nil
        let chain = exists ? clinic.rawValue : IdentityRealm.id
        let route = request.route.map { "/" + $0.path.map(\.description).joined(separator: "/") } ?? "-"
        let admission = request.services.repeatedEvents.admit("access.denied|\(chain)|\(user)|\(request.method.rawValue) \(route)")
        guard admission.record else { return }
        var context = request.requestContext
        context.actor = user
        let event = context.event(chain: chain, action: "access.denied", resourceType: "clinic", resource: clinic.rawValue,
                                  outcome: .denied, detail: RepeatedEvents.detail("not-a-member", repeated: admission.repeated))
        try await store.transaction(realm: chain) { tx in try await Ledger.append(event, in: tx) }
    }
}
