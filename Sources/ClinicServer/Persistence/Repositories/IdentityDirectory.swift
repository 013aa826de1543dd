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
        let roles: Set<Role>
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
                INSERT INTO clinics (id, name, country, status, created_at_ms) VALUES (\(bind: clinic.rawValue), \(bind: name), \(bind: country.rawValue), 'active', \(bind: now))
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

    /// The stored password hash for an e-mail, or nil when no one has that address.
    func credentials(for email: EmailAddress) async throws -> (user: UserID, passwordHash: String)? {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            guard let row = try await tx.sql.raw("""
                SELECT id, password_hash FROM users WHERE email_index = \(bind: keys.blindIndex(email.value, kind: .email))
                """).first() else { return nil }
            return (UserID(try row.decode(column: "id", as: UUID.self)), try row.decode(column: "password_hash", as: String.self))
        }
    }

    /// Records a sign-in attempt in the identity chain and, when it succeeded, opens a session,
    /// in one transaction.
    func recordSignIn(user: UserID?, succeeded: Bool, context: RequestContext, client: SessionStore.Client,
                      sessions: SessionStore) async throws -> SessionStore.Issued? {
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            var attempt = context
            attempt.actor = user
            try await Ledger.append(attempt.event(chain: IdentityRealm.id, action: "auth.login", resourceType: user == nil ? nil : "user",
                                                  resource: user?.rawValue, outcome: succeeded ? .success : .failure), in: tx)
            guard succeeded, let user else { return nil }
            return try await sessions.open(for: user, client: client, in: tx)
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
        let rows = try await services.store.global.raw("""
            SELECT m.clinic_id, m.roles, c.name, c.country FROM memberships m JOIN clinics c ON c.id = m.clinic_id
            WHERE m.user_id = \(bind: user.rawValue) ORDER BY c.name
            """).all()
        return try rows.compactMap(Self.membership)
    }

    /// The person's membership of one clinic, or nil: the caller answers 404 either way.
    func membership(of user: UserID, in clinic: ClinicID) async throws -> Membership? {
        guard let row = try await services.store.global.raw("""
            SELECT m.clinic_id, m.roles, c.name, c.country FROM memberships m JOIN clinics c ON c.id = m.clinic_id
            WHERE m.user_id = \(bind: user.rawValue) AND m.clinic_id = \(bind: clinic.rawValue) AND c.status = 'active'
            """).first() else { return nil }
        return try Self.membership(row)
    }

    private static func membership(_ row: any SQLRow) throws -> Membership? {
        guard let roles = Role.parseList(try row.decode(column: "roles", as: String.self)),
              let country = CountryCode(try row.decode(column: "country", as: String.self)) else { return nil }
        return Membership(clinic: ClinicID(try row.decode(column: "clinic_id", as: UUID.self)),
                          clinicName: try row.decode(column: "name", as: String.self), country: country, roles: roles)
    }

    func hasAnyPerson() async throws -> Bool {
        try await services.store.global.raw("SELECT id FROM users LIMIT 1").first() != nil
    }
}
