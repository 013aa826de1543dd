import Foundation
import SQLKit

/// Rows that only ever mattered for a while: sessions past their absolute or idle expiry,
/// password-reset links past their lifetime, invitations nobody accepted in time, sign-in
/// throttle counters whose window and lockout have ended, and mail the outbox delivered a day
/// ago. Each names a person, an address or a token's hash; none is evidence (the audit ledger
/// holds what happened). `serve` purges them a minute after it starts and hourly after that.
struct ExpiredRows: Sendable {
    let services: ClinicServices

    struct Purged: Sendable, Equatable {
        var sessions = 0
        var passwordResets = 0
        var invitations = 0
        var throttles = 0
        var sentMail = 0

        var total: Int { sessions + passwordResets + invitations + throttles + sentMail }
    }

    /// Delivered mail is kept this long after sending, for a delivery question, then purged.
    static let sentMailKept: TimeInterval = 24 * 3600
    /// A throttle row is kept this long after both its window start and its lockout end: longer
    /// than any policy's window (`SignInThrottle.Policy`, an hour at most), so no count is
    /// forgotten while it still counts.
    static let throttleKept: TimeInterval = 24 * 3600
    /// Rows deleted per statement: the first run on an old database never holds the write lock
    /// for long, and requests go on between batches.
    static let batch = 1_000

    func purge(now: Date = Date()) async throws -> Purged {
        let nowMs = now.milliseconds
        let idleSince = now.addingTimeInterval(-services.settings.sessionIdleTimeout).milliseconds
        let throttleBefore = now.addingTimeInterval(-Self.throttleKept).milliseconds
        let sentBefore = now.addingTimeInterval(-Self.sentMailKept).milliseconds
        var purged = Purged()
        purged.sessions = try await batches("""
            DELETE FROM sessions WHERE id IN (SELECT id FROM sessions
                WHERE expires_at_ms <= \(bind: nowMs) OR last_seen_at_ms <= \(bind: idleSince) LIMIT \(bind: Self.batch)) RETURNING id
            """)
        purged.passwordResets = try await batches("""
            DELETE FROM password_resets WHERE token_hash IN (SELECT token_hash FROM password_resets
                WHERE expires_at_ms <= \(bind: nowMs) LIMIT \(bind: Self.batch)) RETURNING user_id
            """)
        purged.throttles = try await batches("""
            DELETE FROM sign_in_throttles WHERE subject IN (SELECT subject FROM sign_in_throttles
                WHERE window_started_at_ms <= \(bind: throttleBefore) AND locked_until_ms <= \(bind: throttleBefore) LIMIT \(bind: Self.batch))
            RETURNING subject
            """)
        purged.sentMail = try await batches("""
            DELETE FROM outbox WHERE id IN (SELECT id FROM outbox
                WHERE state = 'sent' AND sent_at_ms <= \(bind: sentBefore) LIMIT \(bind: Self.batch)) RETURNING id
            """)
        // Invitations hold a clinic's id, under row-level security; the identity realm (where
        // invitations are looked up by token) sees every clinic's, so one statement serves all.
        purged.invitations = try await batches("""
            DELETE FROM invitations WHERE id IN (SELECT id FROM invitations
                WHERE accepted_at_ms IS NULL AND expires_at_ms <= \(bind: nowMs) LIMIT \(bind: Self.batch)) RETURNING id
            """)
        return purged
    }

    /// Runs a bounded delete, each in its own transaction, until one deletes less than a batch.
    private func batches(_ statement: SQLQueryString) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await services.store.transaction(realm: IdentityRealm.id) { tx in
                try await tx.sql.raw(statement).all().count
            }
            total += deleted
            if deleted < Self.batch { return total }
        }
    }
}
