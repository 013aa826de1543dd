import ClinicDomain
import Crypto
import Foundation
import SQLKit

/// Integrations' API tokens for one clinic: issued by its owner, shown once, kept only as a
/// hash, scoped to the roles they were issued for, expiring, revocable. Issue and revocation
/// are in the clinic's audit chain; what a token then does is recorded with the token's id as
/// the actor.
struct APITokens: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    /// What a clinic sees of a token: never the token or its hash.
    struct Entry: Sendable {
        let id: UUID
        let label: String
        let roles: Set<Role>
        let createdBy: UUID
        let createdAt: Date
        let expiresAt: Date
        let revokedAt: Date?
        let lastUsedAt: Date?
    }

    /// Tokens start with a fixed prefix, so secret scanners and people can tell one in a log or a repository.
    static let prefix = "ckt_"

    func issue(label: String?, roles: [String]?, expiresInDays: Int?) async throws -> (entry: Entry, token: String) {
        let label = try APITokenRules.checkLabel(label)
        let roles = try APITokenRules.checkRoles(roles)
        let days = try APITokenRules.checkLifetime(expiresInDays)
        let scope = self.scope
        let token = Self.prefix + SecureToken.generate()
        let id = UUID(), now = Date().milliseconds
        let expires = now + Int64(days) * 24 * 3_600_000
        try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("""
                INSERT INTO api_tokens (id, clinic_id, label, roles, token_hash, created_by, created_at_ms, expires_at_ms)
                VALUES (\(bind: id), \(bind: scope.realm), \(bind: label), \(bind: Role.storedList(roles)), \(bind: SecureToken.hash(token)),
                        \(bind: scope.actor.rawValue), \(bind: now), \(bind: expires))
                """).run()
            try await Ledger.append(scope.event("api_token.issue", resourceType: "api_token", resource: id,
                                                detail: "roles=\(Role.storedList(roles)) days=\(days)"), in: tx)
        }
        return (Entry(id: id, label: label, roles: roles, createdBy: scope.actor.rawValue, createdAt: Date(milliseconds: now),
                      expiresAt: Date(milliseconds: expires), revokedAt: nil, lastUsedAt: nil), token)
    }

    func list() async throws -> [Entry] {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("""
                SELECT id, label, roles, created_by, created_at_ms, expires_at_ms, revoked_at_ms, last_used_at_ms
                FROM api_tokens WHERE clinic_id = \(bind: scope.realm) ORDER BY created_at_ms DESC, id
                """).all().map { row in
                Entry(id: try row.decode(column: "id", as: UUID.self), label: try row.decode(column: "label", as: String.self),
                      roles: Role.parseList(try row.decode(column: "roles", as: String.self)) ?? [],
                      createdBy: try row.decode(column: "created_by", as: UUID.self),
                      createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                      expiresAt: Date(milliseconds: try row.decode(column: "expires_at_ms", as: Int64.self)),
                      revokedAt: try row.decode(column: "revoked_at_ms", as: Int64?.self).map(Date.init(milliseconds:)),
                      lastUsedAt: try row.decode(column: "last_used_at_ms", as: Int64?.self).map(Date.init(milliseconds:)))
            }
        }
    }

    func revoke(_ id: UUID) async throws {
        let scope = self.scope
        let revoked = try await services.store.transaction(realm: scope.realm) { tx -> Bool in
            let revoked = try await tx.sql.raw("""
                UPDATE api_tokens SET revoked_at_ms = \(bind: Date().milliseconds)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id) AND revoked_at_ms IS NULL RETURNING id
                """).first() != nil
            try await Ledger.append(scope.event("api_token.revoke", resourceType: "api_token", resource: id,
                                                outcome: revoked ? .success : .failure), in: tx)
            return revoked
        }
        guard revoked else { throw ClinicError.notFound }
    }
}

/// A request that carried a live API token: which token, for which clinic, with which roles.
struct APIBearer: Sendable {
    let token: UUID
    let clinic: ClinicID
    let roles: Set<Role>

    static let invalid = ClinicError(status: 401, code: "invalid_token", message: "The API token is unknown, revoked or expired.")

    /// The live token `presented` opens, or nil when it is malformed, unknown, revoked, expired,
    /// or its clinic was deleted.
    static func resume(_ presented: String, services: ClinicServices, now: Date = Date()) async throws -> APIBearer? {
        guard presented.hasPrefix(APITokens.prefix), SecureToken.isWellFormed(String(presented.dropFirst(APITokens.prefix.count))) else { return nil }
        // In the identity realm: a token is looked up by its hash before its clinic is known.
        let found = try await services.store.read(realm: IdentityRealm.id) { tx in
            try await tx.sql.raw("""
                SELECT t.id, t.clinic_id, t.roles, t.expires_at_ms, t.revoked_at_ms, t.last_used_at_ms
                FROM api_tokens t JOIN clinics c ON c.id = t.clinic_id
                WHERE t.token_hash = \(bind: SecureToken.hash(presented)) AND c.status = 'active'
                """).first()
        }
        guard let row = found else { return nil }
        guard try row.decode(column: "revoked_at_ms", as: Int64?.self) == nil,
              now.milliseconds < (try row.decode(column: "expires_at_ms", as: Int64.self)),
              let roles = Role.parseList(try row.decode(column: "roles", as: String.self)) else { return nil }
        let id = try row.decode(column: "id", as: UUID.self)
        // Each token's requests are limited (PRX-9), shared by every instance.
        try await SignInThrottle(services: services).limit([(.apiToken, id.uuidString)])
        // Written at most once a minute: owners see roughly when a token was last used, without a write per request.
        let lastUsed = try row.decode(column: "last_used_at_ms", as: Int64?.self) ?? 0
        if now.milliseconds - lastUsed > 60_000 {
            try await services.store.read(realm: IdentityRealm.id) { tx in
                try await tx.sql.raw("UPDATE api_tokens SET last_used_at_ms = \(bind: now.milliseconds) WHERE id = \(bind: id)").run()
            }
        }
        // Only the roles a token may hold count, whatever the row says.
        return APIBearer(token: id, clinic: ClinicID(try row.decode(column: "clinic_id", as: UUID.self)),
                         roles: roles.intersection(APITokenRules.grantableRoles))
    }
}
