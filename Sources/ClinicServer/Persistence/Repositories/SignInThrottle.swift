import ClinicDomain
import Crypto
import Foundation
import Keyring
import SQLKit

/// Failed-attempt counters kept in the database, so every instance of the server shares them
/// (ASVS 2.2.1). A subject is what is being guessed at or from — an account's e-mail, a source
/// address, a person's second factor — stored only as a keyed hash.
///
/// An attempt is counted *before* the secret is checked and forgiven after a success, so any
/// number of concurrent guesses still gets at most `limit` checks per window.
struct SignInThrottle: Sendable {
    let services: ClinicServices

    struct Policy: Sendable {
        let purpose: String
        let limit: Int64
        let window: TimeInterval
        let lockout: TimeInterval
        /// A rate limit rather than a lockout: multiplied by `CLINICKEEP_RATE_LIMIT_SCALE` (test
        /// suites that sign up many clinics from one address raise it; lockouts never change).
        var scalable = false

        func scaled(by factor: Double) -> Policy {
            guard scalable, factor != 1 else { return self }
            return Policy(purpose: purpose, limit: max(1, Int64((Double(limit) * factor).rounded())), window: window, lockout: lockout, scalable: true)
        }

        static let loginAccount = Policy(purpose: "login-account", limit: 10, window: 15 * 60, lockout: 15 * 60)
        static let loginAddress = Policy(purpose: "login-address", limit: 100, window: 15 * 60, lockout: 15 * 60)
        static let secondFactor = Policy(purpose: "second-factor", limit: 5, window: 15 * 60, lockout: 15 * 60)
        static let reauthentication = Policy(purpose: "reauthentication", limit: 5, window: 15 * 60, lockout: 15 * 60)
        static let resetAccount = Policy(purpose: "reset-account", limit: 3, window: 15 * 60, lockout: 15 * 60)
        static let resetAddress = Policy(purpose: "reset-address", limit: 20, window: 15 * 60, lockout: 15 * 60)
        static let resetToken = Policy(purpose: "reset-token", limit: 20, window: 15 * 60, lockout: 15 * 60)
        /// Invitation tokens that did not open, per source address.
        static let invitationAddress = Policy(purpose: "invitation-address", limit: 20, window: 15 * 60, lockout: 15 * 60)
        /// Rate limits beyond sign-in (review round 2, B4; PRX-9), set where a busy front desk
        /// never meets them: clinics signed up, setup attempts, requests of one API token.
        static let signUpAddress = Policy(purpose: "signup-address", limit: 20, window: 3600, lockout: 0, scalable: true)
        static let setupAddress = Policy(purpose: "setup-address", limit: 20, window: 15 * 60, lockout: 0, scalable: true)
        static let apiToken = Policy(purpose: "api-token", limit: 1200, window: 60, lockout: 0, scalable: true)
        /// Support sign-in links tried, per source address: the operator opens one or two.
        static let supportAddress = Policy(purpose: "support-address", limit: 20, window: 15 * 60, lockout: 0, scalable: true)
    }

    struct Subject: Sendable {
        let policy: Policy
        let key: Data
    }

    enum Admission: Sendable {
        /// Checked; `failures` counts this attempt.
        case admitted(failures: Int64)
        case refused(retryAfter: TimeInterval)
    }

