import ClinicDomain
import Crypto
import Foundation
import Keyring
import SQLKit

/// Server-side sessions. The browser holds a random 256-bit token; the database holds only its
/// SHA-256, so a copy of the database opens no session. A new session (and token) is issued at
/// every sign-in; the CSRF token is derived from the session token and never stored.
struct SessionStore: Sendable {
    let services: ClinicServices

    static let cookieName = "__Host-clinickeep-session"

    struct Issued: Sendable {
        let session: SessionID
        let token: String
        var csrfToken: String { SessionStore.csrfToken(forSessionToken: token) }
    }

    /// A session opened by a password for a person with a second factor is good only for
    /// giving that factor; the full session that follows has a new id and token.
    enum Stage: String, Sendable {
        case full
        case secondFactor = "mfa"
    }

    /// How the person proved who they are when the session was opened (ASVS 2.x assurance):
    /// what a clinic that requires a second factor checks.
    enum Assurance: String, Sendable {
        case password
        /// A password and a TOTP or recovery code.
        case totp
    }

    /// How long the step between password and second factor may take.
    static let secondFactorLifetime: TimeInterval = 5 * 60

    struct Active: Sendable {
        let session: SessionID
        let user: UserID
        let csrfToken: String
        let stage: Stage
        let hasTOTP: Bool
        let assurance: Assurance
        /// Moves with every change to the person's memberships (`AddAccessVersions`).
        var accessVersion: Int64 = 0
        /// The settings version of the clinic the request's path names, when it names one that
        /// exists: read in the same statement, so a kept membership costs no query.
        var clinicVersion: Int64?
    }

    /// Where a session was opened from, shown back to its owner so they can recognise it.
    struct Client: Sendable {
        var address: String?
        var userAgent: String?
    }

    /// Opens a session inside an identity-realm transaction (its origin is sealed there).
    func open(for user: UserID, client: Client, stage: Stage = .full, assurance: Assurance = .password, in tx: ScopedSQL) async throws -> Issued {
        let token = SecureToken.generate()
        let session = SessionID.random()
        let now = Date()
        let lifetime = stage == .full ? services.settings.sessionAbsoluteTimeout : min(Self.secondFactorLifetime, services.settings.sessionAbsoluteTimeout)
        let keys = try await services.keyring.keys(for: IdentityRealm.id, in: tx)
        func seal(_ value: String?, _ column: String) throws -> Data? {
            try value.map { try keys.seal(String($0.prefix(300)), table: "sessions", column: column, row: session.rawValue).bytes }
        }
        try await tx.sql.raw("""
            INSERT INTO sessions (id, token_hash, user_id, created_at_ms, last_seen_at_ms, expires_at_ms, address, user_agent, stage, assurance)
            VALUES (\(bind: session.rawValue), \(bind: SecureToken.hash(token)), \(bind: user.rawValue), \(bind: now.milliseconds),
                    \(bind: now.milliseconds), \(bind: now.addingTimeInterval(lifetime).milliseconds),
                    \(bind: try seal(client.address, "address")), \(bind: try seal(client.userAgent, "user_agent")), \(bind: stage.rawValue),
                    \(bind: assurance.rawValue))
            """).run()
        return Issued(session: session, token: token)
    }

    struct Summary: Sendable {
        let id: SessionID
        let createdAt: Date
        let lastSeenAt: Date
        let address: String?
        let userAgent: String?
    }

