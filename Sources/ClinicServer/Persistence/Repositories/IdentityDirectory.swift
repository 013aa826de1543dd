import AuditLedger
import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// People, clinics and memberships: global tables, reached only from here. A person's e-mail
/// and name are sealed in the identity realm and the e-mail is found by its blind index.
struct IdentityDirectory: Sendable {
    let services: ClinicServices

    struct Membership: Sendable {
        let clinic: ClinicID
        let clinicName: String
        let country: CountryCode
        let timeZone: ClinicTimeZone
        let roles: Set<Role>
        /// The clinic's security policy.
        let mfaRequiredRoles: Set<Role>
        let passwordMinimum: Int
        /// Practitioners read only their own patients' clinical records (`CaseAccess`).
        let caseBasedAccess: Bool
        /// When an owner or admin without a second factor is first sent to set one up (PRX-6:
        /// required for administrators, whatever the clinic's policy says of other roles).
        let adminGraceEnds: Date

        static let administrators: Set<Role> = [.owner, .admin]

        func requiresMFA(now: Date = Date()) -> Bool {
            !roles.isDisjoint(with: mfaRequiredRoles) || (!roles.isDisjoint(with: Self.administrators) && now >= adminGraceEnds)
        }
    }

    struct Person: Sendable {
        let id: UserID
        let email: String
        let name: String
    }

    struct NewClinic: Sendable {
        let clinic: ClinicID
        let owner: UserID
    }

    enum SignUpOutcome: Sendable {
        case created(NewClinic)
        case emailInUse
    }

