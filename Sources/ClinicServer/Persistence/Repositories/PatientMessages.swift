import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// One message to a patient as the chart lists it: what, how, and where it stands. The words and
/// the address stay sealed; only the delivery worker opens them.
struct PatientMessageRecord: Sendable {
    let id: UUID
    let kind: PatientMessageKind
    let channel: MessageChannel
    let status: MessageStatus
    let createdAt: Date
    let sentAt: Date?
    let failureReason: String?
}

/// A message the delivery worker has taken, opened, and leased to itself.
struct DueMessage: Sendable {
    let id: UUID
    let clinic: UUID
    /// The lease this sender holds: marking the outcome needs it still to be this one.
    let lease: UUID
    let channel: MessageChannel
    let recipient: String
    let subject: String
    let body: String
    let attempts: Int64
    /// The clinic's sender name for the From header, when it set one.
    let senderName: String?
    /// For reminders: where the patient stops them (`UnsubscribeLink`), for the footer and the
    /// `List-Unsubscribe` header.
    let unsubscribeURL: String?
    /// For SMS and WhatsApp: the clinic's own Twilio account when it stored one (used instead of
    /// the operator's).
    var clinicSMS: SMSProviderCredential? = nil
}

/// Messages to patients: queued in the transaction of the booking change they are about (so a
/// booking and its confirmation commit or vanish together), sealed with the clinic's keys, and
/// sent later by `OutboxDelivery`.
enum PatientMessages {
    static let table = "patient_messages"
    static let sealedColumns = ["recipient", "subject", "body"]
    /// How long a sender holds a message it has taken before another instance may retry it:
    /// longer than the slowest batch can take (50 messages, 8 at a time, each cut off at 30 s).
    static let lease: TimeInterval = 300
    static let maximumAttempts: Int64 = 10

    /// Queues the message `build` makes about `appointment` for its patient, one per channel the
    /// clinic uses, the patient accepts (every channel when they never said) and the patient has
    /// an address for, inside the caller's clinic transaction; answers whether any was queued.
    /// The notice is read here, at the change, so the message says what was true then.
    @discardableResult
    static func queue(_ build: (AppointmentNotice) -> PatientMessage, about appointment: AppointmentRecord, clinic: UUID,
                      timeZone: ClinicTimeZone, keyring: RealmKeyring, in tx: ScopedSQL) async throws -> Bool {
        let accepted = try await Communications.preferences(of: appointment.patient, clinic: clinic, in: tx) ?? Set(MessageChannel.allCases)
        let channels = try await Communications.settings(clinic: clinic, in: tx).channels.intersection(accepted)
        guard !channels.isEmpty else { return false }
        let clinicKeys = try await keyring.keys(for: clinic, in: tx)
        guard let row = try await tx.sql.raw("""
            SELECT id, email, phone FROM patients WHERE clinic_id = \(bind: clinic) AND id = \(bind: appointment.patient.rawValue)
            """).first() else { return false }
        func open(_ column: String) throws -> String? {
            try clinicKeys.openColumn(row, table: PatientRepository.table, column: column, id: appointment.patient.rawValue)
        }
        var targets: [(channel: MessageChannel, address: String)] = []
        if channels.contains(.email), let email = try open("email") { targets.append((.email, email)) }
        // Phones are stored in E.164 (`PhoneNumber`); a text goes nowhere else.
        if let phone = try open("phone"), PhoneNumber.isE164(phone) {
            for channel in [MessageChannel.sms, .whatsapp] where channels.contains(channel) { targets.append((channel, phone)) }
        }
        guard !targets.isEmpty else { return false }

        // The practitioner's name is the identity realm's; the transaction goes there and back.
        try await tx.enter(realm: IdentityRealm.id)
        let identityKeys = try await keyring.keys(for: IdentityRealm.id, in: tx)
        let practitioner = try await tx.sql.raw("SELECT id, name FROM users WHERE id = \(bind: appointment.practitioner.rawValue)").first()
        let practitionerName = try practitioner.map {
            try identityKeys.openRequiredColumn($0, table: "users", column: "name", id: appointment.practitioner.rawValue)
        } ?? "your practitioner"
        let clinicName = try await tx.sql.raw("SELECT name FROM clinics WHERE id = \(bind: clinic)").first()?
            .decode(column: "name", as: String.self) ?? "the clinic"
        try await tx.enter(realm: clinic)

        let notice = AppointmentNotice(appointment: appointment.id, patient: appointment.patient, clinicName: clinicName,
                                       practitionerName: practitionerName, start: Date(milliseconds: appointment.slot.start),
                                       timeZone: timeZone)
        let message = build(notice)
        let now = Date().milliseconds
        try await withdrawQueued(about: appointment.id, clinic: clinic, reason: "withdrawn: a newer message about the appointment", in: tx)
        for target in targets {
            let id = UUID()
            func seal(_ value: String, _ column: String) throws -> Data { try clinicKeys.seal(value, table: table, column: column, row: id).bytes }
            let body = target.channel == .email ? message.text : message.shortText
            try await tx.sql.raw("""
                INSERT INTO patient_messages (id, clinic_id, patient_id, appointment_id, kind, channel, recipient, subject, body, status,
                                              attempts, next_attempt_at_ms, created_at_ms)
                VALUES (\(bind: id), \(bind: clinic), \(bind: message.patient.rawValue), \(bind: message.appointment.rawValue),
                        \(bind: message.kind.rawValue), \(bind: target.channel.rawValue), \(bind: try seal(target.address, "recipient")),
                        \(bind: try seal(message.subject, "subject")), \(bind: try seal(body, "body")),
                        \(bind: MessageStatus.queued.rawValue), 0, \(bind: now), \(bind: now))
                """).run()
        }
        return true
    }

