import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// Reset by e-mailed link (ASVS 2.5): a random token, stored hashed, good once and for 30
/// minutes. Completing a reset ends every session of the person and lifts their sign-in lockout.
struct PasswordResets: Sendable {
    let services: ClinicServices

    static let lifetime: TimeInterval = 30 * 60

    /// Sends a link when the e-mail has an account; records the request either way.
    func request(for email: EmailAddress, context: RequestContext) async throws {
        let services = self.services
        let outbox = Outbox(services: services)
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await services.keyring.keys(for: IdentityRealm.id, in: tx)
            guard let row = try await tx.sql.raw("""
                SELECT id FROM users WHERE email_index = \(bind: keys.blindIndex(email.value, kind: .email))
                """).first() else {
                try await Ledger.append(context.event(chain: IdentityRealm.id, action: "password.reset.request", outcome: .failure,
                                                      detail: "no-account"), in: tx)
                return
            }
            let user = try row.decode(column: "id", as: UUID.self)
            let token = SecureToken.generate(), now = Date()
            try await tx.sql.raw("""
                INSERT INTO password_resets (token_hash, user_id, created_at_ms, expires_at_ms)
                VALUES (\(bind: SecureToken.hash(token)), \(bind: user), \(bind: now.milliseconds), \(bind: now.addingTimeInterval(Self.lifetime).milliseconds))
                """).run()
            let link = "\(services.settings.linkBaseURL)/reset-password?token=\(token)"
            try await outbox.enqueue(to: email.value, subject: "ClinicKeep: reset your password", body: """
                Someone asked to reset the password of your ClinicKeep account. To choose a new password, open this link
                within 30 minutes (it works once):

                \(link)

                If you did not ask for this, ignore this e-mail: your password stays as it is.
                """, kind: "password-reset", in: tx)
            var actor = context
            actor.actor = UserID(user)
            try await Ledger.append(actor.event(chain: IdentityRealm.id, action: "password.reset.request", resourceType: "user", resource: user), in: tx)
        }
    }

    /// The person a live token belongs to, without spending it.
    func holder(of token: String, now: Date = Date()) async throws -> UserID? {
        guard SecureToken.isWellFormed(token) else { return nil }
        let row = try await services.store.global.raw("""
            SELECT user_id FROM password_resets
            WHERE token_hash = \(bind: SecureToken.hash(token)) AND used_at_ms IS NULL AND expires_at_ms > \(bind: now.milliseconds)
            """).first()
        return try row.map { UserID(try $0.decode(column: "user_id", as: UUID.self)) }
    }

    /// Spends the token and sets the password; false when the token was spent meanwhile.
    func complete(token: String, user: UserID, newPasswordHash: String, accountThrottle: SignInThrottle.Subject,
                  context: RequestContext, now: Date = Date()) async throws -> Bool {
        let services = self.services
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            guard try await tx.sql.raw("""
                UPDATE password_resets SET used_at_ms = \(bind: now.milliseconds)
                WHERE token_hash = \(bind: SecureToken.hash(token)) AND user_id = \(bind: user.rawValue)
                  AND used_at_ms IS NULL AND expires_at_ms > \(bind: now.milliseconds)
                RETURNING user_id
                """).first() != nil else { return false }
            try await tx.sql.raw("UPDATE users SET password_hash = \(bind: newPasswordHash) WHERE id = \(bind: user.rawValue)").run()
            // Every other outstanding link of the person dies with this one.
            _ = try await Self.spendAll(of: user, now: now, in: tx)
            let ended = try await SessionStore(services: services).endAll(of: user, in: tx)
            try await SignInThrottle(services: services).clear(accountThrottle, in: tx)
            var actor = context
            actor.actor = user
            try await Ledger.append(actor.event(chain: IdentityRealm.id, action: "password.reset.complete", resourceType: "user",
                                                resource: user.rawValue, detail: "sessions-ended=\(ended)"), in: tx)
            return true
        }
    }

    /// Spends every outstanding reset link of a person: a new password, however it was set,
    /// leaves no older link able to set another. Answers how many there were.
    static func spendAll(of user: UserID, now: Date = Date(), in tx: ScopedSQL) async throws -> Int {
        try await tx.sql.raw("""
            UPDATE password_resets SET used_at_ms = \(bind: now.milliseconds) WHERE user_id = \(bind: user.rawValue) AND used_at_ms IS NULL
            RETURNING user_id
            """).all().count
    }
}
