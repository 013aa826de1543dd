import ClinicDomain
import Foundation
import SQLKit

/// Day-by-day sums of the diary and the takings, changed in the same transaction as every
/// booking, move, status, issue, payment and void that moves them, so the practice's figures
/// for a year sum a few thousand small rows instead of walking every appointment and invoice
/// (measured as W7 in bench/run).
///
/// A day is the clinic's: `day_ms` is its local midnight, so a period of whole days (which a
/// report always is) sums whole rows; a change of the clinic's time zone rebuilds them.
/// - `appointment_days`: per day, practitioner and status: appointments, late cancellations
///   and booked milliseconds.
/// - `revenue_days`: per day, practitioner and appointment type: how many invoices were issued
///   and what they charged with their GST (on the day issued), and what was paid (on the day
///   received).
///
/// Both are derived: `rebuild` recomputes a clinic's rows from the appointments, invoices and
/// payments themselves, and `DailyFiguresTests` checks that every change keeps the two equal.
enum DailyFigures {
    /// "No practitioner" and "no appointment type" in `revenue_days`, whose key columns cannot
    /// hold NULL (two NULLs never conflict, so an upsert would add rows instead of sums).
    static let nobody = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    static let tenantTables: [(table: String, column: String)] = [("appointment_days", "clinic_id"), ("revenue_days", "clinic_id")]

    /// An appointment as the figures count it.
    struct Visit: Sendable {
        let practitioner: UUID
        let status: AppointmentStatus
        let startMs: Int64
        let endMs: Int64
        /// When it last changed: a cancellation's time, which makes it late or not.
        let updatedMs: Int64

        var lateCancelled: Bool {
            status == .cancelled && updatedMs > startMs - AppointmentFigures.lateCancellationNotice
        }
    }

    /// Takes `old` out of the sums and puts `new` in (either may be absent: a booking has no
    /// old, nothing removes an appointment).
    static func replace(_ old: Visit?, with new: Visit?, clinic: UUID, in tx: ScopedSQL) async throws {
        let days = ClinicDays(zone: try await zone(of: clinic, in: tx.sql))
        let changes = [old.map { ($0, Int64(-1)) }, new.map { ($0, Int64(1)) }].compactMap { $0 }
            .map { (visit: $0.0, sign: $0.1, day: days.start(of: $0.0.startMs)) }
        // Rows are locked in one order (day, practitioner, status) by every change: two moves
        // crossing each other's days cannot each hold the row the other waits for.
        for change in changes.sorted(by: { ($0.day, $0.visit.practitioner.uuidString, $0.visit.status.rawValue)
                                               < ($1.day, $1.visit.practitioner.uuidString, $1.visit.status.rawValue) }) {
            try await add(change.visit, sign: change.sign, day: change.day, clinic: clinic, in: tx.sql)
        }
    }

    /// An issued invoice's total and GST counted (`sign` 1) on the day it was issued, or taken
    /// back (`sign` -1) when it is voided.
    static func invoiced(issuedMs: Int64, practitioner: UUID?, appointment: UUID?, totalCents: Int, gstCents: Int, sign: Int,
                         clinic: UUID, in tx: ScopedSQL) async throws {
        let day = ClinicDays(zone: try await zone(of: clinic, in: tx.sql)).start(of: issuedMs)
        let type = try await typeOf(appointment, clinic: clinic, in: tx.sql)
        try await addRevenue(Money(invoices: Int64(sign), invoiced: Int64(sign * totalCents), gst: Int64(sign * gstCents), collected: 0),
                             day: day, practitioner: practitioner ?? nobody, type: type, clinic: clinic, in: tx.sql)
    }

    /// A payment counted on the day it was received, under its invoice's practitioner and type.
    static func collected(receivedMs: Int64, cents: Int, invoice: UUID, clinic: UUID, in tx: ScopedSQL) async throws {
        let day = ClinicDays(zone: try await zone(of: clinic, in: tx.sql)).start(of: receivedMs)
        guard let row = try await tx.sql.raw("""
            SELECT practitioner_id, appointment_id FROM invoices WHERE clinic_id = \(bind: clinic) AND id = \(bind: invoice)
            """).first() else { return }
        let type = try await typeOf(try row.decode(column: "appointment_id", as: UUID?.self), clinic: clinic, in: tx.sql)
        try await addRevenue(Money(invoices: 0, invoiced: 0, gst: 0, collected: Int64(cents)), day: day,
                             practitioner: try row.decode(column: "practitioner_id", as: UUID?.self) ?? nobody, type: type, clinic: clinic, in: tx.sql)
    }

    // MARK: Rebuilding

    /// Recomputes every row of `clinic` from its appointments, invoices and payments: after a
    /// change of time zone, when the tables are first made, and after the benchmark writes a
    /// year of history straight into the tables. `sql` must already be scoped to the clinic.
    /// Each patient's first and last visits (`PatientVisits`) are cut again with them.
    static func rebuild(clinic: UUID, in sql: any SQLDatabase) async throws {
        try await rebuildDays(clinic: clinic, in: sql)
        try await PatientVisits.rebuild(clinic: clinic, in: sql)
    }

