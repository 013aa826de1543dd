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

    static let attended = AppointmentStatus.allCases.filter(\.attended).map(\.rawValue)

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
            if sections.contains(.appointments) || sections.contains(.utilisation) {
                // One read of the diary's sums serves the counts, the weeks and the booked time.
                let diary = try await Self.diaryWeeks(period, practitioner, scope, tx)
                if sections.contains(.appointments) {
                    figures.appointments = Self.appointments(diary)
                    figures.weeks = Self.weeks(diary, period)
                }
                if sections.contains(.utilisation) {
                    let hours = try await Self.workingHours(practitioner, scope, tx)
                    figures.utilisation = Self.utilisation(diary, hours, period)
                    figures.weeklyUtilisation = Self.weeklyUtilisation(diary, hours, period)
                }
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

    /// One week, practitioner and status of the period's diary sums.
    private struct DiaryWeek: Sendable {
        let week: Int
        let practitioner: UUID
        let status: AppointmentStatus?
        let appointments: Int
        let lateCancelled: Int
        let bookedMs: Int64
    }

    private static func diaryWeeks(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                   _ tx: ScopedSQL) async throws -> [DiaryWeek] {
        try await tx.sql.raw("SELECT " + weekOf(period) + """
             AS week, practitioner_id, status, CAST(SUM(appointments) AS BIGINT) AS n, CAST(SUM(late_cancelled) AS BIGINT) AS late,
                   CAST(SUM(booked_ms) AS BIGINT) AS ms
            FROM appointment_days WHERE clinic_id = \(bind: scope.realm) AND day_ms >= \(bind: period.startMs) AND day_ms < \(bind: period.endMs)
            """ + narrowed(.bare, practitioner) + " GROUP BY 1, 2, 3").all().map { row in
                DiaryWeek(week: Int(try row.decode(column: "week", as: Int64.self)), practitioner: try row.decode(column: "practitioner_id", as: UUID.self),
                          status: AppointmentStatus(rawValue: try row.decode(column: "status", as: String.self)),
                          appointments: try row.decode(column: "n", as: Int.self), lateCancelled: try row.decode(column: "late", as: Int.self),
                          bookedMs: try row.decode(column: "ms", as: Int64.self))
            }
    }

    /// Adds one row of sums to `figures` (late cancellations only when `late`: the weeks show none).
    private static func count(_ row: DiaryWeek, into figures: inout AppointmentFigures, late: Bool) {
        figures.booked += row.appointments
        switch row.status {
        case .arrived, .completed: figures.attended += row.appointments
        case .cancelled:
            figures.cancelled += row.appointments
            if late { figures.lateCancelled += row.lateCancelled }
        case .noShow: figures.noShow += row.appointments
        case .booked, nil: break
        }
    }

    private static func appointments(_ diary: [DiaryWeek]) -> AppointmentFigures {
        var figures = AppointmentFigures()
        for row in diary { count(row, into: &figures, late: true) }
        return figures
    }

    /// The week of the period a day of the sums falls in, as SQL: whole weeks from the period's
    /// first day. A day is its local midnight, so across a change of daylight saving it sits an
    /// hour or so off a multiple of seven days from the first; half a day added before dividing
    /// absorbs that (any offset change under twelve hours), and the arithmetic costs far less
    /// than a CASE of every week's start per row (measured on W7).
    private static func weekOf(_ period: ReportPeriod) -> SQLQueryString {
        // Spaces around it: it is joined to the text before and after as it is.
        " ((day_ms - \(bind: period.startMs) + \(bind: Int64(43_200_000))) / \(bind: Int64(604_800_000))) "
    }

    private static func weeks(_ diary: [DiaryWeek], _ period: ReportPeriod) -> [Week] {
        var weeks = period.weekStarts.indices.map { Week(index: $0) }
        for row in diary where weeks.indices.contains(row.week) { count(row, into: &weeks[row.week].figures, late: false) }
        return weeks
    }

    /// Each practitioner's weekly hours: (practitioner, weekday, minutes).
    private static func workingHours(_ practitioner: UserID?, _ scope: ClinicScope,
                                     _ tx: ScopedSQL) async throws -> [(practitioner: UUID, weekday: WorkingPeriod.Weekday, minutes: Int)] {
        try await tx.sql.raw("""
            SELECT practitioner_id, weekday, start_minute, end_minute FROM working_hours WHERE clinic_id = \(bind: scope.realm)
            """ + narrowed(.bare, practitioner)).all().compactMap { row in
                guard let weekday = WorkingPeriod.Weekday(rawValue: try row.decode(column: "weekday", as: String.self)) else { return nil }
                return (try row.decode(column: "practitioner_id", as: UUID.self), weekday,
                        Int(try row.decode(column: "end_minute", as: Int64.self) - row.decode(column: "start_minute", as: Int64.self)))
            }
    }

    /// Booked minutes (every appointment but a cancelled one) against working minutes (the
    /// weekly hours times the period's days of each weekday), per practitioner with either.
    private static func utilisation(_ diary: [DiaryWeek], _ hours: [(practitioner: UUID, weekday: WorkingPeriod.Weekday, minutes: Int)],
                                    _ period: ReportPeriod) -> [Utilisation] {
        var bookedMs: [UUID: Int64] = [:], working: [UUID: Int] = [:]
        for row in diary where row.status != .cancelled && row.appointments != 0 { bookedMs[row.practitioner, default: 0] += row.bookedMs }
        var days: [WorkingPeriod.Weekday: Int] = [:]
        for weekday in period.weekdays { days[weekday, default: 0] += 1 }
        for entry in hours { working[entry.practitioner, default: 0] += entry.minutes * (days[entry.weekday] ?? 0) }
        return Set(bookedMs.keys).union(working.keys).sorted { $0.uuidString < $1.uuidString }.map {
            Utilisation(practitioner: UserID($0), bookedMinutes: Int((bookedMs[$0] ?? 0) / 60_000), workingMinutes: working[$0] ?? 0)
        }
    }

    /// The same as `utilisation`, summed over practitioners and cut into the weeks of `weeks`:
    /// booked minutes by the week an appointment starts in, working minutes by the weekdays of
    /// each week's days.
    private static func weeklyUtilisation(_ diary: [DiaryWeek], _ hours: [(practitioner: UUID, weekday: WorkingPeriod.Weekday, minutes: Int)],
                                          _ period: ReportPeriod) -> [(index: Int, bookedMinutes: Int, workingMinutes: Int)] {
        let weekdays = period.weekdays
        let count = (weekdays.count + 6) / 7
        var bookedMs = [Int64](repeating: 0, count: count), working = [Int](repeating: 0, count: count)
        for row in diary where row.status != .cancelled && bookedMs.indices.contains(row.week) { bookedMs[row.week] += row.bookedMs }
        var perWeekday: [WorkingPeriod.Weekday: Int] = [:]
        for entry in hours { perWeekday[entry.weekday, default: 0] += entry.minutes }
        for (day, weekday) in weekdays.enumerated() { working[day / 7] += perWeekday[weekday] ?? 0 }
        return (0..<count).map { (index: $0, bookedMinutes: Int(bookedMs[$0] / 60_000), workingMinutes: working[$0]) }
    }

    /// Seen: patients with an attended appointment in the period (with the practitioner, when
    /// narrowed); new: those whose first attended appointment at the clinic is in it. Read from
    /// `patient_visits`, one row per patient: a first or last visit inside the period is a visit
    /// in it, and first and last both before it (or after) is none; only a patient whose visits
    /// straddle the period is looked up in `appointments_attended`.
    private static func patients(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                 _ tx: ScopedSQL) async throws -> PatientCounts {
        let start = period.startMs, end = period.endMs
        let row = try await tx.sql.raw("""
            SELECT COUNT(*) AS seen, CAST(SUM(CASE WHEN c.first_ms >= \(bind: start) THEN 1 ELSE 0 END) AS BIGINT) AS new
            FROM patient_visits v JOIN patient_visits c ON c.clinic_id = v.clinic_id AND c.patient_id = v.patient_id
              AND c.practitioner_id = \(bind: DailyFigures.nobody)
            WHERE v.clinic_id = \(bind: scope.realm) AND v.practitioner_id = \(bind: practitioner?.rawValue ?? DailyFigures.nobody)
              AND v.first_ms < \(bind: end) AND v.last_ms >= \(bind: start)
              AND (v.first_ms >= \(bind: start) OR v.last_ms < \(bind: end) OR EXISTS (
                SELECT 1 FROM appointments a WHERE a.clinic_id = \(bind: scope.realm) AND a.patient_id = v.patient_id AND a.status IN (\(binds: attended))
                  AND a.starts_at_ms >= \(bind: start) AND a.starts_at_ms < \(bind: end)
            """ + narrowed(.appointment, practitioner) + "))").first()
        let seen = try row?.decode(column: "seen", as: Int.self) ?? 0
        let new = try row?.decode(column: "new", as: Int?.self) ?? 0
        return PatientCounts(new: new, returning: seen - new, seen: seen)
    }

    /// Issued invoices (issued or paid; never drafts or voided ones) by the day they were issued;
    /// payments by the day they were received; what was still owed at the end of the period, by
    /// the age of the invoice then.
    private static func revenue(_ period: ReportPeriod, _ practitioner: UserID?, _ scope: ClinicScope,
                                _ tx: ScopedSQL) async throws -> Revenue {
        // One read of the money's sums, by week, practitioner and appointment type; the totals
        // and every breakdown are added up from its rows. A practitioner or type shows when an
        // invoice counts for it (a free visit shows at 0; an issued and voided one does not).
        struct MoneyWeek { let week: Int; let practitioner: UUID; let type: UUID; let invoices: Int; let invoiced: Int; let gst: Int; let collected: Int }
        let money = try await tx.sql.raw("SELECT " + weekOf(period) + """
             AS week, practitioner_id, type_id, CAST(SUM(invoices) AS BIGINT) AS invoices, CAST(SUM(invoiced_cents) AS BIGINT) AS invoiced,
                   CAST(SUM(gst_cents) AS BIGINT) AS gst, CAST(SUM(collected_cents) AS BIGINT) AS collected
            FROM revenue_days WHERE clinic_id = \(bind: scope.realm) AND day_ms >= \(bind: period.startMs) AND day_ms < \(bind: period.endMs)
            """ + narrowed(.bare, practitioner) + " GROUP BY 1, 2, 3").all().map { row in
                MoneyWeek(week: Int(try row.decode(column: "week", as: Int64.self)), practitioner: try row.decode(column: "practitioner_id", as: UUID.self),
                          type: try row.decode(column: "type_id", as: UUID.self), invoices: try row.decode(column: "invoices", as: Int.self),
                          invoiced: try row.decode(column: "invoiced", as: Int.self), gst: try row.decode(column: "gst", as: Int.self),
                          collected: try row.decode(column: "collected", as: Int.self))
            }
        func someone(_ id: UUID) -> UUID? { id == DailyFigures.nobody ? nil : id }
        // Invoices and cents per key, keeping the keys an invoice counts for, most invoiced first.
        func breakdown<Key: Hashable>(_ key: (MoneyWeek) -> Key, order: (Key) -> String) -> [(key: Key, cents: Int)] {
            var sums: [Key: (invoices: Int, cents: Int)] = [:]
            for row in money { sums[key(row), default: (0, 0)].invoices += row.invoices; sums[key(row), default: (0, 0)].cents += row.invoiced }
            return sums.filter { $0.value.invoices != 0 }.map { (key: $0.key, cents: $0.value.cents) }
                .sorted { ($1.cents, order($0.key)) < ($0.cents, order($1.key)) }
        }
        let byPractitioner = breakdown({ $0.practitioner }, order: \.uuidString).map {
            (practitioner: someone($0.key).map(UserID.init), cents: $0.cents)
        }
        struct WeekOf: Hashable { let week: Int; let practitioner: UUID }
        let byPractitionerWeekly = breakdown({ WeekOf(week: $0.week, practitioner: $0.practitioner) }, order: { "\($0.week) \($0.practitioner)" }).map {
            (index: $0.key.week, practitioner: someone($0.key.practitioner).map(UserID.init), cents: $0.cents)
        }
        let byType = breakdown({ $0.type }, order: \.uuidString).map { (type: someone($0.key).map(AppointmentTypeID.init), cents: $0.cents) }
        let byProduct = try await tx.sql.raw("""
            SELECT product_id, CAST(SUM(cents) AS BIGINT) AS cents FROM product_sales
            WHERE clinic_id = \(bind: scope.realm) AND issued_quarter_ms >= \(bind: period.startMs) AND issued_quarter_ms < \(bind: period.endMs)
            """ + narrowed(.bare, practitioner) + " GROUP BY product_id HAVING SUM(cents) <> 0 ORDER BY cents DESC, product_id").all().map { row in
                (product: ProductID(try row.decode(column: "product_id", as: UUID.self)), cents: try row.decode(column: "cents", as: Int.self))
            }
        var ages = OutstandingByAge()
        var outstanding = 0
        // Owed at the end of the period: issued by then, less what was paid by then (a January
        // report read in June still shows January's debts, at January's ages): what is owed now,
        // plus what was paid after the end. Only an issued invoice owes anything now (a paid one
        // is paid in full: `InvoiceStatus` makes it paid only when the balance is), and what a
        // paid one owed at the end is the payments after it. Both parts are summed in SQL by the
        // invoice's age in days at the end (a year of open invoices is a few hundred rows, not
        // thousands), and `OutstandingByAge` bands the days.
        let owedAtEnd: SQLQueryString = """
             FROM invoices i WHERE i.clinic_id = \(bind: scope.realm) AND i.status = 'issued' AND i.issued_at_ms < \(bind: period.endMs)
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
        return Revenue(invoicedCents: money.reduce(0) { $0 + $1.invoiced }, collectedCents: money.reduce(0) { $0 + $1.collected },
                       gstCents: money.reduce(0) { $0 + $1.gst }, outstandingCents: outstanding,
                       byPractitioner: byPractitioner, byPractitionerWeekly: byPractitionerWeekly, byAppointmentType: byType, byProduct: byProduct, outstandingByAge: ages)
    }
}
