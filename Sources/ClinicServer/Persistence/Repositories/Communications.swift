import ClinicDomain
import Foundation
import SQLKit

/// A patient's contact preferences as last set: the channels, and who set them when.
struct ContactPreferences: Sendable {
    let channels: Set<MessageChannel>
    let changedBy: UserID
    let changedAt: Date
}

/// A clinic's communication settings and its patients' contact preferences. Both are read
/// inside the transaction that queues a message, so a change applies to the next one.
enum Communications {
    static func settings(clinic: UUID, in tx: ScopedSQL) async throws -> CommunicationSettings {
        guard let row = try await tx.sql.raw("""
            SELECT reminder_lead_hours, quiet_start_minute, quiet_end_minute, channels, sender_name, sensitive_type_ids
            FROM clinic_communications WHERE clinic_id = \(bind: clinic)
            """).first() else { return .standard }
        func list(_ column: String) throws -> [String] {
            try row.decode(column: column, as: String.self).split(separator: ",").map(String.init)
        }
        return CommunicationSettings(
            reminderLeadHours: try list("reminder_lead_hours").compactMap { Int($0) },
            quietHours: QuietHours(startMinute: Int(try row.decode(column: "quiet_start_minute", as: Int64.self)),
                                   endMinute: Int(try row.decode(column: "quiet_end_minute", as: Int64.self))),
            channels: Set(try list("channels").compactMap(MessageChannel.init(rawValue:))),
            senderName: try row.decode(column: "sender_name", as: String?.self),
            sensitiveAppointmentTypes: try list("sensitive_type_ids").compactMap { AppointmentTypeID(string: $0) })
    }

    /// The clinic's settings. They name nobody, but they decide who is messaged how, so a read
    /// is on the clinic's chain like every other part of the messaging API.
    static func read(scope: ClinicScope, services: ClinicServices) async throws -> CommunicationSettings {
        try await services.store.transaction(realm: scope.realm) { tx in
            let settings = try await settings(clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("communications.read", resourceType: "clinic", resource: scope.realm), in: tx)
            return settings
        }
    }

    /// Changes the clinic's settings by `change` (what a request left out stays as it was);
    /// every sensitive type id must be one of the clinic's types.
    static func update(scope: ClinicScope, services: ClinicServices,
                       _ change: @escaping @Sendable (inout CommunicationSettings) -> Void) async throws -> CommunicationSettings {
        try await services.store.transaction(realm: scope.realm) { tx in
            var settings = try await settings(clinic: scope.realm, in: tx)
            change(&settings)
            for type in settings.sensitiveAppointmentTypes {
                guard try await AppointmentTypes.find(type, clinic: scope.realm, in: tx) != nil else {
                    throw ClinicError.invalid("sensitiveAppointmentTypeIds", "No appointment type with this id in this clinic.", code: "unknown_reference")
                }
            }
            let hours = settings.reminderLeadHours.map(String.init).joined(separator: ",")
            let channels = settings.channels.map(\.rawValue).sorted().joined(separator: ",")
            let types = settings.sensitiveAppointmentTypes.map(\.description).joined(separator: ",")
            let now = Date().milliseconds
            try await tx.sql.raw("""
                INSERT INTO clinic_communications (clinic_id, reminder_lead_hours, quiet_start_minute, quiet_end_minute, channels,
                                                   sender_name, sensitive_type_ids, updated_by, updated_at_ms)
                VALUES (\(bind: scope.realm), \(bind: hours), \(bind: Int64(settings.quietHours.startMinute)),
                        \(bind: Int64(settings.quietHours.endMinute)), \(bind: channels), \(bind: settings.senderName), \(bind: types),
                        \(bind: scope.actor.rawValue), \(bind: now))
                ON CONFLICT (clinic_id) DO UPDATE SET reminder_lead_hours = excluded.reminder_lead_hours,
                    quiet_start_minute = excluded.quiet_start_minute, quiet_end_minute = excluded.quiet_end_minute,
                    channels = excluded.channels, sender_name = excluded.sender_name, sensitive_type_ids = excluded.sensitive_type_ids,
                    updated_by = excluded.updated_by, updated_at_ms = excluded.updated_at_ms
                """).run()
            try await Ledger.append(scope.event("communications.update", resourceType: "clinic", resource: scope.realm,
                                                detail: "leads=\(hours) channels=\(channels)"), in: tx)
            return settings
        }
    }

