import AuditLedger
import ClinicDomain
import Foundation
import SQLKit

struct SupportGrant: Sendable {
    let id: UUID
    let clinic: ClinicID
    let operatorName: String
    let reason: String
    let hours: Int
    let state: SupportAccessState
    let requestedAt: Date
    let decidedAt: Date?
    let expiresAt: Date?
    /// The read-only identity made for this grant when the operator first asked for a sign-in link.
    let supportUser: UserID?

    /// Granted and not yet past its hours.
    func admits(at now: Date = Date()) -> Bool {
        state == .granted && (expiresAt.map { $0 > now } ?? false)
    }
}

/// Support access by the clinic's consent (`SupportAccess` holds the rules). The operator's side
/// (request, sign-in link) runs from the command line with no clinic member acting; the clinic's
/// side (list, grant, refuse, revoke) is its owners'. Every step is in the clinic's chain.
struct SupportGrants: Sendable {
    let services: ClinicServices

    static let columns: SQLQueryString = """
        id, clinic_id, operator_name, reason, hours, state, requested_at_ms, decided_at_ms, expires_at_ms, support_user_id
        """
    /// A sign-in link is for the operator to open now, not to keep.
    static let linkLifetime: TimeInterval = 15 * 60

    // MARK: The operator

    func request(clinic: ClinicID, operatorName: String, hours: Int, reason: String, requestID: String) async throws -> UUID {
        let operatorName = try SupportAccess.validatedLine(operatorName, field: "operator", limit: SupportAccess.operatorLimit)
        let reason = try SupportAccess.validatedLine(reason, field: "reason", limit: SupportAccess.reasonLimit)
        let hours = try SupportAccess.validatedHours(hours)
        let id = UUID()
        try await services.store.transaction(realm: clinic.rawValue) { tx in
            guard try await tx.sql.raw("SELECT id FROM clinics WHERE id = \(bind: clinic.rawValue) AND status = 'active'").first() != nil else {
                throw ClinicError.notFound
            }
            try await tx.sql.raw("""
                INSERT INTO support_access (id, clinic_id, operator_name, reason, hours, state, requested_at_ms)
                VALUES (\(bind: id), \(bind: clinic.rawValue), \(bind: operatorName), \(bind: reason), \(bind: Int64(hours)), 'requested',
                        \(bind: Date().milliseconds))
                """).run()
            try await Ledger.append(Self.operatorEvent(clinic, "support.request", grant: id, requestID: requestID,
                                                       detail: "operator=\(Self.quoted(operatorName)) hours=\(hours)"), in: tx)
        }
        return id
    }

    /// A one-time sign-in link's token for a granted, unexpired request: the support identity is
    /// made on first use, and each new link replaces the last. The token names the clinic and the
    /// grant, so its sign-in finds them without a lookup across clinics.
    func issueSignInToken(grant id: UUID, requestID: String) async throws -> (token: String, grant: SupportGrant) {
        guard let clinic = try await clinic(ofGrant: id) else { throw ClinicError.notFound }
        let secret = SecureToken.generate()
        let services = self.services
        // The support identity's password hash (of 256 random bits no one keeps), made before the
        // transaction so no write lock waits on bcrypt.
        let unusableHash = try await services.hashPassword(SecureToken.generate())
        let grant = try await services.store.transaction(realm: clinic.rawValue) { tx -> SupportGrant in
            guard let grant = try await Self.find(id, clinic: clinic, lock: true, in: tx) else { throw ClinicError.notFound }
            guard grant.admits() else {
                throw ClinicError.conflict("support_access_not_granted", "This request is \(grant.state.rawValue)\(grant.state == .granted ? " but its hours are up" : ""); only a granted, unexpired request gives a sign-in link.")
            }
            var user = grant.supportUser
            if user == nil {
                let made = UserID.random()
                try await Self.createSupportIdentity(made, grant: grant, passwordHash: unusableHash, services: services, in: tx)
                try await tx.enter(realm: clinic.rawValue)
                try await tx.sql.raw("UPDATE support_access SET support_user_id = \(bind: made.rawValue) WHERE id = \(bind: id)").run()
                user = made
            }
            try await tx.sql.raw("""
                UPDATE support_access SET login_token_hash = \(bind: SecureToken.hash(secret)),
                    login_expires_at_ms = \(bind: Date().addingTimeInterval(Self.linkLifetime).milliseconds)
                WHERE clinic_id = \(bind: clinic.rawValue) AND id = \(bind: id)
                """).run()
            try await Ledger.append(Self.operatorEvent(clinic, "support.link", grant: id, requestID: requestID,
                                                       detail: "operator=\(Self.quoted(grant.operatorName)) user=\(user!)"), in: tx)
            return SupportGrant(id: grant.id, clinic: clinic, operatorName: grant.operatorName, reason: grant.reason, hours: grant.hours,
                                state: grant.state, requestedAt: grant.requestedAt, decidedAt: grant.decidedAt, expiresAt: grant.expiresAt,
                                supportUser: user)
        }
        return ("\(clinic).\(id.uuidString.lowercased()).\(secret)", grant)
    }