    /// Messages about an appointment still waiting are never sent once it moves, is cancelled,
    /// or a newer message about it is queued: they would say something no longer true (a
    /// confirmation arriving after the cancellation). Marked failed, with `reason`, in the
    /// transaction of the change; a sender holding one finds it no longer queued.
    static func withdrawQueued(about appointment: AppointmentID, clinic: UUID, reason: String, in tx: ScopedSQL) async throws {
        try await tx.sql.raw("""
            UPDATE patient_messages SET status = 'failed', failure_reason = \(bind: reason)
            WHERE clinic_id = \(bind: clinic) AND appointment_id = \(bind: appointment.rawValue) AND status = 'queued'
            """).run()
    }

    /// When the patient was last told about this appointment's time (a confirmation or a change).
    static func lastConfirmation(of appointment: AppointmentID, clinic: UUID, in tx: ScopedSQL) async throws -> Date? {
        try await tx.sql.raw("""
            SELECT MAX(created_at_ms) AS latest FROM patient_messages
            WHERE clinic_id = \(bind: clinic) AND appointment_id = \(bind: appointment.rawValue) AND kind IN ('confirmation', 'change')
            """).first()?.decode(column: "latest", as: Int64?.self).map { Date(milliseconds: $0) }
    }

    /// What went to one patient, newest first: for the roles that read demographics. Another
    /// clinic's patient, like one that does not exist, answers 404.
    static func list(for patient: PatientID, scope: ClinicScope, services: ClinicServices) async throws -> [PatientMessageRecord] {
        try await services.store.transaction(realm: scope.realm) { tx -> Outcome<[PatientMessageRecord]> in
            try await ClinicReferences.requirePatientInPath(patient, clinic: scope.realm, in: tx)
            if let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .patient, in: tx) { return .refused(refusal) }
            let records = try await tx.sql.raw("""
                SELECT id, kind, channel, status, created_at_ms, sent_at_ms, failure_reason FROM patient_messages
                WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: patient.rawValue)
                ORDER BY created_at_ms DESC, id LIMIT 500
                """).all().map(record)
            try await Ledger.append(scope.event("message.list", resourceType: "patient", resource: patient.rawValue,
                                                detail: "messages=\(records.count)"), in: tx)
            return .done(records)
        }.get()
    }

    /// Takes up to `limit` of the clinic's due messages, each leased to this caller for `lease`
    /// seconds: another server on the same database skips them, and a sender that dies
    /// mid-send leaves them to be tried again once the lease runs out.
    /// Only messages of `channels` (those this server can send) are taken; the rest wait. A
    /// clinic that stored its own SMS provider account has its texts taken too, the account
    /// opened (and the use recorded in its chain) once per batch that needs it.
    static func takeDue(clinic: UUID, channels: Set<MessageChannel> = Set(MessageChannel.allCases), services: ClinicServices,
                        limit: Int = 20, now: Date = Date()) async throws -> [DueMessage] {
        let keyring = services.keyring, linkBase = services.settings.linkBaseURL
        let smsProvider = IntegrationSecretKind.smsProvider.rawValue
        // A server that sends nothing itself looks first, reading only, for a clinic's own
        // account: no write transaction a second for every clinic that has none.
        if channels.isEmpty {
            let ownAccount = try await services.store.read(realm: clinic) { tx in
                try await tx.sql.raw("""
                    SELECT id FROM integration_secrets WHERE clinic_id = \(bind: clinic) AND kind = \(bind: smsProvider) LIMIT 1
                    """).first() != nil
            }
            guard ownAccount else { return [] }
        }
        return try await services.store.transaction(realm: clinic) { tx in
            let ownSMS = try await tx.sql.raw("""
                SELECT id, secret FROM integration_secrets WHERE clinic_id = \(bind: clinic) AND kind = \(bind: IntegrationSecretKind.smsProvider.rawValue)
                ORDER BY created_at_ms DESC, id LIMIT 1
                """).first()
            let names = channels.union(ownSMS == nil ? [] : [.sms, .whatsapp]).map(\.rawValue).sorted()
            guard !names.isEmpty else { return [] }
            let due = try await tx.sql.raw("""
                SELECT id FROM patient_messages
                WHERE clinic_id = \(bind: clinic) AND status = 'queued' AND next_attempt_at_ms <= \(bind: now.milliseconds)
                  AND channel IN (\(binds: names))
                ORDER BY next_attempt_at_ms, id LIMIT \(bind: limit)
                """).all().map { try $0.decode(column: "id", as: UUID.self) }
            guard !due.isEmpty else { return [] }
            // A message about an appointment that has begun is news to nobody (it waited for a
            // provider, or a server with none): it is never sent.
            try await tx.sql.raw("""
                UPDATE patient_messages SET status = 'failed', failure_reason = 'expired: the appointment has begun'
                WHERE clinic_id = \(bind: clinic) AND status = 'queued' AND id IN (\(binds: due))
                  AND appointment_id IN (SELECT id FROM appointments WHERE clinic_id = \(bind: clinic) AND starts_at_ms <= \(bind: now.milliseconds))
                """).run()
            let keys = try await keyring.keys(for: clinic, in: tx)
            let senderName = try await Communications.settings(clinic: clinic, in: tx).senderName
            let lease = UUID()
            var taken: [DueMessage] = []
            for id in due {
                guard let row = try await tx.sql.raw("""
                    UPDATE patient_messages SET next_attempt_at_ms = \(bind: now.addingTimeInterval(Self.lease).milliseconds), lease_id = \(bind: lease)
                    WHERE clinic_id = \(bind: clinic) AND id = \(bind: id) AND status = 'queued'
                      AND next_attempt_at_ms <= \(bind: now.milliseconds)
                    RETURNING patient_id, kind, channel, recipient, subject, body, attempts
                    """).first() else { continue }
                guard let channel = MessageChannel(rawValue: try row.decode(column: "channel", as: String.self)) else { continue }
                let patient = PatientID(try row.decode(column: "patient_id", as: UUID.self))
                let unsubscribe = try row.decode(column: "kind", as: String.self) == PatientMessageKind.reminder.rawValue
                    ? UnsubscribeLink.url(base: linkBase, token: UnsubscribeLink.token(clinic: clinic, patient: patient, keys: keys))
                    : nil
                taken.append(DueMessage(
                    id: id, clinic: clinic, lease: lease, channel: channel,
                    recipient: try keys.openRequiredColumn(row, table: table, column: "recipient", id: id),
                    subject: try keys.openRequiredColumn(row, table: table, column: "subject", id: id),
                    body: try keys.openRequiredColumn(row, table: table, column: "body", id: id),
                    attempts: try row.decode(column: "attempts", as: Int64.self), senderName: senderName,
                    unsubscribeURL: unsubscribe))
            }
            guard let ownSMS, taken.contains(where: { $0.channel != .email }) else { return taken }
            let secret = try ownSMS.decode(column: "id", as: UUID.self)
            let credential = try SMSProviderCredential(
                parsing: try keys.openRequiredColumn(ownSMS, table: IntegrationSecrets.table, column: "secret", id: secret))
            try await Ledger.append(RequestContext(actor: nil, address: nil, requestID: "outbox-delivery").event(
                chain: clinic, action: "integration_secret.use", resourceType: "integration_secret", resource: secret,
                detail: "kind=\(IntegrationSecretKind.smsProvider.rawValue)"), in: tx)
            return taken.map { message in
                var message = message
                if message.channel != .email { message.clinicSMS = credential }
                return message
            }
        }
    }

    static func markSent(_ message: DueMessage, services: ClinicServices, now: Date = Date()) async throws {
        try await services.store.transaction(realm: message.clinic) { tx in
            try await tx.sql.raw("""
                UPDATE patient_messages SET status = 'sent', sent_at_ms = \(bind: now.milliseconds), attempts = attempts + 1,
                    failure_reason = NULL, lease_id = NULL
                WHERE clinic_id = \(bind: message.clinic) AND id = \(bind: message.id) AND lease_id = \(bind: message.lease)
                """).run()
        }
    }

    /// Tries again later with a growing wait, or gives up: at once when the failure is
    /// `permanent` (the address was refused), else after `maximumAttempts`. `reason` names the
    /// failure's kind only; it is shown on the chart. Only while the message is still queued
    /// under this sender's lease: a withdrawn message stays withdrawn, and one another sender
    /// took over is theirs.
    static func markFailed(_ message: DueMessage, reason: String, permanent: Bool, services: ClinicServices, now: Date = Date()) async throws {
        let attempts = message.attempts + 1
        let backoff = min(pow(2, Double(attempts)) * 5, 3600)
        let status: MessageStatus = permanent || attempts >= maximumAttempts ? .failed : .queued
        try await services.store.transaction(realm: message.clinic) { tx in
            try await tx.sql.raw("""
                UPDATE patient_messages SET status = \(bind: status.rawValue), attempts = \(bind: attempts),
                    failure_reason = \(bind: String(reason.prefix(200))), next_attempt_at_ms = \(bind: now.addingTimeInterval(backoff).milliseconds),
                    lease_id = NULL
                WHERE clinic_id = \(bind: message.clinic) AND id = \(bind: message.id) AND lease_id = \(bind: message.lease) AND status = 'queued'
                """).run()
        }
    }

    private static func record(_ row: any SQLRow) throws -> PatientMessageRecord {
        guard let kind = PatientMessageKind(rawValue: try row.decode(column: "kind", as: String.self)),
              let channel = MessageChannel(rawValue: try row.decode(column: "channel", as: String.self)),
              let status = MessageStatus(rawValue: try row.decode(column: "status", as: String.self)) else { throw ClinicError.integrityFailure }
        return PatientMessageRecord(
            id: try row.decode(column: "id", as: UUID.self), kind: kind, channel: channel, status: status,
            createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
            sentAt: try row.decode(column: "sent_at_ms", as: Int64?.self).map { Date(milliseconds: $0) },
            failureReason: try row.decode(column: "failure_reason", as: String?.self))
    }
}
