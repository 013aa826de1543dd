import ClinicDomain
import Foundation
import Testing
import Vapor
@testable import ClinicServer

extension ClinicTestApp {
    /// The TOTP code of `secret` (base32) for the time step `offset` steps from now.
    public static func totpCode(secret: String, offset: Int64 = 0, at time: Date = Date()) throws -> String {
        let bytes = try #require(Base32.decode(secret))
        return TOTPSecret(bytes: bytes).code(forStep: TOTPSecret.step(at: time) + offset)
    }

    /// Enrols TOTP for `session`; answers the secret and the recovery codes.
    public func enrolTOTP(_ session: TestSession) async throws -> (secret: String, recoveryCodes: [String]) {
        let begun = try await send(.POST, "/api/v1/me/totp", json: ["password": session.password], as: session)
        try #require(begun.status == .created, "enrol answered \(begun.status): \(begun.text)")
        let secret = try #require(begun.json["secret"] as? String)
        let confirmed = try await send(.POST, "/api/v1/me/totp/confirm", json: ["code": try Self.totpCode(secret: secret)], as: session)
        try #require(confirmed.status == .ok, "confirm answered \(confirmed.status): \(confirmed.text)")
        return (secret, try #require(confirmed.json["recoveryCodes"] as? [String]))
    }

    /// A password sign-in that stops wherever the server says (a pending session when it asks for a code).
    public func passwordStep(email: String, password: String, like session: TestSession) async throws -> (response: TestResponse, session: TestSession?) {
        let login = try await send(.POST, "/api/v1/auth/login", json: ["email": email, "password": password])
        guard login.status == .ok, let cookie = login.setCookie(SessionStore.cookieName)?.value, let csrf = login.json["csrfToken"] as? String else {
            return (login, nil)
        }
        return (login, TestSession(cookie: cookie, csrfToken: csrf, userID: session.userID, clinicID: session.clinicID,
                                   email: email, password: password))
    }

    /// Every e-mail in the outbox, opened.
    public func outbox() async throws -> [(recipient: String, subject: String, body: String)] {
        try await Outbox(services: services).all().map { ($0.recipient, $0.subject, $0.body) }
    }

    /// Polls the outbox until `match` finds a message (e-mail is written after the answer).
    public func awaitMail(to recipient: String, subjectContains: String, timeout: TimeInterval = 5) async throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let mail = try await outbox().first(where: { $0.recipient == recipient && $0.subject.contains(subjectContains) }) { return mail.body }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        return nil
    }
}

extension TestSession {
    public func replacing(cookie: String, csrfToken: String) -> TestSession {
        TestSession(cookie: cookie, csrfToken: csrfToken, userID: userID, clinicID: clinicID, email: email, password: password)
    }
}

extension ClinicTestApp {
    /// A clinic's patient messages as the delivery worker would take them now, opened (each is
    /// leased by the taking, as in delivery).
    public func takePatientMessages(clinic: String, now: Date = Date()) async throws -> [(recipient: String, subject: String, body: String)] {
        let id = try #require(UUID(uuidString: clinic))
        return try await PatientMessages.takeDue(clinic: id, services: services, limit: 100, now: now).map { ($0.recipient, $0.subject, $0.body) }
    }

    /// A sender's round in two halves: `take` leases what is due now; the closure it answers
    /// reports every one of them failed (a send that timed out), as the sender would afterwards.
    public func leasePatientMessages(clinic: String) async throws -> @Sendable () async throws -> Void {
        let id = try #require(UUID(uuidString: clinic))
        let taken = try await PatientMessages.takeDue(clinic: id, services: services, limit: 100)
        let services = self.services
        return {
            for message in taken { try await PatientMessages.markFailed(message, reason: "timed out", permanent: false, services: services) }
        }
    }
}

extension ClinicTestApp {
    /// One scheduler run for one clinic as if the clock read `now`: the reminders it queued.
    public func queueReminders(clinic: String, now: Date) async throws -> Int {
        let id = try #require(UUID(uuidString: clinic))
        return try await Reminders.queueDue(clinic: id, services: services, now: now)
    }
}

extension ClinicTestApp {
    /// The unsubscribe token a reminder to this patient carries.
    public func unsubscribeToken(clinic: String, patient: String) async throws -> String {
        let clinicID = try #require(UUID(uuidString: clinic)), patientID = try #require(PatientID(string: patient))
        let keyring = services.keyring
        let keys = try await services.store.transaction(realm: clinicID) { tx in try await keyring.keys(for: clinicID, in: tx) }
        return UnsubscribeLink.token(clinic: clinicID, patient: patientID, keys: keys)
    }
}
