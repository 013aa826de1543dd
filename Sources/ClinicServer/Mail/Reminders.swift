import ClinicDomain
import Foundation
import SQLKit

/// Queues appointment reminders as they fall due: run by the scheduler (`ServerChore`, every
/// `CLINICKEEP_SCHEDULER_INTERVAL`). For each clinic, outside its quiet hours, each booked
/// appointment within a lead time gets one reminder per lead time. The decision is a row of
/// `appointment_reminders` inserted once: a second server, or a second run, finds it and
/// moves on, so a reminder is never queued twice.
enum Reminders {
    static func queueDue(services: ClinicServices, now: Date = Date()) async throws -> Int {
        var queued = 0
        for clinic in try await OutboxDelivery.activeClinics(services) {
            queued += try await queueDue(clinic: clinic, services: services, now: now)
        }
        return queued
    }

    static func queueDue(clinic: UUID, services: ClinicServices, now: Date) async throws -> Int {
        let keyring = services.keyring
        return try await services.store.transaction(realm: clinic) { tx in
            let settings = try await Communications.settings(clinic: clinic, in: tx)
            guard let longest = settings.reminderLeadHours.max(), !settings.channels.isEmpty else { return 0 }
            let zone = ClinicTimeZone(storedIdentifier: try await tx.sql.raw("SELECT time_zone FROM clinics WHERE id = \(bind: clinic)").first()?
                .decode(column: "time_zone", as: String.self) ?? "UTC")
            guard !settings.quietHours.contains(now, in: zone) else { return 0 }
            let horizon = now.addingTimeInterval(TimeInterval(longest) * 3600)
            let keys = try await keyring.keys(for: clinic, in: tx)
            let candidates = try await tx.sql.raw("""
                SELECT \(unsafeRaw: AppointmentBook.columns) FROM appointments WHERE clinic_id = \(bind: clinic) AND status = \(bind: AppointmentStatus.booked.rawValue)
                  AND starts_at_ms > \(bind: now.milliseconds) AND starts_at_ms <= \(bind: horizon.milliseconds)
                ORDER BY starts_at_ms LIMIT 1000
                """).all().map { try AppointmentBook.open($0, keys: keys) }
            var queued = 0
            for appointment in candidates {
                let decided = Set(try await tx.sql.raw("""
                    SELECT lead_hours FROM appointment_reminders WHERE clinic_id = \(bind: clinic) AND appointment_id = \(bind: appointment.id.rawValue)
                    """).all().map { Int(try $0.decode(column: "lead_hours", as: Int64.self)) })
                let confirmed = try await PatientMessages.lastConfirmation(of: appointment.id, clinic: clinic, in: tx)
                // The shortest lead time first: an appointment inside two lead times at once
                // (booked late) gets one reminder, not two.
                var remindedNow = false
                for lead in settings.reminderLeadHours.sorted() where !decided.contains(lead) {
                    let decision = ReminderDecision.decide(start: Date(milliseconds: appointment.slot.start), leadHours: lead, now: now,
                                                           lastConfirmation: confirmed)
                    guard decision != .notYet else { continue }
                    let send = decision == .send && !remindedNow
                    guard try await claim(appointment.id, lead: lead, clinic: clinic, decision: send ? "queued" : "skipped", now: now, in: tx) else { continue }
                    if send, try await PatientMessages.queue(PatientMessage.reminder, about: appointment, clinic: clinic, timeZone: zone,
                                                             keyring: keyring, in: tx) {
                        queued += 1
                        remindedNow = true
                    }
                }
            }
            return queued
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
