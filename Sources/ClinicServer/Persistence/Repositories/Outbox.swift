import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// E-mail waits here before it is sent: written in the same transaction as what caused it, so
/// a crash loses nothing, and delivered by `OutboxDelivery` when an SMTP server is configured.
/// Recipient, subject and body are sealed in the identity realm (they carry reset links).
struct Outbox: Sendable {
    let services: ClinicServices

    struct Message: Sendable {
        let id: UUID
        let recipient: String
        let subject: String
        let body: String
        let attempts: Int64
    }

    /// How long a sender holds a message it has taken before another instance may retry it.
    static let lease: TimeInterval = 60
    static let maximumAttempts: Int64 = 10

    /// `tx` must be in the identity realm.
    func enqueue(to recipient: String, subject: String, body: String, kind: String, in tx: ScopedSQL) async throws {
        let keys = try await services.keyring.keys(for: IdentityRealm.id, in: tx)
        let id = UUID(), now = Date().milliseconds
        func seal(_ value: String, _ column: String) throws -> Data { try keys.seal(value, table: "outbox", column: column, row: id).bytes }
        try await tx.sql.raw("""
            INSERT INTO outbox (id, kind, recipient, subject, body, state, attempts, created_at_ms, next_attempt_at_ms)
            VALUES (\(bind: id), \(bind: kind), \(bind: try seal(recipient, "recipient")), \(bind: try seal(subject, "subject")),
                    \(bind: try seal(body, "body")), 'pending', 0, \(bind: now), \(bind: now))
            """).run()
    }

    /// How many messages wait to be sent (due now or later).
    func pendingCount() async throws -> Int {
        try await services.store.read(realm: IdentityRealm.id) { tx in
            try await tx.sql.raw("SELECT COUNT(*) AS pending FROM outbox WHERE state = 'pending'").first()?
                .decode(column: "pending", as: Int.self) ?? 0
        }
    }

    /// Takes up to `limit` messages that are due, each leased to this caller.
    func takeDue(limit: Int = 10, now: Date = Date()) async throws -> [Message] {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            let due = try await tx.sql.raw("""
                SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at_ms <= \(bind: now.milliseconds)
                ORDER BY created_at_ms LIMIT \(unsafeRaw: String(limit))
                """).all().map { try $0.decode(column: "id", as: UUID.self) }
            var taken: [Message] = []
            for id in due {
                guard let row = try await tx.sql.raw("""
                    UPDATE outbox SET next_attempt_at_ms = \(bind: now.addingTimeInterval(Self.lease).milliseconds)
                    WHERE id = \(bind: id) AND state = 'pending' AND next_attempt_at_ms <= \(bind: now.milliseconds)
                    RETURNING recipient, subject, body, attempts
                    """).first() else { continue }
                taken.append(try Self.message(id: id, row: row, keys: keys))
            }
            return taken
        }
    }

    func markSent(_ message: Message, now: Date = Date()) async throws {
        try await services.store.global.raw("""
            UPDATE outbox SET state = 'sent', sent_at_ms = \(bind: now.milliseconds), attempts = attempts + 1, last_error = NULL
            WHERE id = \(bind: message.id)
            """).run()
    }

    /// Tries again later, backing off; gives up after `maximumAttempts`. `reason` names the
    /// failure's kind only (it is stored and may be shown to an operator).
    func markFailed(_ message: Message, reason: String, now: Date = Date()) async throws {
        let attempts = message.attempts + 1
        let backoff = min(pow(2, Double(attempts)) * 5, 3600)
        let state = attempts >= Self.maximumAttempts ? "failed" : "pending"
        try await services.store.global.raw("""
            UPDATE outbox SET state = \(bind: state), attempts = \(bind: attempts), last_error = \(bind: String(reason.prefix(200))),
                next_attempt_at_ms = \(bind: now.addingTimeInterval(backoff).milliseconds)
            WHERE id = \(bind: message.id)
            """).run()
    }

    /// Every message, opened: for tests and for an operator's view of what was sent to whom.
    func all() async throws -> [Message] {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            return try await tx.sql.raw("SELECT id, recipient, subject, body, attempts FROM outbox ORDER BY created_at_ms").all().map { row in
                try Self.message(id: try row.decode(column: "id", as: UUID.self), row: row, keys: keys)
            }
        }
    }

    private static func message(id: UUID, row: any SQLRow, keys: RealmKeys) throws -> Message {
        Message(id: id, recipient: try keys.openRequiredColumn(row, table: "outbox", column: "recipient", id: id),
                subject: try keys.openRequiredColumn(row, table: "outbox", column: "subject", id: id),
                body: try keys.openRequiredColumn(row, table: "outbox", column: "body", id: id),
                attempts: try row.decode(column: "attempts", as: Int64.self))
    }
}