    /// The channels a patient accepts; nil when they never said (every channel the clinic uses).
    static func preferences(of patient: PatientID, clinic: UUID, in tx: ScopedSQL) async throws -> Set<MessageChannel>? {
        try await tx.sql.raw("""
            SELECT channels FROM patient_contact_preferences WHERE clinic_id = \(bind: clinic) AND patient_id = \(bind: patient.rawValue)
            """).first().map { row in
                Set(try row.decode(column: "channels", as: String.self).split(separator: ",").compactMap { MessageChannel(rawValue: String($0)) })
            }
    }

    /// Records what the patient asked for (an empty set: no messages), with who recorded it and
    /// when; the change is on the clinic's chain too, so the history survives the next change.
    static func setPreferences(_ channels: Set<MessageChannel>, of patient: PatientID, scope: ClinicScope,
                               services: ClinicServices) async throws -> ContactPreferences {
        try await services.store.transaction(realm: scope.realm) { tx in
            try await ClinicReferences.requirePatientInPath(patient, clinic: scope.realm, in: tx)
            let text = try await record(channels, of: patient, clinic: scope.realm, changedBy: scope.actor.rawValue, in: tx)
            let now = Date().milliseconds
            try await Ledger.append(scope.event("patient.contact-preferences", resourceType: "patient", resource: patient.rawValue,
                                                detail: "channels=\(text.isEmpty ? "none" : text)"), in: tx)
            return ContactPreferences(channels: channels, changedBy: scope.actor, changedAt: Date(milliseconds: now))
        }
    }

    /// Writes a patient's accepted channels; answers them as stored ("email,sms").
    @discardableResult
    private static func record(_ channels: Set<MessageChannel>, of patient: PatientID, clinic: UUID, changedBy: UUID,
                               in tx: ScopedSQL) async throws -> String {
        let text = channels.map(\.rawValue).sorted().joined(separator: ",")
        try await tx.sql.raw("""
            INSERT INTO patient_contact_preferences (patient_id, clinic_id, channels, changed_by, changed_at_ms)
            VALUES (\(bind: patient.rawValue), \(bind: clinic), \(bind: text), \(bind: changedBy), \(bind: Date().milliseconds))
            ON CONFLICT (patient_id) DO UPDATE SET channels = excluded.channels, changed_by = excluded.changed_by,
                changed_at_ms = excluded.changed_at_ms
            """).run()
        return text
    }

    /// The clinic an unsubscribe token belongs to, by name, when the token is good: for the page
    /// that asks the patient to confirm. Changes nothing. nil for anything else (a made-up or
    /// altered token, a deleted clinic, a patient no longer there): one answer for all.
    static func unsubscribeClinic(token: String, services: ClinicServices) async -> String? {
        try? await unsubscribe(token: token, services: services, context: nil)
    }

    /// Stops e-mail to the token's patient: their accepted channels lose e-mail, recorded as
    /// changed by the patient themselves, and the change is an event in the clinic's chain.
    /// Answers the clinic's name; nil when the token is not good. `context` nil: only check.
    static func unsubscribe(token: String, services: ClinicServices, context: RequestContext?) async throws -> String? {
        guard let (clinic, patient, code) = UnsubscribeLink.parse(token) else { return nil }
        let keyring = services.keyring
        return try await services.store.transaction(realm: clinic) { tx -> String? in
            guard let name = try await tx.sql.raw("SELECT name FROM clinics WHERE id = \(bind: clinic) AND status = 'active'").first()?
                .decode(column: "name", as: String.self) else { return nil }
            let keys = try await keyring.keys(for: clinic, in: tx)
            guard keys.isValidLinkCode(code, purpose: UnsubscribeLink.purpose, subject: UnsubscribeLink.subject(clinic: clinic, patient: patient)),
                  try await ClinicReferences.patientExists(patient, clinic: clinic, in: tx) else { return nil }
            guard let context else { return name }
            let remaining = (try await preferences(of: patient, clinic: clinic, in: tx) ?? Set(MessageChannel.allCases)).subtracting([.email])
            // The patient's own change: recorded under their id.
            try await record(remaining, of: patient, clinic: clinic, changedBy: patient.rawValue, in: tx)
            try await Ledger.append(context.event(chain: clinic, action: "patient.unsubscribe", resourceType: "patient", resource: patient.rawValue,
                                                  detail: "channel=email"), in: tx)
            return name
        }
    }
}