    /// The daily sums alone: what the migration that made them filled (`patient_visits` came
    /// after it, and has a migration of its own).
    static func rebuildDays(clinic: UUID, in sql: any SQLDatabase) async throws {
        var days = ClinicDays(zone: try await zone(of: clinic, rebuilding: true, in: sql))
        try await sql.raw("DELETE FROM appointment_days WHERE clinic_id = \(bind: clinic)").run()
        try await sql.raw("DELETE FROM revenue_days WHERE clinic_id = \(bind: clinic)").run()

        struct VisitKey: Hashable { let day: Int64; let practitioner: UUID; let status: String }
        var visits: [VisitKey: (count: Int64, late: Int64, bookedMs: Int64)] = [:]
        for row in try await sql.raw("""
            SELECT practitioner_id, status, starts_at_ms, ends_at_ms, updated_at_ms FROM appointments
            WHERE clinic_id = \(bind: clinic) ORDER BY starts_at_ms
            """).all() {
            guard let status = AppointmentStatus(rawValue: try row.decode(column: "status", as: String.self)) else { continue }
            let visit = Visit(practitioner: try row.decode(column: "practitioner_id", as: UUID.self), status: status,
                              startMs: try row.decode(column: "starts_at_ms", as: Int64.self), endMs: try row.decode(column: "ends_at_ms", as: Int64.self),
                              updatedMs: try row.decode(column: "updated_at_ms", as: Int64.self))
            let key = VisitKey(day: days.cachedStart(of: visit.startMs), practitioner: visit.practitioner, status: status.rawValue)
            visits[key, default: (0, 0, 0)].count += 1
            visits[key, default: (0, 0, 0)].late += visit.lateCancelled ? 1 : 0
            visits[key, default: (0, 0, 0)].bookedMs += visit.endMs - visit.startMs
        }
        for batch in visits.sorted(by: { ($0.key.day, $0.key.status) < ($1.key.day, $1.key.status) }).batches(of: 500) {
            var insert = sql.insert(into: "appointment_days")
                .columns("clinic_id", "day_ms", "practitioner_id", "status", "appointments", "late_cancelled", "booked_ms")
            for (key, sums) in batch {
                insert = insert.values(SQLBind(clinic), SQLBind(key.day), SQLBind(key.practitioner), SQLBind(key.status),
                                       SQLBind(sums.count), SQLBind(sums.late), SQLBind(sums.bookedMs))
            }
            try await insert.run()
        }

        struct MoneyKey: Hashable { let day: Int64; let practitioner: UUID; let type: UUID }
        var money: [MoneyKey: Money] = [:]
        for row in try await sql.raw("""
            SELECT i.practitioner_id, ap.type_id, i.issued_at_ms, i.total_cents, i.gst_cents FROM invoices i
            LEFT JOIN appointments ap ON ap.clinic_id = i.clinic_id AND ap.id = i.appointment_id
            WHERE i.clinic_id = \(bind: clinic) AND i.status IN ('issued', 'paid') ORDER BY i.issued_at_ms
            """).all() {
            let key = MoneyKey(day: days.cachedStart(of: try row.decode(column: "issued_at_ms", as: Int64.self)),
                               practitioner: try row.decode(column: "practitioner_id", as: UUID?.self) ?? nobody,
                               type: try row.decode(column: "type_id", as: UUID?.self) ?? nobody)
            money[key, default: Money()].invoices += 1
            money[key, default: Money()].invoiced += try row.decode(column: "total_cents", as: Int64.self)
            money[key, default: Money()].gst += try row.decode(column: "gst_cents", as: Int64.self)
        }
        for row in try await sql.raw("""
            SELECT i.practitioner_id, ap.type_id, p.received_at_ms, p.amount_cents FROM payments p
            JOIN invoices i ON i.clinic_id = p.clinic_id AND i.id = p.invoice_id
            LEFT JOIN appointments ap ON ap.clinic_id = i.clinic_id AND ap.id = i.appointment_id
            WHERE p.clinic_id = \(bind: clinic) ORDER BY p.received_at_ms
            """).all() {
            let key = MoneyKey(day: days.cachedStart(of: try row.decode(column: "received_at_ms", as: Int64.self)),
                               practitioner: try row.decode(column: "practitioner_id", as: UUID?.self) ?? nobody,
                               type: try row.decode(column: "type_id", as: UUID?.self) ?? nobody)
            money[key, default: Money()].collected += try row.decode(column: "amount_cents", as: Int64.self)
        }
        for batch in money.sorted(by: { $0.key.day < $1.key.day }).batches(of: 500) {
            var insert = sql.insert(into: "revenue_days")
                .columns("clinic_id", "day_ms", "practitioner_id", "type_id", "invoices", "invoiced_cents", "gst_cents", "collected_cents")
            for (key, sums) in batch {
                insert = insert.values(SQLBind(clinic), SQLBind(key.day), SQLBind(key.practitioner), SQLBind(key.type),
                                       SQLBind(sums.invoices), SQLBind(sums.invoiced), SQLBind(sums.gst), SQLBind(sums.collected))
            }
            try await insert.run()
        }
    }

