import AuditLedger
import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// A clinic's people: members with their roles, and invitations not yet accepted.
/// Memberships and invitations are global tables (an invitee is not yet a member), so every
/// statement here filters on the scope's clinic itself.
struct StaffDirectory: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let invitationLifetime: TimeInterval = 7 * 24 * 3600

    struct Member: Sendable {
        let user: UserID
        let name: String
        let email: String
        let roles: Set<Role>
        let hasTOTP: Bool
        let providerNumber: String?
    }

    struct Pending: Sendable {
        let id: UUID
        let email: String
        let roles: Set<Role>
        let expiresAt: Date
    }

    struct Issued: Sendable {
        let id: UUID
        let token: String
        let expiresAt: Date
    }

    func invite(email: EmailAddress, name: String, roles: Set<Role>) async throws -> Issued {
        guard Role.may(scope.roles, grantOrRevoke: roles) else { throw ClinicError.forbidden("Only an owner may invite an owner.") }
        let scope = self.scope, keyring = services.keyring
        let id = UUID(), token = SecureToken.generate(), now = Date()
        let expires = now.addingTimeInterval(Self.invitationLifetime)
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            let emailIndex = keys.blindIndex(email.value, kind: .email)
            let member = try await tx.sql.raw("""
                SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id
                WHERE m.clinic_id = \(bind: scope.realm) AND u.email_index = \(bind: emailIndex)
                """).first()
            if member != nil { throw ClinicError.conflict("already_member", "This person is already a member of the clinic.", field: "email") }
            try await tx.sql.raw("""
                INSERT INTO invitations (id, clinic_id, token_hash, email_index, email, name, roles, invited_by, created_at_ms, expires_at_ms)
                VALUES (\(bind: id), \(bind: scope.realm), \(bind: SecureToken.hash(token)), \(bind: emailIndex),
                        \(bind: try keys.seal(email.value, table: "invitations", column: "email", row: id).bytes),
                        \(bind: try keys.seal(name, table: "invitations", column: "name", row: id).bytes),
                        \(bind: Role.storedList(roles)), \(bind: scope.actor.rawValue), \(bind: now.milliseconds), \(bind: expires.milliseconds))
                """).run()
            try await tx.enter(realm: scope.realm)
            try await Ledger.append(scope.event("staff.invite", resourceType: "invitation", resource: id, detail: "roles=" + Role.storedList(roles)), in: tx)
        }
        return Issued(id: id, token: token, expiresAt: Date(milliseconds: expires.milliseconds))
    }

    /// Ends a pending invitation: its link stops working at once. Only someone who may give
    /// every role it offers may revoke it (an owner's invitation to an owner, an owner).
    func revokeInvitation(_ id: UUID) async throws {
        let scope = self.scope
        try await services.store.transaction(realm: scope.realm) { tx in
            guard let row = try await tx.sql.raw("""
                SELECT roles FROM invitations
                WHERE id = \(bind: id) AND clinic_id = \(bind: scope.realm) AND accepted_at_ms IS NULL AND expires_at_ms > \(bind: Date().milliseconds)
                """).first() else { throw ClinicError.notFound }
            let roles = Role.parseList(try row.decode(column: "roles", as: String.self)) ?? []
            guard Role.may(scope.roles, grantOrRevoke: roles) else { throw ClinicError.forbidden("Only an owner may revoke an invitation to an owner.") }
            try await tx.sql.raw("""
                UPDATE invitations SET expires_at_ms = 0 WHERE id = \(bind: id) AND clinic_id = \(bind: scope.realm) AND accepted_at_ms IS NULL
                """).run()
            try await Ledger.append(scope.event("staff.invitation.revoke", resourceType: "invitation", resource: id), in: tx)
        }
    }

    /// The pending invitations a member issued end when the member can no longer invite (removed,
    /// or no longer an owner or admin): an invitation never outlives its author's standing.
    private static func revokeInvitations(issuedBy user: UserID, scope: ClinicScope, tx: ScopedSQL) async throws {
        let revoked = try await tx.sql.raw("""
            UPDATE invitations SET expires_at_ms = 0
            WHERE clinic_id = \(bind: scope.realm) AND invited_by = \(bind: user.rawValue) AND accepted_at_ms IS NULL AND expires_at_ms > \(bind: Date().milliseconds)
            RETURNING id
            """).all()
        for row in revoked {
            try await Ledger.append(scope.event("staff.invitation.revoke", resourceType: "invitation", resource: try row.decode(column: "id", as: UUID.self),
                                                detail: "reason=inviter-lost-standing"), in: tx)
        }
    }

    func list() async throws -> (members: [Member], pending: [Pending]) {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            func open(_ row: any SQLRow, _ table: String, _ column: String, _ id: UUID) throws -> String {
                try keys.openRequiredColumn(row, table: table, column: column, id: id)
            }
            let members = try await tx.sql.raw("""
                SELECT u.id, u.email, u.name, u.totp_enabled_at_ms, m.roles, m.provider_number FROM memberships m JOIN users u ON u.id = m.user_id
                WHERE m.clinic_id = \(bind: scope.realm) ORDER BY m.created_at_ms
                """).all().map { row -> Member in
                    let id = try row.decode(column: "id", as: UUID.self)
                    return Member(user: UserID(id), name: try open(row, "users", "name", id), email: try open(row, "users", "email", id),
                                  roles: Role.parseList(try row.decode(column: "roles", as: String.self)) ?? [],
                                  hasTOTP: try row.decode(column: "totp_enabled_at_ms", as: Int64?.self) != nil,
                                  providerNumber: try row.decode(column: "provider_number", as: String?.self))
                }
            let pending = try await tx.sql.raw("""
                SELECT id, email, roles, expires_at_ms FROM invitations
                WHERE clinic_id = \(bind: scope.realm) AND accepted_at_ms IS NULL AND expires_at_ms > \(bind: Date().milliseconds)
                ORDER BY created_at_ms
                """).all().map { row -> Pending in
                    let id = try row.decode(column: "id", as: UUID.self)
                    return Pending(id: id, email: try open(row, "invitations", "email", id),
                                   roles: Role.parseList(try row.decode(column: "roles", as: String.self)) ?? [],
                                   expiresAt: Date(milliseconds: try row.decode(column: "expires_at_ms", as: Int64.self)))
                }
            try await tx.enter(realm: scope.realm)
            let shown = members.map(\.user.description).joined(separator: ",")
            try await Ledger.append(scope.event("staff.list", resourceType: "user", detail: shown.isEmpty ? nil : shown), in: tx)
            return (members, pending)
        }
    }

    /// The clinic's practitioners by name: what the diary needs to book and show appointments,
    /// for people who may not read the staff list (receptionists, bookkeepers). No e-mail, no roles.
    func practitioners() async throws -> [(user: UserID, name: String)] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            let people = try await tx.sql.raw("""
                SELECT u.id, u.name, m.roles FROM memberships m JOIN users u ON u.id = m.user_id
                WHERE m.clinic_id = \(bind: scope.realm) ORDER BY m.created_at_ms
                """).all().compactMap { row -> (user: UserID, name: String)? in
                    guard Role.parseList(try row.decode(column: "roles", as: String.self))?.contains(.practitioner) == true else { return nil }
                    let id = try row.decode(column: "id", as: UUID.self)
                    return (UserID(id), try keys.openRequiredColumn(row, table: "users", column: "name", id: id))
                }
            try await tx.enter(realm: scope.realm)
            let shown = people.map(\.user.description).joined(separator: ",")
            try await Ledger.append(scope.event("staff.list", resourceType: "user", detail: shown.isEmpty ? nil : shown), in: tx)
            return people
        }
    }

    /// Replaces a member's roles and ends their sessions. The last owner keeps the owner role.
    /// When the member is the actor, answers the session that replaces theirs.
    func changeRoles(of user: UserID, to roles: Set<Role>, client: SessionStore.Client,
                     assurance: SessionStore.Assurance) async throws -> SessionStore.Issued? {
        let scope = self.scope, services = self.services
        return try await services.store.transaction(realm: scope.realm) { tx -> SessionStore.Issued? in
            let current = try await Self.roles(of: user, in: scope.clinic, tx: tx)
            guard let current else { throw ClinicError.notFound }
            let changed = current.symmetricDifference(roles)
            guard Role.may(scope.roles, grantOrRevoke: changed) else { throw ClinicError.forbidden("Only an owner may give or take the owner role.") }
            if current.contains(.owner), !roles.contains(.owner), try await Self.ownerCount(in: scope.clinic, tx: tx) <= 1 {
                throw ClinicError.conflict("last_owner", "A clinic keeps at least one owner; make someone else an owner first.", field: "roles")
            }
            try await tx.sql.raw("""
                UPDATE memberships SET roles = \(bind: Role.storedList(roles)) WHERE clinic_id = \(bind: scope.realm) AND user_id = \(bind: user.rawValue)
                """).run()
            try await Ledger.append(scope.event("membership.update", resourceType: "user", resource: user.rawValue,
                                                detail: "roles=" + Role.storedList(roles)), in: tx)
            if roles.isDisjoint(with: [.owner, .admin]) { try await Self.revokeInvitations(issuedBy: user, scope: scope, tx: tx) }
            let sessions = SessionStore(services: services)
            try await tx.enter(realm: IdentityRealm.id)
            let ended = try await sessions.endAll(of: user, in: tx)
            try await Ledger.append(scope.context.event(chain: IdentityRealm.id, action: "session.revoke-all", resourceType: "user",
                                                        resource: user.rawValue, detail: "reason=roles-changed sessions-ended=\(ended)"), in: tx)
            return user == scope.actor ? try await sessions.open(for: user, client: client, assurance: assurance, in: tx) : nil
        }
    }

    /// Sets or clears (nil) a practitioner's Medicare provider number at this clinic. Invoices
    /// issued afterwards carry it; those already issued keep the one they were issued with.
    func setProviderNumber(of user: UserID, to number: ProviderNumber?) async throws {
        let scope = self.scope
        try await services.store.transaction(realm: scope.realm) { tx in
            guard let roles = try await Self.roles(of: user, in: scope.clinic, tx: tx) else { throw ClinicError.notFound }
            guard roles.contains(.practitioner) || number == nil else {
                throw ClinicError.invalid("providerNumber", "Provider numbers are for members who hold the practitioner role.")
            }
            try await tx.sql.raw("""
                UPDATE memberships SET provider_number = \(bind: number?.value) WHERE clinic_id = \(bind: scope.realm) AND user_id = \(bind: user.rawValue)
                """).run()
            try await Ledger.append(scope.event("membership.update", resourceType: "user", resource: user.rawValue,
                                                detail: number == nil ? "providerNumber=cleared" : "providerNumber=set"), in: tx)
        }
    }

    /// Removes a member. The last owner cannot be removed.
    func remove(_ user: UserID) async throws {
        let scope = self.scope
        try await services.store.transaction(realm: scope.realm) { tx in
            guard let current = try await Self.roles(of: user, in: scope.clinic, tx: tx) else { throw ClinicError.notFound }
            guard Role.may(scope.roles, grantOrRevoke: current) else { throw ClinicError.forbidden("Only an owner may remove an owner.") }
            if current.contains(.owner), try await Self.ownerCount(in: scope.clinic, tx: tx) <= 1 {
                throw ClinicError.conflict("last_owner", "The last owner cannot be removed.")
            }
            try await tx.sql.raw("DELETE FROM memberships WHERE clinic_id = \(bind: scope.realm) AND user_id = \(bind: user.rawValue)").run()
            try await Ledger.append(scope.event("membership.delete", resourceType: "user", resource: user.rawValue), in: tx)
            try await Self.revokeInvitations(issuedBy: user, scope: scope, tx: tx)
        }
    }

    private static func roles(of user: UserID, in clinic: ClinicID, tx: ScopedSQL) async throws -> Set<Role>? {
        // Locks the clinic's memberships on PostgreSQL, so two removals cannot both pass the last-owner check.
        let lock = tx.kind == .postgres ? " FOR UPDATE" : ""
        let rows = try await tx.sql.raw("""
            SELECT user_id, roles FROM memberships WHERE clinic_id = \(bind: clinic.rawValue)\(unsafeRaw: lock)
            """).all()
        for row in rows where try row.decode(column: "user_id", as: UUID.self) == user.rawValue {
            return Role.parseList(try row.decode(column: "roles", as: String.self))
        }
        return nil
    }

    private static func ownerCount(in clinic: ClinicID, tx: ScopedSQL) async throws -> Int {
        try await tx.sql.raw("SELECT roles FROM memberships WHERE clinic_id = \(bind: clinic.rawValue)").all()
            .filter { (Role.parseList((try? $0.decode(column: "roles", as: String.self)) ?? "") ?? []).contains(.owner) }.count
    }
}

