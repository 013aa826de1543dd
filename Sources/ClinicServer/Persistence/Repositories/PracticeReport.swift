import ClinicDomain
import Foundation
import SQLKit

/// The practice's figures for a period, computed in SQL from columns kept in the clear for the
/// purpose (statuses, times, amounts): nothing is unsealed for a sum. Each role gets only the
/// sections `ReportSections` allows it; the request (not the figures) is an audit event.
struct PracticeReport: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    struct Utilisation: Sendable {
        let practitioner: UserID
        let bookedMinutes: Int
        let workingMinutes: Int
    }

    struct PatientCounts: Sendable {
        let new: Int
        let returning: Int
        let seen: Int
    }

    struct Revenue: Sendable {
        let invoicedCents: Int
        let collectedCents: Int
        let gstCents: Int
        let outstandingCents: Int
        let byPractitioner: [(practitioner: UserID?, cents: Int)]
        /// The same, week by week (by the week each invoice was issued in), for the stacked bars.
        let byPractitionerWeekly: [(index: Int, practitioner: UserID?, cents: Int)]
        let byAppointmentType: [(type: AppointmentTypeID?, cents: Int)]
        /// What issued invoices charged for each product (line totals, GST included).
        let byProduct: [(product: ProductID, cents: Int)]
        let outstandingByAge: OutstandingByAge
    }

    /// One week of the period (counted in whole weeks from its first day): its appointments.
    struct Week: Sendable {
        let index: Int
        var figures = AppointmentFigures()
    }

    struct Figures: Sendable {
        let period: ReportPeriod
        var appointments: AppointmentFigures?
        /// The same, week by week, for the reports page's chart.
        var weeks: [Week]?
        var utilisation: [Utilisation]?
        /// Booked against working minutes week by week (every practitioner, or the one asked
        /// for), for the reports page's line.
        var weeklyUtilisation: [(index: Int, bookedMinutes: Int, workingMinutes: Int)]?
        var patients: PatientCounts?
        var revenue: Revenue?
        /// Active products with fewer than the threshold in stock, fewest first.
        var lowStock: [(product: ProductID, name: String, stock: Int)]?
        /// The library formulas prescribed most in the period, most first (at most ten).
        var topFormulas: [(formula: FormulaID, name: String, count: Int)]?
    }

    static let defaultLowStock = 5

    static let attended = [AppointmentStatus.arrived.rawValue, AppointmentStatus.completed.rawValue]

    /// `practitioner` narrows every figure to one practitioner; a practitioner who sees only
    /// their own activity is narrowed to themselves, and asking for a colleague is refused.
    func figures(for period: ReportPeriod, practitioner asked: UserID?, lowStockBelow: Int = defaultLowStock) async throws -> Figures {
        let scope = self.scope
        let practitioner: UserID?
        if ReportSections.ownActivityOnly(scope.roles) {
            guard asked == nil || asked == scope.actor else { throw ClinicError.forbidden("You may see your own figures only.") }
            practitioner = scope.actor
        } else {
            practitioner = asked
        }
        return try await services.store.transaction(realm: scope.realm) { tx in
            if let asked { try await ClinicReferences.requirePractitioner(asked, clinic: scope.realm, in: tx) }
            let visibility = try await ReportSettings.visibility(clinic: scope.realm, in: tx)
            var sections = ReportSections.visible(to: scope.roles, allowing: visibility)
            // Money opened to practitioners is each one's own: asking for a colleague's gets none.
            var revenueOf = practitioner
            if ReportSections.ownRevenueOnly(scope.roles, allowing: visibility) {
                if let practitioner, practitioner != scope.actor { sections.remove(.revenue) }
                revenueOf = scope.actor
            }
            var figures = Figures(period: period)
            if sections.contains(.appointments) {
                figures.appointments = try await Self.appointments(period, practitioner, scope, tx)
                figures.weeks = try await Self.weeks(period, practitioner, scope, tx)
            }
            if sections.contains(.utilisation) {
                figures.utilisation = try await Self.utilisation(period, practitioner, scope, tx)
                figures.weeklyUtilisation = try await Self.weeklyUtilisation(period, practitioner, scope, tx)
            }
            if sections.contains(.patients) { figures.patients = try await Self.patients(period, practitioner, scope, tx) }
            if sections.contains(.revenue) { figures.revenue = try await Self.revenue(period, revenueOf, scope, tx) }
            if sections.contains(.stock) {
                figures.lowStock = try await tx.sql.raw("""
                    SELECT id, name, stock FROM products WHERE clinic_id = \(bind: scope.realm) AND active = 1 AND stock < \(bind: lowStockBelow)
                    ORDER BY stock, name LIMIT 100
                    """).all().map {
                        (ProductID(try $0.decode(column: "id", as: UUID.self)), try $0.decode(column: "name", as: String.self),
                         try $0.decode(column: "stock", as: Int.self))
                    }
            }
            if sections.contains(.formulas) {
                figures.topFormulas = try await tx.sql.raw("""
                    SELECT t.formula_id, f.name, COUNT(*) AS n FROM formula_prescriptions t
                    JOIN formulas f ON f.clinic_id = t.clinic_id AND f.id = t.formula_id
                    WHERE t.clinic_id = \(bind: scope.realm) AND t.prescribed_quarter_ms >= \(bind: period.startMs)
                      AND t.prescribed_quarter_ms < \(bind: period.endMs)
                    """ + (practitioner.map { " AND t.prescriber_id = \(bind: $0.rawValue)" } ?? "")
                    + " GROUP BY t.formula_id, f.name ORDER BY n DESC, f.name LIMIT 10").all().map {
                        (FormulaID(try $0.decode(column: "formula_id", as: UUID.self)), try $0.decode(column: "name", as: String.self),
                         try $0.decode(column: "n", as: Int.self))
                    }
            }
            try await Ledger.append(scope.event("report.read", resourceType: "clinic", resource: scope.realm,
                                                detail: "from=\(period.from) to=\(period.to)" + (practitioner.map { " practitioner=\($0)" } ?? "")), in: tx)
            return figures
        }
    }

    /// Where the practitioner is named in a query: the table alone, or under an alias.
    private enum PractitionerColumn { case bare, appointment, invoice }

    /// `AND <column> = <practitioner>` when narrowed, else nothing.
    private static func narrowed(_ column: PractitionerColumn, _ practitioner: UserID?) -> SQLQueryString {
        guard let id = practitioner?.rawValue else { return "" }
        switch column {
        case .bare: return " AND practitioner_id = \(bind: id)"
        case .appointment: return " AND a.practitioner_id = \(bind: id)"
        case .invoice: return " AND i.practitioner_id = \(bind: id)"
        }
    }

    private static func appointments(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                     _ tx: ScopedSQL) async throws -> AppointmentFigures {
        let rows = try await tx.sql.raw("""
            SELECT status, CAST(SUM(appointments) AS BIGINT) AS n, CAST(SUM(late_cancelled) AS BIGINT) AS late
            FROM appointment_days WHERE clinic_id = \(bind: scope.realm) AND day_ms >= \(bind: period.startMs) AND day_ms < \(bind: period.endMs)
            """ + narrowed(.bare, practitioner) + " GROUP BY status").all()
        var figures = AppointmentFigures()
        for row in rows {
            let count = try row.decode(column: "n", as: Int.self)
            figures.booked += count
            switch AppointmentStatus(rawValue: try row.decode(column: "status", as: String.self)) {
            case .arrived, .completed: figures.attended += count
            case .cancelled:
                figures.cancelled += count
                figures.lateCancelled += try row.decode(column: "late", as: Int?.self) ?? 0
            case .noShow: figures.noShow += count
            case .booked, nil: break
            }
        }
        return figures
    }

    /// The week of the period an appointment starts in (or `column` falls in), as SQL: its index
    /// among `weekStarts`.
    private static func weekOf(_ period: ReportPeriod, column: SQLQueryString = "day_ms") -> SQLQueryString {
        let starts = period.weekStarts
        // A period of one week or less: every appointment is in the first (a CASE needs a WHEN).
        guard starts.count > 1 else { return " \(bind: Int64(0)) " }
        // Spaces around it: it is joined to the text before and after as it is.
        var sql: SQLQueryString = " CASE"
        for (index, next) in starts.enumerated().dropFirst() {
            sql = sql + " WHEN " + column + " < \(bind: next) THEN \(bind: Int64(index - 1))"
        }
        return sql + " ELSE \(bind: Int64(starts.count - 1)) END "
    }

    private static func weeks(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope, _ tx: ScopedSQL) async throws -> [Week] {
        var weeks = period.weekStarts.indices.map { Week(index: $0) }
        for row in try await tx.sql.raw("""
            SELECT
            """ + weekOf(period) + """
             AS week, status, CAST(SUM(appointments) AS BIGINT) AS n FROM appointment_days
            WHERE clinic_id = \(bind: scope.realm) AND day_ms >= \(bind: period.startMs) AND day_ms < \(bind: period.endMs)
            """ + narrowed(.bare, practitioner) + " GROUP BY 1, 2").all() {
            let week = Int(try row.decode(column: "week", as: Int64.self)), n = try row.decode(column: "n", as: Int.self)
            guard weeks.indices.contains(week) else { continue }
            weeks[week].figures.booked += n
            switch AppointmentStatus(rawValue: try row.decode(column: "status", as: String.self)) {
            case .arrived, .completed: weeks[week].figures.attended += n
            case .cancelled: weeks[week].figures.cancelled += n
            case .noShow: weeks[week].figures.noShow += n
            case .booked, nil: break
            }
        }
        return weeks
    }

    /// Booked minutes (every appointment but a cancelled one) against working minutes (the
    /// weekly hours times the period's days of each weekday), per practitioner with either.
    private static func utilisation(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                    _ tx: ScopedSQL) async throws -> [Utilisation] {
        var booked: [UUID: Int] = [:], working: [UUID: Int] = [:]
        for row in try await tx.sql.raw("""
            SELECT practitioner_id, CAST(SUM(booked_ms) AS BIGINT) AS ms FROM appointment_days
            WHERE clinic_id = \(bind: scope.realm) AND day_ms >= \(bind: period.startMs) AND day_ms < \(bind: period.endMs)
              AND status <> 'cancelled'
            """ + narrowed(.bare, practitioner) + " GROUP BY practitioner_id").all() {
            booked[try row.decode(column: "practitioner_id", as: UUID.self)] = Int(try row.decode(column: "ms", as: Int64.self) / 60_000)
        }
        var days: [WorkingPeriod.Weekday: Int] = [:]
        for weekday in period.weekdays { days[weekday, default: 0] += 1 }
        for row in try await tx.sql.raw("""
            SELECT practitioner_id, weekday, start_minute, end_minute FROM working_hours WHERE clinic_id = \(bind: scope.realm)
            """ + narrowed(.bare, practitioner)).all() {
            guard let weekday = WorkingPeriod.Weekday(rawValue: try row.decode(column: "weekday", as: String.self)) else { continue }
            let minutes = Int(try row.decode(column: "end_minute", as: Int64.self) - row.decode(column: "start_minute", as: Int64.self))
            working[try row.decode(column: "practitioner_id", as: UUID.self), default: 0] += minutes * (days[weekday] ?? 0)
        }
        return Set(booked.keys).union(working.keys).sorted { $0.uuidString < $1.uuidString }.map {
            Utilisation(practitioner: UserID($0), bookedMinutes: booked[$0] ?? 0, workingMinutes: working[$0] ?? 0)
        }
    }

    /// The same as `utilisation`, summed over practitioners and cut into the weeks of `weeks`:
    /// booked minutes by the week an appointment starts in, working minutes by the weekdays of
    /// each week's days.
    private static func weeklyUtilisation(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                          _ tx: ScopedSQL) async throws -> [(index: Int, bookedMinutes: Int, workingMinutes: Int)] {
        let weekdays = period.weekdays
        let count = (weekdays.count + 6) / 7
        var booked = [Int](repeating: 0, count: count), working = [Int](repeating: 0, count: count)
        for row in try await tx.sql.raw("""
            SELECT
            """ + weekOf(period) + """
             AS week, CAST(SUM(booked_ms) AS BIGINT) AS ms
            FROM appointment_days WHERE clinic_id = \(bind: scope.realm) AND day_ms >= \(bind: period.startMs) AND day_ms < \(bind: period.endMs)
              AND status <> 'cancelled'
            """ + narrowed(.bare, practitioner) + " GROUP BY 1").all() {
            let week = Int(try row.decode(column: "week", as: Int64.self))
            if booked.indices.contains(week) { booked[week] += Int(try row.decode(column: "ms", as: Int64.self) / 60_000) }
        }
        var perWeekday: [WorkingPeriod.Weekday: Int] = [:]
        for row in try await tx.sql.raw("""
            SELECT weekday, start_minute, end_minute FROM working_hours WHERE clinic_id = \(bind: scope.realm)
            """ + narrowed(.bare, practitioner)).all() {
            guard let weekday = WorkingPeriod.Weekday(rawValue: try row.decode(column: "weekday", as: String.self)) else { continue }
            perWeekday[weekday, default: 0] += Int(try row.decode(column: "end_minute", as: Int64.self) - row.decode(column: "start_minute", as: Int64.self))
        }
        for (day, weekday) in weekdays.enumerated() { working[day / 7] += perWeekday[weekday] ?? 0 }
        return (0..<count).map { (index: $0, bookedMinutes: booked[$0], workingMinutes: working[$0]) }
    }

    /// Seen: patients with an attended appointment in the period; new: those whose first
    /// attended appointment at the clinic is in it. Each of the clinic's patients is looked up
    /// in `appointments_attended` (one seek for the period, one before it): a few thousand
    /// seeks instead of a walk through a year of appointments.
    private static func patients(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                 _ tx: ScopedSQL) async throws -> PatientCounts {
        let row = try await tx.sql.raw("""
            SELECT COUNT(*) AS seen, CAST(SUM(CASE WHEN EXISTS (
                       SELECT 1 FROM appointments b WHERE b.clinic_id = \(bind: scope.realm) AND b.patient_id = p.id
                         AND b.status IN (\(binds: attended)) AND b.starts_at_ms < \(bind: period.startMs)) THEN 0 ELSE 1 END) AS BIGINT) AS new
            FROM patients p WHERE p.clinic_id = \(bind: scope.realm) AND EXISTS (
                SELECT 1 FROM appointments a WHERE a.clinic_id = \(bind: scope.realm) AND a.patient_id = p.id AND a.status IN (\(binds: attended))
                  AND a.starts_at_ms >= \(bind: period.startMs) AND a.starts_at_ms < \(bind: period.endMs)
            """ + narrowed(.appointment, practitioner) + ")").first()
        let seen = try row?.decode(column: "seen", as: Int.self) ?? 0
        let new = try row?.decode(column: "new", as: Int?.self) ?? 0
        return PatientCounts(new: new, returning: seen - new, seen: seen)
    }

    /// Issued invoices (issued or paid; never drafts or voided ones) by the day they were issued;
    /// payments by the day they were received; what was still owed at the end of the period, by
    /// the age of the invoice then.
    private static func revenue(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                _ tx: ScopedSQL) async throws -> Revenue {
        // A space first: it follows a SELECT list as it is.
        let days: SQLQueryString = """
             FROM revenue_days r WHERE r.clinic_id = \(bind: scope.realm) AND r.day_ms >= \(bind: period.startMs) AND r.day_ms < \(bind: period.endMs)
            """ + (practitioner.map { " AND r.practitioner_id = \(bind: $0.rawValue)" } ?? "")
        func someone(_ id: UUID?) -> UUID? { id == DailyFigures.nobody ? nil : id }
        let totals = try await tx.sql.raw("""
            SELECT CAST(SUM(r.invoiced_cents) AS BIGINT) AS total, CAST(SUM(r.gst_cents) AS BIGINT) AS gst,
                   CAST(SUM(r.collected_cents) AS BIGINT) AS collected
            """ + days).first()
        let byPractitioner = try await tx.sql.raw("SELECT r.practitioner_id AS who, CAST(SUM(r.invoiced_cents) AS BIGINT) AS cents " + days
            + " GROUP BY r.practitioner_id HAVING SUM(r.invoices) <> 0").all().map { row in
                (practitioner: someone(try row.decode(column: "who", as: UUID.self)).map(UserID.init), cents: try row.decode(column: "cents", as: Int.self))
            }
        let byPractitionerWeekly = try await tx.sql.raw("SELECT r.practitioner_id AS who, " + weekOf(period, column: "r.day_ms")
            + " AS week, CAST(SUM(r.invoiced_cents) AS BIGINT) AS cents " + days + " GROUP BY 1, 2 HAVING SUM(r.invoices) <> 0").all().map { row in
                (index: Int(try row.decode(column: "week", as: Int64.self)),
                 practitioner: someone(try row.decode(column: "who", as: UUID.self)).map(UserID.init), cents: try row.decode(column: "cents", as: Int.self))
            }
        let byType = try await tx.sql.raw("SELECT r.type_id AS type, CAST(SUM(r.invoiced_cents) AS BIGINT) AS cents " + days
            + " GROUP BY r.type_id HAVING SUM(r.invoices) <> 0").all().map { row in
                (type: someone(try row.decode(column: "type", as: UUID.self)).map(AppointmentTypeID.init), cents: try row.decode(column: "cents", as: Int.self))
            }
        let byProduct = try await tx.sql.raw("""
            SELECT product_id, CAST(SUM(cents) AS BIGINT) AS cents FROM product_sales
            WHERE clinic_id = \(bind: scope.realm) AND issued_quarter_ms >= \(bind: period.startMs) AND issued_quarter_ms < \(bind: period.endMs)
            """ + narrowed(.bare, practitioner) + " GROUP BY product_id HAVING SUM(cents) <> 0 ORDER BY cents DESC, product_id").all().map { row in
                (product: ProductID(try row.decode(column: "product_id", as: UUID.self)), cents: try row.decode(column: "cents", as: Int.self))
            }
        let collected = try totals?.decode(column: "collected", as: Int?.self) ?? 0
        var ages = OutstandingByAge()
        var outstanding = 0
        // Owed at the end of the period: issued by then, less what was paid by then (a January
        // report read in June still shows January's debts, at January's ages): what is owed now,
        // plus what was paid after the end. A paid invoice last changed when it was settled, so
        // one paid before the end owed nothing then and is not read. Both parts are summed in SQL
        // by the invoice's age in days at the end (a year of open invoices is a few hundred
        // rows, not thousands), and `OutstandingByAge` bands the days.
        let owedAtEnd: SQLQueryString = """
             FROM invoices i WHERE i.clinic_id = \(bind: scope.realm) AND i.status IN ('issued', 'paid') AND i.issued_at_ms < \(bind: period.endMs)
              AND (i.status = 'issued' OR i.updated_at_ms >= \(bind: period.endMs))
            """ + narrowed(.invoice, practitioner)
        let ageDays: SQLQueryString = "(\(bind: period.endMs) - i.issued_at_ms) / \(bind: Int64(86_400_000))"
        let owedNow = try await tx.sql.raw("SELECT " + ageDays + " AS age, CAST(SUM(i.total_cents - i.paid_cents) AS BIGINT) AS cents"
            + owedAtEnd + " GROUP BY 1").all()
        let paidLater = try await tx.sql.raw("""
            SELECT
            """ + ageDays + """
             AS age, CAST(SUM(p.amount_cents) AS BIGINT) AS cents FROM payments p
            JOIN invoices i ON i.clinic_id = p.clinic_id AND i.id = p.invoice_id
            WHERE p.clinic_id = \(bind: scope.realm) AND p.received_at_ms >= \(bind: period.endMs) AND i.status IN ('issued', 'paid')
              AND i.issued_at_ms < \(bind: period.endMs)
            """ + narrowed(.invoice, practitioner) + " GROUP BY 1").all()
        for row in owedNow + paidLater {
            let cents = try row.decode(column: "cents", as: Int.self)
            guard cents > 0 else { continue }
            ages.add(cents: cents, ageDays: Int(try row.decode(column: "age", as: Int64.self)))
            outstanding += cents
        }
        return Revenue(invoicedCents: try totals?.decode(column: "total", as: Int?.self) ?? 0, collectedCents: collected,
                       gstCents: try totals?.decode(column: "gst", as: Int?.self) ?? 0, outstandingCents: outstanding,
                       byPractitioner: byPractitioner, byPractitionerWeekly: byPractitionerWeekly, byAppointmentType: byType, byProduct: byProduct, outstandingByAge: ages)
    }
}
