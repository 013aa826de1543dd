import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// A person's TOTP authenticator and recovery codes. The secret is sealed in the identity
/// realm; recovery codes are stored only as hashes and shown once.
struct SecondFactors: Sendable {
    let services: ClinicServices

    struct Enrolment: Sendable {
        let secret: String
        let otpauthURL: String
    }

    enum Verdict: Sendable, Equatable {
        case totp
        case recoveryCode(remaining: Int)
        case invalid
    }

    /// A new secret, pending until a code from it is confirmed. A second call replaces it.
    func beginEnrolment(of user: UserID, email: String, context: RequestContext) async throws -> Enrolment {
        let keyring = services.keyring
        let secret = TOTPSecret.generate()
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let row = try await tx.sql.raw("SELECT totp_enabled_at_ms FROM users WHERE id = \(bind: user.rawValue)").first()
            guard let row else { throw ClinicError.notSignedIn }
            guard try row.decode(column: "totp_enabled_at_ms", as: Int64?.self) == nil else {
                throw ClinicError.conflict("totp_enrolled", "An authenticator is already set up; turn it off first to set up another.")
            }
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            let sealed = try keys.seal(secret.base32, table: "users", column: "totp_pending_secret", row: user.rawValue)
            try await tx.sql.raw("UPDATE users SET totp_pending_secret = \(bind: sealed.bytes) WHERE id = \(bind: user.rawValue)").run()
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "totp.enrol", resourceType: "user", resource: user.rawValue), in: tx)
        }
        return Enrolment(secret: secret.base32, otpauthURL: secret.otpauthURL(account: email))
    }

    /// Turns the pending secret on once a code from it is shown; answers the recovery codes,
    /// or nil when the code is wrong or nothing is pending.
    /// On success every other session of the person ends (one opened by a stolen password
    /// must not outlive the second factor), and `session`, which just gave a code, carries it.
    func confirmEnrolment(of user: UserID, session: SessionID, code: String, context: RequestContext, now: Date = Date()) async throws -> [String]? {
        let keyring = services.keyring, sessions = SessionStore(services: services)
        return try await services.store.transaction(realm: IdentityRealm.id) { tx -> [String]? in
            guard let row = try await tx.sql.raw("""
                SELECT totp_pending_secret, totp_enabled_at_ms FROM users WHERE id = \(bind: user.rawValue)
                """).first(), try row.decode(column: "totp_enabled_at_ms", as: Int64?.self) == nil else { return nil }
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            guard let text = try keys.openColumn(row, table: "users", column: "totp_pending_secret", id: user.rawValue),
                  let secret = Base32.decode(text).map(TOTPSecret.init(bytes:)),
                  let step = secret.matchingStep(for: code, at: now, after: nil) else {
                try await Ledger.append(context.event(chain: IdentityRealm.id, action: "totp.confirm", resourceType: "user",
                                                      resource: user.rawValue, outcome: .failure), in: tx)
                return nil
            }
            let sealed = try keys.seal(text, table: "users", column: "totp_secret", row: user.rawValue)
            try await tx.sql.raw("""
                UPDATE users SET totp_secret = \(bind: sealed.bytes), totp_pending_secret = NULL,
                    totp_enabled_at_ms = \(bind: now.milliseconds), totp_last_step = \(bind: step)
                WHERE id = \(bind: user.rawValue)
                """).run()
            let codes = try await Self.replaceRecoveryCodes(of: user, now: now, in: tx)
            let ended = try await sessions.endOthers(of: user, keep: session, in: tx)
            try await sessions.raise(session, to: .totp, in: tx)
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "totp.confirm", resourceType: "user", resource: user.rawValue,
                                                  detail: "sessions-ended=\(ended)"), in: tx)
            return codes
        }
    }

    private static func replaceRecoveryCodes(of user: UserID, now: Date, in tx: ScopedSQL) async throws -> [String] {
        try await tx.sql.raw("DELETE FROM recovery_codes WHERE user_id = \(bind: user.rawValue)").run()
        var codes: [String] = []
        while codes.count < RecoveryCode.count {
            let code = RecoveryCode.generate()
            guard !codes.contains(code), let normalised = RecoveryCode.normalised(code) else { continue }
            try await tx.sql.raw("""
                INSERT INTO recovery_codes (user_id, code_hash, created_at_ms) VALUES (\(bind: user.rawValue), \(bind: RecoveryCode.hash(normalised)), \(bind: now.milliseconds))
                """).run()
            codes.append(code)
        }
        return codes
    }

    /// Checks a TOTP or recovery code and spends it: a TOTP time step is good once, a recovery
    /// code once. The claim is one conditional UPDATE, so two concurrent uses cannot both pass.
    func verify(_ code: String, of user: UserID, now: Date = Date()) async throws -> Verdict {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx -> Verdict in
            guard let row = try await tx.sql.raw("""
                SELECT totp_secret, totp_last_step FROM users WHERE id = \(bind: user.rawValue) AND totp_enabled_at_ms IS NOT NULL
                """).first() else { return .invalid }
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            if let text = try keys.openColumn(row, table: "users", column: "totp_secret", id: user.rawValue),
               let secret = Base32.decode(text).map(TOTPSecret.init(bytes:)),
               let step = secret.matchingStep(for: code, at: now, after: try row.decode(column: "totp_last_step", as: Int64?.self)) {
                let claimed = try await tx.sql.raw("""
                    UPDATE users SET totp_last_step = \(bind: step)
                    WHERE id = \(bind: user.rawValue) AND (totp_last_step IS NULL OR totp_last_step < \(bind: step)) RETURNING id
                    """).first()
                return claimed == nil ? .invalid : .totp
            }
            guard let normalised = RecoveryCode.normalised(code) else { return .invalid }
            guard try await tx.sql.raw("""
                UPDATE recovery_codes SET used_at_ms = \(bind: now.milliseconds)
                WHERE user_id = \(bind: user.rawValue) AND code_hash = \(bind: RecoveryCode.hash(normalised)) AND used_at_ms IS NULL
                RETURNING user_id
                """).first() != nil else { return .invalid }
            let remaining = try await tx.sql.raw("""
                SELECT code_hash FROM recovery_codes WHERE user_id = \(bind: user.rawValue) AND used_at_ms IS NULL
                """).all().count
            return .recoveryCode(remaining: remaining)
        }
    }

    /// Ten new recovery codes in place of every earlier one, used or not (the caller has
    /// re-checked the password); nil when no authenticator is set up.
    func regenerateRecoveryCodes(of user: UserID, context: RequestContext, now: Date = Date()) async throws -> [String]? {
        try await services.store.transaction(realm: IdentityRealm.id) { tx -> [String]? in
            guard try await tx.sql.raw("""
                SELECT id FROM users WHERE id = \(bind: user.rawValue) AND totp_enabled_at_ms IS NOT NULL
                """).first() != nil else { return nil }
            let codes = try await Self.replaceRecoveryCodes(of: user, now: now, in: tx)
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "recovery_codes.regenerate", resourceType: "user",
                                                  resource: user.rawValue), in: tx)
            return codes
        }
    }

    /// Removes the authenticator and its recovery codes (the caller has re-checked the password).
    func disable(for user: UserID, context: RequestContext) async throws {
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            try await tx.sql.raw("""
                UPDATE users SET totp_secret = NULL, totp_pending_secret = NULL, totp_enabled_at_ms = NULL, totp_last_step = NULL
                WHERE id = \(bind: user.rawValue)
                """).run()
            try await tx.sql.raw("DELETE FROM recovery_codes WHERE user_id = \(bind: user.rawValue)").run()
            try await Ledger.append(context.event(chain: IdentityRealm.id, action: "totp.disable", resourceType: "user", resource: user.rawValue), in: tx)
        }
    }

    func isEnrolled(_ user: UserID) async throws -> Bool {
        let row = try await services.store.global.raw("SELECT totp_enabled_at_ms FROM users WHERE id = \(bind: user.rawValue)").first()
        return try row?.decode(column: "totp_enabled_at_ms", as: Int64?.self) != nil
    }
}