/// Accepting an invitation: by token, before the invitee is a member of anything there.
///
/// The token is looked up first, with no password work at all: an unknown token costs one
/// indexed read, never a bcrypt. An invitation to an e-mail address that already has an account
/// is accepted only by that account while signed in (the route checks the session); no
/// password is ever checked here, so an invitation is no way to guess one.
struct InvitationAcceptance: Sendable {
    let services: ClinicServices

    struct Accepted: Sendable {
        let user: UserID
        let clinic: ClinicID
    }

    /// A live, unaccepted invitation, and the account its e-mail address already has, if any.
    struct Pending: Sendable {
        let id: UUID
        let clinic: UUID
        let emailIndex: Data
        let email: Data
        let name: Data
        let roles: String
        let existingAccount: UserID?
    }

    /// Who joins: the account that already exists, or a new person with the password they chose
    /// (already checked against the policy and hashed).
    enum Joining: Sendable {
        case existingAccount(UserID)
        case newPerson(name: String?, passwordHash: String)
    }

    func pending(token: String) async throws -> Pending? {
        guard SecureToken.isWellFormed(token) else { return nil }
        return try await services.store.transaction(realm: IdentityRealm.id) { tx -> Pending? in
            guard let row = try await tx.sql.raw("""
                SELECT id, clinic_id, email_index, email, name, roles FROM invitations
                WHERE token_hash = \(bind: SecureToken.hash(token)) AND accepted_at_ms IS NULL AND expires_at_ms > \(bind: Date().milliseconds)
                """).first() else { return nil }
            let emailIndex = try row.decode(column: "email_index", as: Data.self)
            let existing = try await tx.sql.raw("SELECT id FROM users WHERE email_index = \(bind: emailIndex)").first()
                .map { UserID(try $0.decode(column: "id", as: UUID.self)) }
            return Pending(id: try row.decode(column: "id", as: UUID.self), clinic: try row.decode(column: "clinic_id", as: UUID.self),
                           emailIndex: emailIndex, email: try row.decode(column: "email", as: Data.self),
                           name: try row.decode(column: "name", as: Data.self), roles: try row.decode(column: "roles", as: String.self),
                           existingAccount: existing)
        }
    }