    // MARK: Parts

    struct Money: Sendable {
        /// Issued invoices counted (a free visit's counts, though it adds no money).
        var invoices: Int64 = 0
        var invoiced: Int64 = 0
        var gst: Int64 = 0
        var collected: Int64 = 0
    }

    private static func add(_ visit: Visit, sign: Int64, day: Int64, clinic: UUID, in sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO appointment_days (clinic_id, day_ms, practitioner_id, status, appointments, late_cancelled, booked_ms)
            VALUES (\(bind: clinic), \(bind: day), \(bind: visit.practitioner), \(bind: visit.status.rawValue), \(bind: sign),
                    \(bind: visit.lateCancelled ? sign : 0), \(bind: sign * (visit.endMs - visit.startMs)))
            ON CONFLICT (clinic_id, day_ms, practitioner_id, status) DO UPDATE SET
                appointments = appointment_days.appointments + excluded.appointments,
                late_cancelled = appointment_days.late_cancelled + excluded.late_cancelled,
                booked_ms = appointment_days.booked_ms + excluded.booked_ms
            """).run()
    }

    private static func addRevenue(_ money: Money, day: Int64, practitioner: UUID, type: UUID, clinic: UUID, in sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO revenue_days (clinic_id, day_ms, practitioner_id, type_id, invoices, invoiced_cents, gst_cents, collected_cents)
            VALUES (\(bind: clinic), \(bind: day), \(bind: practitioner), \(bind: type), \(bind: money.invoices), \(bind: money.invoiced),
                    \(bind: money.gst), \(bind: money.collected))
            ON CONFLICT (clinic_id, day_ms, practitioner_id, type_id) DO UPDATE SET
                invoices = revenue_days.invoices + excluded.invoices,
                invoiced_cents = revenue_days.invoiced_cents + excluded.invoiced_cents,
                gst_cents = revenue_days.gst_cents + excluded.gst_cents,
                collected_cents = revenue_days.collected_cents + excluded.collected_cents
            """).run()
    }

    /// The appointment type of the visit an invoice is for (`nobody` when it is for none).
    private static func typeOf(_ appointment: UUID?, clinic: UUID, in sql: any SQLDatabase) async throws -> UUID {
        guard let appointment else { return nobody }
        return try await sql.raw("SELECT type_id FROM appointments WHERE clinic_id = \(bind: clinic) AND id = \(bind: appointment)")
            .first()?.decode(column: "type_id", as: UUID?.self) ?? nobody
    }

    /// The zone stored for the clinic, read in the transaction (never a copy from the session,
    /// which could predate a change). On PostgreSQL the clinic's row is locked first: shared by
    /// each change that counts, exclusively by a rebuild (and by a change of zone, which updates
    /// the row), so a rebuild waits for the changes under way to commit and the changes after it
    /// wait for it: none is counted twice, missed, or cut at the wrong midnight.
    private static func zone(of clinic: UUID, rebuilding: Bool = false, in sql: any SQLDatabase) async throws -> TimeZone {
        let lock: SQLQueryString = sql.kind != .postgres ? "" : rebuilding ? " FOR UPDATE" : " FOR SHARE"
        let stored = try await sql.raw("SELECT time_zone FROM clinics WHERE id = \(bind: clinic)" + lock).first()?
            .decode(column: "time_zone", as: String.self)
        return ClinicTimeZone(storedIdentifier: stored ?? "UTC").zone
    }
}

/// Local midnights on a clinic's calendar.
struct ClinicDays {
    private let calendar: Calendar
    /// The last day found, so rows read in time order find theirs without the calendar.
    private var last: Range<Int64> = 0..<0

    init(zone: TimeZone) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        self.calendar = calendar
    }

    /// The local midnight starting the day that holds `milliseconds`.
    func start(of milliseconds: Int64) -> Int64 {
        range(of: milliseconds).lowerBound
    }

    mutating func cachedStart(of milliseconds: Int64) -> Int64 {
        if !last.contains(milliseconds) { last = range(of: milliseconds) }
        return last.lowerBound
    }

    /// The whole day, from the calendar (a day whose midnight the clocks skip starts at 01:00,
    /// and the next one still at its own midnight).
    private func range(of milliseconds: Int64) -> Range<Int64> {
        let instant = Date(milliseconds: milliseconds)
        guard let day = calendar.dateInterval(of: .day, for: instant) else { return milliseconds..<(milliseconds + 1) }
        return day.start.milliseconds..<max(day.end.milliseconds, day.start.milliseconds + 1)
    }
}

private extension Array {
    /// Runs of at most `size` elements: rows per INSERT, under SQLite's limit on bound values.
    func batches(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

extension AppointmentRecord {
    /// The appointment as the daily figures count it now (what a change takes out).
    var figured: DailyFigures.Visit {
        DailyFigures.Visit(practitioner: practitioner.rawValue, status: status, startMs: slot.start, endMs: slot.end,
                           updatedMs: updatedAt.milliseconds)
    }
}
