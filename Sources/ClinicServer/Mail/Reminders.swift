import ClinicDomain
import Foundation
import Logging
import SQLKit

/// Queues appointment reminders as they fall due: run by the scheduler (`ServerChore`, every
/// `CLINICKEEP_SCHEDULER_INTERVAL`). For each clinic, outside its quiet hours, each booked
/// appointment within a lead time gets one reminder per lead time. The decision is a row of
/// `appointment_reminders` inserted once: a second server, or a second run, finds it and
/// moves on, so a reminder is never queued twice.
enum Reminders {
    static func queueDue(services: ClinicServices, logger: Logger, now: Date = Date()) async throws -> Int {
        var queued = 0
        for clinic in try await OutboxDelivery.activeClinics(services) {
            // One clinic's trouble (a key it cannot open) never holds up the others.
            do {
                queued += try await queueDue(clinic: clinic, services: services, now: now)
            } catch {
                logger.warning("reminders of a clinic not queued", metadata: [
                    "clinic_id": .string(clinic.uuidString.lowercased()), "error_type": .string(String(reflecting: type(of: error)))])
            }
        }
        return queued
    }

    /// The candidates are read in one short transaction; each appointment is then decided in
    /// a transaction of its own that locks its row and reads it again, so a cancellation or a
    /// move committed meanwhile is seen (and one that comes after waits, then withdraws what
    /// was queued).
    static func queueDue(clinic: UUID, services: ClinicServices, now: Date) async throws -> Int {
        let (settings, zone, candidates) = try await services.store.read(realm: clinic) { tx in
            let settings = try await Communications.settings(clinic: clinic, in: tx)
            let zone = ClinicTimeZone(storedIdentifier: try await tx.sql.raw("SELECT time_zone FROM clinics WHERE id = \(bind: clinic)").first()?
                .decode(column: "time_zone", as: String.self) ?? "UTC")
            guard let longest = settings.reminderLeadHours.max(), !settings.channels.isEmpty,
                  !settings.quietHours.contains(now, in: zone) else { return (settings, zone, [UUID]()) }
            let horizon = now.addingTimeInterval(TimeInterval(longest) * 3600)
            // Nearest first, leaving out appointments whose every lead time is decided.
            let ids = try await tx.sql.raw("""
                SELECT a.id FROM appointments a
                WHERE a.clinic_id = \(bind: clinic) AND a.status = \(bind: AppointmentStatus.booked.rawValue)
                  AND a.starts_at_ms > \(bind: now.milliseconds) AND a.starts_at_ms <= \(bind: horizon.milliseconds)
                  AND (SELECT COUNT(*) FROM appointment_reminders r WHERE r.clinic_id = a.clinic_id AND r.appointment_id = a.id)
                      < \(bind: settings.reminderLeadHours.count)
                ORDER BY a.starts_at_ms LIMIT 1000
                """).all().map { try $0.decode(column: "id", as: UUID.self) }
            return (settings, zone, ids)
        }
        var queued = 0
        for id in candidates where try await decide(AppointmentID(id), clinic: clinic, settings: settings, zone: zone, services: services, now: now) {
            queued += 1
        }
        return queued
    }

    /// Answers whether a reminder was queued for this appointment.
    private static func decide(_ id: AppointmentID, clinic: UUID, settings: CommunicationSettings, zone: ClinicTimeZone,
                               services: ClinicServices, now: Date) async throws -> Bool {
        let keyring = services.keyring
        return try await services.store.transaction(realm: clinic) { tx in
            let lock: SQLQueryString = tx.kind == .postgres ? " FOR UPDATE" : ""
            guard let row = try await tx.sql.raw("""
                SELECT \(unsafeRaw: AppointmentBook.columns) FROM appointments WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)
                """ + lock).first() else { return false }
            let appointment = try AppointmentBook.open(row, keys: try await keyring.keys(for: clinic, in: tx))
            guard appointment.status == .booked else { return false }
            let decided = Set(try await tx.sql.raw("""
                SELECT lead_hours FROM appointment_reminders WHERE clinic_id = \(bind: clinic) AND appointment_id = \(bind: id.rawValue)
                """).all().map { Int(try $0.decode(column: "lead_hours", as: Int64.self)) })
            let confirmed = try await PatientMessages.lastConfirmation(of: id, clinic: clinic, in: tx)
            // The shortest lead time first: an appointment inside two lead times at once (booked
            // late) gets one reminder, not two.
            var reminded = false
            for lead in settings.reminderLeadHours.sorted() where !decided.contains(lead) {
                let decision = ReminderDecision.decide(start: Date(milliseconds: appointment.slot.start), leadHours: lead, now: now,
                                                       lastConfirmation: confirmed)
                guard decision != .notYet else { continue }
                let send = decision == .send && !reminded
                guard try await claim(id, lead: lead, clinic: clinic, decision: send ? "queued" : "skipped", now: now, in: tx) else { continue }
                if send, try await PatientMessages.queue(PatientMessage.reminder, about: appointment, clinic: clinic, timeZone: zone,
                                                         keyring: keyring, in: tx) {
                    reminded = true
                }
            }
            return reminded
        }
    }

    /// Records the decision for one appointment and lead time; false when another run or server
    /// recorded it first.
    private static func claim(_ appointment: AppointmentID, lead: Int, clinic: UUID, decision: String, now: Date,
                              in tx: ScopedSQL) async throws -> Bool {
        try await tx.sql.raw("""
            INSERT INTO appointment_reminders (appointment_id, lead_hours, clinic_id, decision, decided_at_ms)
            VALUES (\(bind: appointment.rawValue), \(bind: Int64(lead)), \(bind: clinic), \(bind: decision), \(bind: now.milliseconds))
            ON CONFLICT (appointment_id, lead_hours) DO NOTHING RETURNING lead_hours
            """).first() != nil
    }
}