    /// Claims the invitation and makes the membership; nil when it was accepted, revoked or
    /// expired meanwhile.
    func accept(_ invitation: Pending, joining: Joining, context: RequestContext) async throws -> Accepted? {
        let services = self.services
        return try await services.store.transaction(realm: IdentityRealm.id) { tx -> Accepted? in
            // Claimed first: of two concurrent acceptances only one finds it unaccepted.
            guard try await tx.sql.raw("""
                UPDATE invitations SET accepted_at_ms = \(bind: Date().milliseconds)
                WHERE id = \(bind: invitation.id) AND accepted_at_ms IS NULL AND expires_at_ms > \(bind: Date().milliseconds) RETURNING id
                """).first() != nil else { return nil }
            var actor = context
            let user: UUID
            switch joining {
            case let .existingAccount(existing):
                user = existing.rawValue
            case let .newPerson(name, passwordHash):
                let keys = try await services.keyring.keys(for: IdentityRealm.id, in: tx)
                user = UUID()
                let email = try keys.open(try SealedField(bytes: invitation.email), table: "invitations", column: "email", row: invitation.id)
                let invitedName = try keys.open(try SealedField(bytes: invitation.name), table: "invitations", column: "name", row: invitation.id)
                let chosenName = name.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } ?? invitedName
                try await tx.sql.raw("""
                    INSERT INTO users (id, email_index, email, name, password_hash, created_at_ms)
                    VALUES (\(bind: user), \(bind: invitation.emailIndex),
                            \(bind: try keys.seal(email, table: "users", column: "email", row: user).bytes),
                            \(bind: try keys.seal(String(chosenName.prefix(200)), table: "users", column: "name", row: user).bytes),
                            \(bind: passwordHash), \(bind: Date().milliseconds))
                    """).run()
                actor.actor = UserID(user)
                try await Ledger.append(actor.event(chain: IdentityRealm.id, action: "user.create", resourceType: "user", resource: user), in: tx)
            }
            actor.actor = UserID(user)
            try await tx.sql.raw("""
                INSERT INTO memberships (clinic_id, user_id, roles, created_at_ms) VALUES (\(bind: invitation.clinic), \(bind: user), \(bind: invitation.roles), \(bind: Date().milliseconds))
                ON CONFLICT (clinic_id, user_id) DO NOTHING
                """).run()
            try await tx.enter(realm: invitation.clinic)
            try await Ledger.append(actor.event(chain: invitation.clinic, action: "invitation.accept", resourceType: "invitation", resource: invitation.id), in: tx)
            try await Ledger.append(actor.event(chain: invitation.clinic, action: "membership.create", resourceType: "user", resource: user,
                                                detail: "roles=" + invitation.roles), in: tx)
            return Accepted(user: UserID(user), clinic: ClinicID(invitation.clinic))
        }
    }
}