    /// Spends a sign-in link: a session for the grant's support identity, in the clinic's chain.
    /// nil for a link that is unknown, spent, stale, or whose grant no longer admits anyone.
    func signIn(token: String, client: SessionStore.Client, context: RequestContext) async throws -> (SessionStore.Issued, ClinicID)? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let clinic = ClinicID(string: String(parts[0])), let id = UUID(uuidString: String(parts[1])),
              SecureToken.isWellFormed(String(parts[2])) else { return nil }
        let secret = String(parts[2])
        let sessions = SessionStore(services: services)
        return try await services.store.transaction(realm: clinic.rawValue) { tx -> (SessionStore.Issued, ClinicID)? in
            let now = Date()
            guard let row = try await tx.sql.raw("""
                UPDATE support_access SET login_token_hash = NULL, login_expires_at_ms = NULL
                WHERE clinic_id = \(bind: clinic.rawValue) AND id = \(bind: id) AND login_token_hash = \(bind: SecureToken.hash(secret))
                    AND login_expires_at_ms > \(bind: now.milliseconds) AND state = 'granted' AND expires_at_ms > \(bind: now.milliseconds)
                RETURNING support_user_id, operator_name
                """).first(),
                let user = try row.decode(column: "support_user_id", as: UUID?.self).map(UserID.init) else { return nil }
            var actor = context
            actor.actor = user
            try await Ledger.append(actor.event(chain: clinic.rawValue, action: "support.sign-in", resourceType: "support-access", resource: id,
                                                detail: "operator=\(Self.quoted(try row.decode(column: "operator_name", as: String.self)))"), in: tx)
            try await tx.enter(realm: IdentityRealm.id)
            return (try await sessions.open(for: user, client: client, in: tx), clinic)
        }
    }

    // MARK: The clinic

    func list(scope: ClinicScope) async throws -> [SupportGrant] {
        try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("SELECT " + Self.columns + """
                 FROM support_access WHERE clinic_id = \(bind: scope.realm) ORDER BY requested_at_ms DESC, id LIMIT 200
                """).all().map(Self.grant)
        }
    }

    /// An owner's decision. Granting starts the hours; revoking ends the support identity's
    /// sessions at once.
    func decide(_ id: UUID, to state: SupportAccessState, scope: ClinicScope) async throws -> SupportGrant {
        let sessions = SessionStore(services: services)
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<SupportGrant> in
            guard let grant = try await Self.find(id, clinic: scope.clinic, lock: true, in: tx) else { return .refused(.notFound) }
            let next = try grant.state.checkedMove(to: state)
            let now = Date()
            let expires: Date? = next == .granted ? now.addingTimeInterval(TimeInterval(grant.hours) * 3600) : grant.expiresAt
            try await tx.sql.raw("""
                UPDATE support_access SET state = \(bind: next.rawValue), decided_at_ms = \(bind: now.milliseconds),
                    decided_by = \(bind: scope.actor.rawValue), expires_at_ms = \(bind: expires?.milliseconds),
                    login_token_hash = NULL, login_expires_at_ms = NULL
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id)
                """).run()
            try await Ledger.append(scope.event("support.\(next == .granted ? "grant" : next == .refused ? "refuse" : "revoke")",
                                                resourceType: "support-access", resource: id,
                                                detail: "operator=\(Self.quoted(grant.operatorName))"), in: tx)
            if next == .revoked, let user = grant.supportUser {
                try await tx.enter(realm: IdentityRealm.id)
                _ = try await sessions.endAll(of: user, in: tx)
            }
            return .done(SupportGrant(id: id, clinic: scope.clinic, operatorName: grant.operatorName, reason: grant.reason, hours: grant.hours,
                                      state: next, requestedAt: grant.requestedAt, decidedAt: Date(milliseconds: now.milliseconds),
                                      expiresAt: expires.map { Date(milliseconds: $0.milliseconds) }, supportUser: grant.supportUser))
        }.get()
    }

    /// The grant that lets `user` into `clinic` now, if any: what a request of the support
    /// identity stands on, checked on every request so expiry and revocation take effect at once.
    func admitting(_ user: UserID, into clinic: ClinicID, in tx: ScopedSQL) async throws -> UUID? {
        try await tx.sql.raw("""
            SELECT id FROM support_access WHERE clinic_id = \(bind: clinic.rawValue) AND support_user_id = \(bind: user.rawValue)
                AND state = 'granted' AND expires_at_ms > \(bind: Date().milliseconds)
            """).first().map { try $0.decode(column: "id", as: UUID.self) }
    }

    // MARK: Rows

    /// The clinic a grant belongs to, for the command line, which is given only the grant's id.
    /// Each clinic's rows are visible only in its realm, so this asks each active clinic in turn.
    private func clinic(ofGrant id: UUID) async throws -> ClinicID? {
        let clinics = try await services.store.global.raw("SELECT id FROM clinics WHERE status = 'active'").all()
            .map { ClinicID(try $0.decode(column: "id", as: UUID.self)) }
        for clinic in clinics {
            let found = try await services.store.transaction(realm: clinic.rawValue) { tx in
                try await tx.sql.raw("SELECT id FROM support_access WHERE clinic_id = \(bind: clinic.rawValue) AND id = \(bind: id)").first() != nil
            }
            if found { return clinic }
        }
        return nil
    }

    private static func find(_ id: UUID, clinic: ClinicID, lock: Bool, in tx: ScopedSQL) async throws -> SupportGrant? {
        let forUpdate: SQLQueryString = lock && tx.kind == .postgres ? " FOR UPDATE" : ""
        return try await tx.sql.raw("SELECT " + columns + """
             FROM support_access WHERE clinic_id = \(bind: clinic.rawValue) AND id = \(bind: id)
            """ + forUpdate).first().map(grant)
    }

    private static func grant(_ row: any SQLRow) throws -> SupportGrant {
        SupportGrant(id: try row.decode(column: "id", as: UUID.self), clinic: ClinicID(try row.decode(column: "clinic_id", as: UUID.self)),
                     operatorName: try row.decode(column: "operator_name", as: String.self), reason: try row.decode(column: "reason", as: String.self),
                     hours: Int(try row.decode(column: "hours", as: Int64.self)),
                     state: SupportAccessState(rawValue: try row.decode(column: "state", as: String.self)) ?? .revoked,
                     requestedAt: Date(milliseconds: try row.decode(column: "requested_at_ms", as: Int64.self)),
                     decidedAt: try row.decode(column: "decided_at_ms", as: Int64?.self).map(Date.init(milliseconds:)),
                     expiresAt: try row.decode(column: "expires_at_ms", as: Int64?.self).map(Date.init(milliseconds:)),
                     supportUser: try row.decode(column: "support_user_id", as: UUID?.self).map(UserID.init))
    }

    /// A person row no one can sign in to with a password (the hash is of 256 random bits no one
    /// keeps), named for the operator, with an address under `.invalid` that can never be mail.
    private static func createSupportIdentity(_ user: UserID, grant: SupportGrant, passwordHash hash: String, services: ClinicServices,
                                              in tx: ScopedSQL) async throws {
        try await tx.enter(realm: IdentityRealm.id)
        let keys = try await services.keyring.keys(for: IdentityRealm.id, in: tx)
        let email = "support-\(grant.id.uuidString.lowercased())@support.invalid"
        try await tx.sql.raw("""
            INSERT INTO users (id, email_index, email, name, password_hash, created_at_ms)
            VALUES (\(bind: user.rawValue), \(bind: keys.blindIndex(email, kind: .email)),
                    \(bind: try keys.seal(email, table: "users", column: "email", row: user.rawValue).bytes),
                    \(bind: try keys.seal("Support: \(grant.operatorName)", table: "users", column: "name", row: user.rawValue).bytes),
                    \(bind: hash), \(bind: Date().milliseconds))
            """).run()
    }

    private static func operatorEvent(_ clinic: ClinicID, _ action: String, grant: UUID, requestID: String, detail: String) -> AuditEvent {
        RequestContext(actor: nil, address: nil, requestID: requestID)
            .event(chain: clinic.rawValue, action: action, resourceType: "support-access", resource: grant, detail: detail)
    }

    /// The operator's name in an event's detail, quoted so a space cannot start another field.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