    /// A person's live sessions, newest first.
    func list(for user: UserID, now: Date = Date()) async throws -> [Summary] {
        let services = self.services
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await services.keyring.keys(for: IdentityRealm.id, in: tx)
            let rows = try await tx.sql.raw("""
                SELECT id, created_at_ms, last_seen_at_ms, expires_at_ms, address, user_agent FROM sessions
                WHERE user_id = \(bind: user.rawValue) AND stage = 'full' ORDER BY last_seen_at_ms DESC
                """).all()
            return try rows.compactMap { row -> Summary? in
                let id = SessionID(try row.decode(column: "id", as: UUID.self))
                let lastSeen = Date(milliseconds: try row.decode(column: "last_seen_at_ms", as: Int64.self))
                let expires = Date(milliseconds: try row.decode(column: "expires_at_ms", as: Int64.self))
                guard now < expires, now.timeIntervalSince(lastSeen) < services.settings.sessionIdleTimeout else { return nil }
                func open(_ column: String) -> String? {
                    guard let bytes = try? row.decode(column: column, as: Data?.self), let sealed = try? SealedField(bytes: bytes) else { return nil }
                    return try? keys.open(sealed, table: "sessions", column: column, row: id.rawValue)
                }
                return Summary(id: id, createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                               lastSeenAt: lastSeen, address: open("address"), userAgent: open("user_agent"))
            }
        }
    }

    /// Ends one of the person's own sessions; false when it is not theirs or not there.
    func revoke(_ session: SessionID, of user: UserID) async throws -> Bool {
        try await services.store.global.raw("""
            DELETE FROM sessions WHERE id = \(bind: session.rawValue) AND user_id = \(bind: user.rawValue) RETURNING id
            """).first() != nil
    }

    /// Ends every session of the person (a reset password, changed roles).
    func endAll(of user: UserID, in tx: ScopedSQL) async throws -> Int {
        try await tx.sql.raw("DELETE FROM sessions WHERE user_id = \(bind: user.rawValue) RETURNING id").all().count
    }

    /// Ends every session of the person but `keep`; how many ended.
    func endOthers(of user: UserID, keep: SessionID?, in tx: ScopedSQL) async throws -> Int {
        try await tx.sql.raw("""
            DELETE FROM sessions WHERE user_id = \(bind: user.rawValue) AND id <> \(bind: keep?.rawValue ?? UUID()) RETURNING id
            """).all().count
    }

    /// The live session a token opens, or nil when it is unknown, idle too long or past its absolute expiry.
    func resume(token: String, clinic: ClinicID? = nil, now: Date = Date()) async throws -> Active? {
        guard SecureToken.isWellFormed(token) else { return nil }
        let sql = services.store.global
        guard let row = try await sql.raw("""
            SELECT s.id, s.user_id, s.last_seen_at_ms, s.expires_at_ms, s.stage, s.assurance, u.totp_enabled_at_ms, u.access_version,
                   c.settings_version
            FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN clinics c ON c.id = \(bind: clinic?.rawValue)
            WHERE s.token_hash = \(bind: SecureToken.hash(token)) AND u.locked_at_ms IS NULL
            """).first() else { return nil }
        let session = SessionID(try row.decode(column: "id", as: UUID.self))
        let lastSeen = Date(milliseconds: try row.decode(column: "last_seen_at_ms", as: Int64.self))
        let expires = Date(milliseconds: try row.decode(column: "expires_at_ms", as: Int64.self))
        guard now < expires, now.timeIntervalSince(lastSeen) < services.settings.sessionIdleTimeout else {
            try await sql.raw("DELETE FROM sessions WHERE id = \(bind: session.rawValue)").run()
            return nil
        }
        // Written at most once a minute (or a tenth of the idle limit, when that is shorter):
        // the idle clock needs no finer grain, and a session in use must never reach the limit.
        if now.timeIntervalSince(lastSeen) > min(60, services.settings.sessionIdleTimeout / 10) {
            try await sql.raw("UPDATE sessions SET last_seen_at_ms = \(bind: now.milliseconds) WHERE id = \(bind: session.rawValue)").run()
        }
        return Active(session: session, user: UserID(try row.decode(column: "user_id", as: UUID.self)),
                      csrfToken: Self.csrfToken(forSessionToken: token),
                      stage: Stage(rawValue: try row.decode(column: "stage", as: String.self)) ?? .secondFactor,
                      hasTOTP: try row.decode(column: "totp_enabled_at_ms", as: Int64?.self) != nil,
                      assurance: Assurance(rawValue: try row.decode(column: "assurance", as: String.self)) ?? .password,
                      accessVersion: try row.decode(column: "access_version", as: Int64.self),
                      clinicVersion: try row.decode(column: "settings_version", as: Int64?.self))
    }

    /// The session just gave a second factor (setting one up): it now carries that assurance.
    func raise(_ session: SessionID, to assurance: Assurance, in tx: ScopedSQL) async throws {
        try await tx.sql.raw("UPDATE sessions SET assurance = \(bind: assurance.rawValue) WHERE id = \(bind: session.rawValue)").run()
    }

    func end(_ session: SessionID) async throws {
        try await services.store.global.raw("DELETE FROM sessions WHERE id = \(bind: session.rawValue)").run()
    }

    /// HMAC of a fixed label under the session token: only the holder of the cookie can know it.
    static func csrfToken(forSessionToken token: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("clinickeep.csrf.v1".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(mac).base64URLEncoded
    }
}

/// Random secrets: 256 bits from the system CSPRNG, written base64url.
enum SecureToken {
    static func generate() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }.base64URLEncoded
    }

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }

    static func isWellFormed(_ token: String) -> Bool {
        token.utf8.count == 43 && token.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Compares two secrets in time that does not depend on where they differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<x.count { difference |= x[i] ^ y[i] }
        return difference == 0
    }
}

extension Data {
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
