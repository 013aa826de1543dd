import ClinicDomain
import Foundation
import SQLKit

/// Practitioners' working weeks and the clinic's time zone. The diary asks `refusal` before it
/// claims a slot, inside the booking's own transaction.
struct WorkingHours: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let outsideHours = ClinicError.conflict("outside_hours", "The practitioner does not work at this time.", field: "startsAt")

    func week(of practitioner: UserID) async throws -> (week: WorkingWeek, timeZone: ClinicTimeZone) {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            try await Self.requireMember(practitioner, clinic: scope.realm, in: tx)
            let week = try await Self.week(of: practitioner, clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("hours.read", resourceType: "user", resource: practitioner.rawValue), in: tx)
            return (week, try await Self.timeZone(of: scope.realm, in: tx))
        }
    }

    /// Every practitioner's week at once, for the diary's grid: one statement, one event.
    /// Someone with no hours set is absent (bookable at any time).
    func clinicWeeks() async throws -> [UserID: WorkingWeek] {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            var periods: [UserID: [WorkingPeriod]] = [:]
            for row in try await tx.sql.raw("""
                SELECT practitioner_id, weekday, start_minute, end_minute FROM working_hours WHERE clinic_id = \(bind: scope.realm)
                """).all() {
                guard let weekday = WorkingPeriod.Weekday(rawValue: try row.decode(column: "weekday", as: String.self)) else {
                    throw ClinicError.integrityFailure
                }
                periods[UserID(try row.decode(column: "practitioner_id", as: UUID.self)), default: []].append(
                    WorkingPeriod(weekday: weekday, startMinute: Int(try row.decode(column: "start_minute", as: Int64.self)),
                                  endMinute: Int(try row.decode(column: "end_minute", as: Int64.self))))
            }
            try await Ledger.append(scope.event("hours.list", resourceType: "user"), in: tx)
            return periods.mapValues(WorkingWeek.init(periods:))
        }
    }

    /// Replaces the practitioner's whole week; an empty one makes them bookable at any time.
    func replace(of practitioner: UserID, with week: WorkingWeek) async throws {
        let scope = self.scope
        try await services.store.transaction(realm: scope.realm) { tx in
            try await Self.requireMember(practitioner, clinic: scope.realm, in: tx)
            try await ClinicReferences.requirePractitioner(practitioner, clinic: scope.realm, in: tx, field: "userId")
            // The diary's lock: two saves of one week cannot interleave into their union, and a
            // booking being written sees either the old week or the new one.
            try await AppointmentBook.lockDiary(of: practitioner, clinic: scope.realm, in: tx)
            try await tx.sql.raw("""
                DELETE FROM working_hours WHERE clinic_id = \(bind: scope.realm) AND practitioner_id = \(bind: practitioner.rawValue)
                """).run()
            for period in week.periods {
                try await tx.sql.raw("""
                    INSERT INTO working_hours (id, clinic_id, practitioner_id, weekday, start_minute, end_minute)
                    VALUES (\(bind: UUID()), \(bind: scope.realm), \(bind: practitioner.rawValue), \(bind: period.weekday.rawValue),
                            \(bind: period.startMinute), \(bind: period.endMinute))
                    """).run()
            }
            try await Ledger.append(scope.event("hours.update", resourceType: "user", resource: practitioner.rawValue,
                                                detail: "periods=\(week.periods.count)"), in: tx)
        }
    }

    func timeZone() async throws -> ClinicTimeZone {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in try await Self.timeZone(of: scope.realm, in: tx) }
    }

    func setTimeZone(_ zone: ClinicTimeZone) async throws {
        let scope = self.scope
        try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("UPDATE clinics SET time_zone = \(bind: zone.identifier) WHERE id = \(bind: scope.realm)").run()
            // Days start at another midnight now: the daily sums are cut again.
            try await DailyFigures.rebuild(clinic: scope.realm, in: tx.sql)
            try await Ledger.append(scope.event("clinic.settings", resourceType: "clinic", resource: scope.realm,
                                                detail: "timeZone=\(zone.identifier)"), in: tx)
        }
    }

    /// Why this practitioner cannot take `start..<end`, or nil when they can.
    static func refusal(_ start: Date, _ end: Date, practitioner: UserID, clinic: UUID, in tx: ScopedSQL) async throws -> ClinicError? {
        let week = try await week(of: practitioner, clinic: clinic, in: tx)
        guard !week.periods.isEmpty else { return nil }
        return week.admits(start: start, end: end, in: try await timeZone(of: clinic, in: tx).zone) ? nil : outsideHours
    }

    private static func week(of practitioner: UserID, clinic: UUID, in tx: ScopedSQL) async throws -> WorkingWeek {
        let rows = try await tx.sql.raw("""
            SELECT weekday, start_minute, end_minute FROM working_hours
            WHERE clinic_id = \(bind: clinic) AND practitioner_id = \(bind: practitioner.rawValue)
            """).all()
        return WorkingWeek(periods: try rows.map { row in
            guard let weekday = WorkingPeriod.Weekday(rawValue: try row.decode(column: "weekday", as: String.self)) else {
                throw ClinicError.integrityFailure
            }
            return WorkingPeriod(weekday: weekday, startMinute: Int(try row.decode(column: "start_minute", as: Int64.self)),
                                 endMinute: Int(try row.decode(column: "end_minute", as: Int64.self)))
        }.sorted { ($0.weekday.index, $0.startMinute) < ($1.weekday.index, $1.startMinute) })
    }

    private static func timeZone(of clinic: UUID, in tx: ScopedSQL) async throws -> ClinicTimeZone {
        let stored = try await tx.sql.raw("SELECT time_zone FROM clinics WHERE id = \(bind: clinic)").first()?
            .decode(column: "time_zone", as: String.self)
        return stored.map(ClinicTimeZone.init(storedIdentifier:)) ?? .utc
    }

    /// Someone who is not a member of this clinic is not found, as any other clinic's record.
    private static func requireMember(_ user: UserID, clinic: UUID, in tx: ScopedSQL) async throws {
        let row = try await tx.sql.raw("SELECT user_id FROM memberships WHERE clinic_id = \(bind: clinic) AND user_id = \(bind: user.rawValue)").first()
        guard row != nil else { throw ClinicError.notFound }
    }
}