    func subjects(_ named: [(Policy, String)]) async throws -> [Subject] {
        let keyring = services.keyring
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            let keys = try await keyring.keys(for: IdentityRealm.id, in: tx)
            let scale = self.services.settings.rateLimitScale
            return named.map { policy, value in
                Subject(policy: policy.scaled(by: scale), key: keys.blindIndex(policy.purpose + "\u{0}" + value, kind: .throttle))
            }
        }
    }

    /// Counts an attempt against every subject; refused when any of them is locked or spent.
    /// An admission carries the first subject's count (the one whose failures are delayed).
    func admit(_ subjects: [Subject], now: Date = Date()) async throws -> Admission {
        try await services.store.transaction(realm: IdentityRealm.id) { tx in
            var failures: Int64 = 0
            var refusal: TimeInterval = 0
            for (position, subject) in subjects.enumerated() {
                switch try await Self.count(subject, now: now, in: tx) {
                case let .admitted(count): if position == 0 { failures = count }
                case let .refused(retryAfter): refusal = max(refusal, retryAfter)
                }
            }
            return refusal > 0 ? .refused(retryAfter: refusal) : .admitted(failures: failures)
        }
    }

    private static func count(_ subject: Subject, now: Date, in tx: ScopedSQL) async throws -> Admission {
        let policy = subject.policy, nowMS = now.milliseconds
        let windowStart = now.addingTimeInterval(-policy.window).milliseconds
        try await tx.sql.raw("""
            INSERT INTO sign_in_throttles (subject, failures, window_started_at_ms, locked_until_ms)
            VALUES (\(bind: subject.key), 0, \(bind: nowMS), 0) ON CONFLICT (subject) DO NOTHING
            """).run()
        // A window that has passed, or a lockout that has ended, starts the count again.
        guard let row = try await tx.sql.raw("""
            UPDATE sign_in_throttles SET
                failures = CASE WHEN window_started_at_ms < \(bind: windowStart) OR (locked_until_ms > 0 AND locked_until_ms <= \(bind: nowMS))
                                THEN 1 ELSE failures + 1 END,
                window_started_at_ms = CASE WHEN window_started_at_ms < \(bind: windowStart) OR (locked_until_ms > 0 AND locked_until_ms <= \(bind: nowMS))
                                THEN \(bind: nowMS) ELSE window_started_at_ms END,
                locked_until_ms = CASE WHEN locked_until_ms <= \(bind: nowMS) THEN 0 ELSE locked_until_ms END
            WHERE subject = \(bind: subject.key) AND locked_until_ms <= \(bind: nowMS)
            RETURNING failures, window_started_at_ms
            """).first() else {
            let locked = try await tx.sql.raw("SELECT locked_until_ms FROM sign_in_throttles WHERE subject = \(bind: subject.key)").first()
            let until = try locked?.decode(column: "locked_until_ms", as: Int64.self) ?? nowMS
            return .refused(retryAfter: max(1, Date(milliseconds: until).timeIntervalSince(now)))
        }
        let failures = try row.decode(column: "failures", as: Int64.self)
        guard failures <= policy.limit else {
            // Spent but not (yet) locked: concurrent guesses, or a budget such as reset e-mails.
            let started = Date(milliseconds: try row.decode(column: "window_started_at_ms", as: Int64.self))
            return .refused(retryAfter: max(1, started.addingTimeInterval(policy.window).timeIntervalSince(now)))
        }
        return .admitted(failures: failures)
    }

    /// A rate limit: counts this request against every subject and answers 429 with
    /// `Retry-After` past any of their limits.
    func limit(_ named: [(Policy, String)]) async throws {
        if case let .refused(retryAfter) = try await admit(try await subjects(named)) {
            throw ClinicError.tooManyAttempts(retryAfter: retryAfter)
        }
    }

    /// After a failed check: locks the subject when it has reached its limit. True when this
    /// call locked it (so the person is told once, not on every later refusal).
    func failed(_ subject: Subject, now: Date = Date()) async throws -> Bool {
        let until = now.addingTimeInterval(subject.policy.lockout).milliseconds
        return try await services.store.global.raw("""
            UPDATE sign_in_throttles SET locked_until_ms = \(bind: until)
            WHERE subject = \(bind: subject.key) AND failures >= \(bind: subject.policy.limit) AND locked_until_ms <= \(bind: now.milliseconds)
            RETURNING subject
            """).first() != nil
    }

    /// After a success: the subject's count starts again.
    func succeeded(_ subject: Subject) async throws {
        try await services.store.global.raw("DELETE FROM sign_in_throttles WHERE subject = \(bind: subject.key)").run()
    }

    func clear(_ subject: Subject, in tx: ScopedSQL) async throws {
        try await tx.sql.raw("DELETE FROM sign_in_throttles WHERE subject = \(bind: subject.key)").run()
    }

    /// The progressive delay before a failure is answered: nothing for the first two, then
    /// doubling from the base up to eight times it.
    func delay(afterFailures failures: Int64) async {
        let seconds = Self.delay(afterFailures: failures, base: services.settings.throttleDelay)
        guard seconds > 0 else { return }
        try? await Task.sleep(nanoseconds: UInt64(seconds * 1_000_000_000))
    }

    static func delay(afterFailures failures: Int64, base: TimeInterval) -> TimeInterval {
        guard base > 0, failures >= 3 else { return 0 }
        return base * Double(1 << Int(min(failures - 3, 3)))
    }
}

extension BlindIndexKind {
    static let throttle = BlindIndexKind(rawValue: "throttle")
}

extension ClinicError {
    static func tooManyAttempts(retryAfter: TimeInterval) -> ClinicError {
        let minutes = Int((retryAfter / 60).rounded(.up))
        return ClinicError(status: 429, code: "too_many_attempts",
                           message: minutes > 1 ? "Too many attempts; try again in \(minutes) minutes." : "Too many attempts; try again in a minute.",
                           retryAfter: Int(retryAfter.rounded(.up)))
    }
}