    /// Creates a clinic, its keys, its first owner and the membership, all in one transaction.
    func createClinic(name: String, country: CountryCode, ownerEmail: EmailAddress, ownerName: String,
                      passwordHash: String, context: RequestContext) async throws -> SignUpOutcome {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx -> SignUpOutcome in
            let identityKeys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            let emailIndex = identityKeys.blindIndex(ownerEmail.value, kind: .email)
            if try await tx.sql.raw("SELECT id FROM users WHERE email_index = \(bind: emailIndex)").first() != nil {
                try await Ledger.append(context.event(chain: IdentityRealm.id, action: "clinic.signup", outcome: .failure, detail: "email-in-use"), in: tx)
                return .emailInUse
            }
            let user = UserID.random()
            let clinic = ClinicID.random()
            let now = Date().milliseconds
            try await tx.sql.raw("""
                INSERT INTO users (id, email_index, email, name, password_hash, created_at_ms)
                VALUES (\(bind: user.rawValue), \(bind: emailIndex),
                        \(bind: try identityKeys.seal(ownerEmail.value, table: "users", column: "email", row: user.rawValue).bytes),
                        \(bind: try identityKeys.seal(ownerName, table: "users", column: "name", row: user.rawValue).bytes),
                        \(bind: passwordHash), \(bind: now))
                """).run()
            var actorContext = context
            actorContext.actor = user
            try await Ledger.append(actorContext.event(chain: IdentityRealm.id, action: "user.create", resourceType: "user", resource: user.rawValue), in: tx)

            try await tx.sql.raw("""
                INSERT INTO clinics (id, name, country, status, created_at_ms, case_based_access)
                VALUES (\(bind: clinic.rawValue), \(bind: name), \(bind: country.rawValue), 'active', \(bind: now), 1)
                """).run()
            try await tx.enter(realm: clinic.rawValue)
            try await keyring.create(for: clinic.rawValue, in: tx)
            try await tx.sql.raw("""
                INSERT INTO memberships (clinic_id, user_id, roles, created_at_ms) VALUES (\(bind: clinic.rawValue), \(bind: user.rawValue), \(bind: Role.storedList([.owner])), \(bind: now))
                """).run()
            try await Ledger.append(actorContext.event(chain: clinic.rawValue, action: "clinic.create", resourceType: "clinic", resource: clinic.rawValue), in: tx)
            try await Ledger.append(actorContext.event(chain: clinic.rawValue, action: "membership.create", resourceType: "user",
                                                       resource: user.rawValue, detail: "roles=owner"), in: tx)
            return .created(NewClinic(clinic: clinic, owner: user))
        }
    }

    struct Credentials: Sendable {
        let user: UserID
        let passwordHash: String
        let hasTOTP: Bool
        /// Locked by the operator (`clinickeep user lock`): sign-in fails as for a wrong password.
        let locked: Bool
    }

    /// The stored password hash for an e-mail, or nil when no one has that address.
    func credentials(for email: EmailAddress) async throws -> Credentials? {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            guard let row = try await tx.sql.raw("""
                SELECT id, password_hash, totp_enabled_at_ms, locked_at_ms FROM users WHERE email_index = \(bind: keys.blindIndex(email.value, kind: .email))
                """).first() else { return nil }
            return Credentials(user: UserID(try row.decode(column: "id", as: UUID.self)), passwordHash: try row.decode(column: "password_hash", as: String.self),
                               hasTOTP: try row.decode(column: "totp_enabled_at_ms", as: Int64?.self) != nil,
                               locked: try row.decode(column: "locked_at_ms", as: Int64?.self) != nil)
        }
    }

    /// Records a sign-in attempt in the identity chain and, when it succeeded, opens a session
    /// at `stage`, in one transaction.
    func recordSignIn(user: UserID?, succeeded: Bool, stage: SessionStore.Stage, context: RequestContext, client: SessionStore.Client,
                      sessions: SessionStore) async throws -> SessionStore.Issued? {
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            var attempt = context
            attempt.actor = user
            try await Ledger.append(attempt.event(chain: IdentityRealm.id, action: "auth.login", resourceType: user == nil ? nil : "user",
                                                  resource: user?.rawValue, outcome: succeeded ? .success : .failure,
                                                  detail: succeeded && stage == .secondFactor ? "mfa-pending" : nil), in: tx)
            guard succeeded, let user else { return nil }
            return try await sessions.open(for: user, client: client, stage: stage, in: tx)
        }
    }

    /// The second factor's outcome: on success the pending session is replaced by a full one.
    func completeSecondFactor(session: SessionStore.Active, verdict: SecondFactors.Verdict, context: RequestContext,
                              client: SessionStore.Client, sessions: SessionStore) async throws -> SessionStore.Issued? {
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            var attempt = context
            attempt.actor = session.user
            let detail: String
            switch verdict {
            case .invalid: detail = "invalid-code"
            case .totp: detail = "method=totp"
            case let .recoveryCode(remaining): detail = "method=recovery-code remaining=\(remaining)"
            }
            try await Ledger.append(attempt.event(chain: IdentityRealm.id, action: "auth.mfa", resourceType: "user", resource: session.user.rawValue,
                                                  outcome: verdict == .invalid ? .failure : .success, detail: detail), in: tx)
            guard verdict != .invalid else { return nil }
            try await tx.sql.raw("DELETE FROM sessions WHERE id = \(bind: session.session.rawValue)").run()
            return try await sessions.open(for: session.user, client: client, stage: .full, assurance: .totp, in: tx)
        }
    }

    /// An attempt refused because its subject is locked or out of attempts.
    /// Once per route and source address a minute (`RepeatedEvents`): refusals come on every
    /// request of a flood, and each would otherwise be a permanent entry.
    func recordThrottled(action: String, context: RequestContext) async throws {
        let admission = services.repeatedEvents.admit("auth.throttled|\(action)|\(context.address ?? "-")")
        guard admission.record else { return }
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "auth.throttled", outcome: .failure,
                                                  detail: RepeatedEvents.detail(action, repeated: admission.repeated)), in: tx)
        }
    }

    /// A subject just got locked: recorded, and the account's owner is told by e-mail (ASVS 2.2.3)
    /// when `email` names an account that exists.
    func recordLockout(of user: UserID?, email: EmailAddress?, detail: String, context: RequestContext) async throws {
        let outbox = Outbox(services: services)
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "auth.lockout", resourceType: user == nil ? nil : "user",
                                                  resource: user?.rawValue, outcome: .failure, detail: detail), in: tx)
            guard user != nil, let email else { return }
            try await outbox.enqueue(to: email.value, subject: "ClinicKeep: sign-in to your account is locked for 15 minutes", body: """
                Someone tried to sign in to your ClinicKeep account with a wrong password too many times, so signing in is
                locked for 15 minutes.

                If this was you, wait and try again, or reset your password from the sign-in page.
                If it was not you, your password has still not been given away; consider changing it once you are back in,
                and tell your clinic's owner.
                """, kind: "lockout", in: tx)
        }
    }

    func person(_ id: UserID) async throws -> Person? {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            guard let row = try await tx.sql.raw("SELECT email, name FROM users WHERE id = \(bind: id.rawValue)").first() else { return nil }
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            return Person(id: id, email: try keys.openRequiredColumn(row, table: "users", column: "email", id: id.rawValue),
                          name: try keys.openRequiredColumn(row, table: "users", column: "name", id: id.rawValue))
        }
    }

    func memberships(of user: UserID) async throws -> [Membership] {
        // In the identity realm: a person's clinics are looked up before any clinic is known.
        let rows = try await services.store.read(realm: IdentityRealm.id) { tx in
            try await tx.sql.raw("""
                SELECT m.clinic_id, m.roles, m.created_at_ms, c.name, c.country, c.time_zone, c.mfa_required_roles, c.password_minimum, c.case_based_access
                FROM memberships m JOIN clinics c ON c.id = m.clinic_id
                WHERE m.user_id = \(bind: user.rawValue) ORDER BY c.name
                """).all()
        }
        let grace = services.settings.adminMFAGrace
        return try rows.compactMap { try Self.membership($0, adminGrace: grace) }
    }

    /// The person's membership of one clinic, or nil: the caller answers 404 either way.
    func membership(of user: UserID, in clinic: ClinicID) async throws -> Membership? {
        let found = try await services.store.read(realm: clinic.rawValue) { tx in
            try await tx.sql.raw("""
                SELECT m.clinic_id, m.roles, m.created_at_ms, c.name, c.country, c.time_zone, c.mfa_required_roles, c.password_minimum, c.case_based_access
                FROM memberships m JOIN clinics c ON c.id = m.clinic_id
                WHERE m.user_id = \(bind: user.rawValue) AND m.clinic_id = \(bind: clinic.rawValue) AND c.status = 'active'
                """).first()
        }
        guard let row = found else { return nil }
        return try Self.membership(row, adminGrace: services.settings.adminMFAGrace)
    }

    /// The grace counts from when the person joined the clinic.
    private static func membership(_ row: any SQLRow, adminGrace: TimeInterval) throws -> Membership? {
        guard let roles = Role.parseList(try row.decode(column: "roles", as: String.self)),
              let country = CountryCode(try row.decode(column: "country", as: String.self)) else { return nil }
        return Membership(clinic: ClinicID(try row.decode(column: "clinic_id", as: UUID.self)),
                          clinicName: try row.decode(column: "name", as: String.self), country: country,
                          timeZone: ClinicTimeZone(storedIdentifier: try row.decode(column: "time_zone", as: String.self)), roles: roles,
                          mfaRequiredRoles: Role.parseList(try row.decode(column: "mfa_required_roles", as: String.self)) ?? Set(Role.allCases),
                          passwordMinimum: Int(try row.decode(column: "password_minimum", as: Int64.self)),
                          caseBasedAccess: try row.decode(column: "case_based_access", as: Int64.self) != 0,
                          adminGraceEnds: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)).addingTimeInterval(adminGrace))
    }

    /// The password minimum that holds for a person: the strictest of their clinics'.
    func passwordMinimum(for user: UserID) async throws -> Int {
        try await memberships(of: user).map(\.passwordMinimum).max() ?? services.passwordPolicy.minimumLength
    }

    func hasAnyPerson() async throws -> Bool {
        try await services.store.global.raw("SELECT id FROM users LIMIT 1").first() != nil
    }
}
