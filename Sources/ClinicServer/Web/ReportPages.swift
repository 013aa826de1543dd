import ClinicDomain
import Foundation
import Vapor

/// `/clinics/{clinicId}/reports`: the practice's figures for a period, as tables and as charts
/// drawn on the server in SVG (no script; colours by class, since the CSP allows no inline
/// style). Each role sees the parts `ReportSections` gives it.
enum ReportPages {
    static func register(_ clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "reports", permission: (.report, .read), use: show)
        clinic.inClinic(.GET, "reports.csv", permission: (.report, .read), use: download)
        clinic.inClinic(.POST, "reports", "visibility", permission: (.clinicSettings, .update), use: saveVisibility)
    }

    struct VisibilityForm: Vapor.Content {
        var practitionersSeeOwnRevenue: String?
        var adminsSeeRevenue: String?
    }

    /// The owner's two switches, from the form at the foot of the page (an unticked box is absent).
    static func saveVisibility(_ request: Request, scope: ClinicScope) async throws -> Response {
        let form = try request.content.decode(VisibilityForm.self)
        _ = try await ReportSettings.update(scope: scope, services: request.services,
                                            practitionersSeeOwnRevenue: form.practitionersSeeOwnRevenue == "on",
                                            adminsSeeRevenue: form.adminsSeeRevenue == "on")
        return request.redirect(to: "/clinics/\(scope.clinic)/reports")
    }

    /// The period (default: the last four weeks and today) and the practitioner asked for.
    private static func asked(_ request: Request, _ scope: ClinicScope) throws -> (period: ReportPeriod, practitioner: UserID?) {
        let clock = PageClock(scope)
        let from = try request.queryText("from", maximum: 10).flatMap { $0.isEmpty ? nil : $0 }
            ?? clock.day(Date().addingTimeInterval(-27 * 86_400))
        let to = try request.queryText("to", maximum: 10).flatMap { $0.isEmpty ? nil : $0 }
            ?? clock.day(Date().addingTimeInterval(86_400))
        return (try ReportPeriod(from: from, to: to, timeZone: scope.timeZone), try request.queryID("practitionerId"))
    }

    /// `reports.csv?table=weeks|time-booked|invoiced|running-low&from=&to=&practitionerId=`: one
    /// table of the page as a CSV file; a table of a part this role does not see answers 404.
    static func download(_ request: Request, scope: ClinicScope) async throws -> Response {
        guard let table = try request.queryText("table", maximum: 20).flatMap(ReportCSV.Table.init(rawValue:)) else {
            throw ClinicError.invalid("table", "Name a table: " + ReportCSV.Table.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        let (period, practitioner) = try asked(request, scope)
        let names = try await StaffDirectory(scope: scope, services: request.services).practitioners()
        let figures = try await PracticeReport(scope: scope, services: request.services).figures(for: period, practitioner: practitioner)
        guard let rows = ReportCSV.rows(table, figures, clock: PageClock(scope), name: { id in names.first { $0.user == id }?.name ?? "Not named" })
        else { throw ClinicError.notFound }
        let response = Response(status: .ok, body: .init(string: try ReportCSV.text(rows)))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(name: .contentDisposition,
                                      value: "attachment; filename=\"\(table.rawValue)-\(period.from)-\(period.to).csv\"")
        return response
    }

    /// One bar of the weekly chart: stacked attended, no-show, cancelled, still booked.
    struct WeekBar: Encodable {
        let label: String
        let x: Int
        let attended, noShow, cancelled, booked: Int
        let attendedY, attendedHeight, noShowY, noShowHeight, cancelledY, cancelledHeight, bookedY, bookedHeight: Int
    }

    /// One week on the utilisation line: where its point is, and its figures for the table.
    struct SharePoint: Encodable {
        let label: String
        let x, y: Int
        let booked, working, share: String
    }

    struct MoneyBar: Encodable {
        let label: String
        let y: Int
        let width: Int
        let amount: String
    }

    /// One practitioner's part of a week's stacked money bar; `tone` picks its colour class.
    struct MoneySegment: Encodable {
        let label: String
        let y, height, tone: Int
        let amount: String
    }

    /// One week of invoicing, stacked by practitioner, with its row of the table beside it.
    struct MoneyWeek: Encodable {
        let label: String
        let x: Int
        let segments: [MoneySegment]
        /// In the order of `moneyKeys`, then the week's total.
        let cells: [String]
    }

    struct MoneyKey: Encodable { let label: String; let tone: Int }

    struct Content: Encodable {
        let from, to: String
        /// The period and practitioner, for the CSV links (`&table=` is added per table).
        let csvQuery: String
        let practitioners: [Choice]
        let appointments: KPIsAPI.Appointments?
        let noShowPercent: String?
        let weeks: [WeekBar]
        let utilisation: [Row]
        let sharePoints: [SharePoint]
        /// The points of the line, "x,y x,y …", for `<polyline points>`.
        let shareLine: String
        let patients: KPIsAPI.Patients?
        let money: Money?
        let moneyBars: [MoneyBar]
        let moneyWeeks: [MoneyWeek]
        let moneyKeys: [MoneyKey]
        let chartHeight: Int
        let chartWidth: Int
        let moneyChartHeight: Int
        let showStock: Bool
        let lowStock: [KPIsAPI.LowStock]
        /// For owners: the switches of what others see.
        let visibility: KPIsAPI.Visibility?
        let showFormulas: Bool
        let topFormulas: [KPIsAPI.TopFormula]
    }

    struct Row: Encodable { let name: String; let booked: String; let working: String; let share: String }
    struct Money: Encodable { let invoiced, collected, gst, outstanding, upTo30, upTo60, upTo90, over90: String }

    static let plot = 160, barWidth = 36, gap = 14, moneyWidth = 320

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        let clock = PageClock(scope)
        let (period, asked) = try asked(request, scope)
        let names = try await StaffDirectory(scope: scope, services: request.services).practitioners()
        let figures = try await PracticeReport(scope: scope, services: request.services).figures(for: period, practitioner: asked)
        let name = { (id: UserID?) in names.first { $0.user == id }?.name ?? "Not named" }

        let weeks = figures.weeks ?? [], weekStarts = period.weekStarts
        let tallest = max(1, weeks.map(\.figures.booked).max() ?? 1)
        let bars = weeks.map { week -> WeekBar in
            let f = week.figures
            let other = f.booked - f.attended - f.noShow - f.cancelled
            func height(_ n: Int) -> Int { n * plot / tallest }
            let h1 = height(f.attended), h2 = height(f.noShow), h3 = height(f.cancelled), h4 = height(other)
            let base = plot + 10
            let startDay = Date(timeIntervalSince1970: Double(weekStarts[week.index]) / 1000)
            return WeekBar(label: String(clock.day(startDay).dropFirst(5)), x: 40 + week.index * (barWidth + gap),
                           attended: f.attended, noShow: f.noShow, cancelled: f.cancelled, booked: other,
                           attendedY: base - h1, attendedHeight: h1, noShowY: base - h1 - h2, noShowHeight: h2,
                           cancelledY: base - h1 - h2 - h3, cancelledHeight: h3, bookedY: base - h1 - h2 - h3 - h4, bookedHeight: h4)
        }
        func money(_ cents: Int) -> String { PageFormat.money(cents) }
        let revenue = figures.revenue
        let richest = max(1, revenue?.byPractitioner.map(\.cents).max() ?? 1)
        let moneyBars = (revenue?.byPractitioner ?? []).enumerated().map { index, entry in
            MoneyBar(label: name(entry.practitioner), y: 10 + index * 30, width: entry.cents * moneyWidth / richest, amount: money(entry.cents))
        }
        let (moneyKeys, moneyWeeks) = stackedMoney(revenue, weekStarts: weekStarts, clock: clock, name: name)
        // Booked time as a share of working time, 0 to 100% up the plot (more than full is drawn full).
        let sharePoints = (figures.weeklyUtilisation ?? []).map { week -> SharePoint in
            let start = Date(timeIntervalSince1970: Double(weekStarts[week.index]) / 1000)
            let share = week.workingMinutes == 0 ? 0 : Double(week.bookedMinutes) / Double(week.workingMinutes)
            return SharePoint(label: String(clock.day(start).dropFirst(5)), x: 40 + week.index * (barWidth + gap) + barWidth / 2,
                              y: plot + 10 - Int((min(share, 1) * Double(plot)).rounded()),
                              booked: "\(week.bookedMinutes / 60) h \(week.bookedMinutes % 60) min", working: "\(week.workingMinutes / 60) h",
                              share: week.workingMinutes == 0 ? "–" : String(format: "%.0f%%", share * 100))
        }
        let csvQuery = "from=\(period.from)&to=\(period.to)" + (asked.map { "&practitionerId=\($0)" } ?? "")
        let content = Content(
            from: period.from, to: period.to, csvQuery: csvQuery,
            practitioners: names.map { Choice(value: $0.user.description, label: $0.name, selected: $0.user == asked) },
            appointments: figures.appointments.map {
                KPIsAPI.Appointments(booked: $0.booked, attended: $0.attended, cancelled: $0.cancelled, lateCancelled: $0.lateCancelled,
                                     noShow: $0.noShow, noShowRate: $0.noShowRate)
            },
            noShowPercent: figures.appointments.map { String(format: "%.0f%%", $0.noShowRate * 100) },
            weeks: bars,
            utilisation: (figures.utilisation ?? []).map {
                Row(name: name($0.practitioner), booked: "\($0.bookedMinutes / 60) h \($0.bookedMinutes % 60) min",
                    working: "\($0.workingMinutes / 60) h", share: $0.workingMinutes == 0 ? "–"
                        : String(format: "%.0f%%", Double($0.bookedMinutes) * 100 / Double($0.workingMinutes)))
            },
            sharePoints: sharePoints, shareLine: sharePoints.map { "\($0.x),\($0.y)" }.joined(separator: " "),
            patients: figures.patients.map { KPIsAPI.Patients(new: $0.new, returning: $0.returning, seen: $0.seen) },
            money: revenue.map {
                Money(invoiced: money($0.invoicedCents), collected: money($0.collectedCents), gst: money($0.gstCents),
                      outstanding: money($0.outstandingCents), upTo30: money($0.outstandingByAge.upTo30), upTo60: money($0.outstandingByAge.upTo60),
                      upTo90: money($0.outstandingByAge.upTo90), over90: money($0.outstandingByAge.over90))
            },
            moneyBars: moneyBars, moneyWeeks: moneyWeeks, moneyKeys: moneyKeys, chartHeight: plot + 40, chartWidth: 60 + max(bars.count, sharePoints.count, moneyWeeks.count) * (barWidth + gap), moneyChartHeight: 20 + moneyBars.count * 30,
            showStock: figures.lowStock != nil,
            lowStock: (figures.lowStock ?? []).map { KPIsAPI.LowStock(productId: $0.product.description, name: $0.name, stock: $0.stock) },
            visibility: scope.may(.clinicSettings, .update)
                ? KPIsAPI.Visibility(try await ReportSettings.read(scope: scope, services: request.services)) : nil,
            showFormulas: figures.topFormulas != nil,
            topFormulas: (figures.topFormulas ?? []).map { KPIsAPI.TopFormula(formulaId: $0.formula.description, name: $0.name, count: $0.count) })
        return try await request.render("reports", Layout("Reports", request: request, scope: scope), content)
    }

    /// Invoiced cents week by week and practitioner, practitioners in the order of
    /// `byPractitioner` (most invoiced first): the stacked bars' numbers and their table's.
    static func moneyByWeek(_ revenue: PracticeReport.Revenue, weeks: Int) -> (order: [UserID?], cents: [[Int]]) {
        let order = revenue.byPractitioner.map(\.practitioner)
        var cents = [[Int]](repeating: [Int](repeating: 0, count: order.count), count: weeks)
        for entry in revenue.byPractitionerWeekly {
            guard cents.indices.contains(entry.index), let who = order.firstIndex(where: { $0 == entry.practitioner }) else { continue }
            cents[entry.index][who] += entry.cents
        }
        return (order, cents)
    }

    /// Invoicing week by week as bars stacked by practitioner (most invoiced at the bottom, in the
    /// order of the key), scaled to the busiest week; six colours, taken in turn.
    static func stackedMoney(_ revenue: PracticeReport.Revenue?, weekStarts: [Int64], clock: PageClock,
                             name: (UserID?) -> String) -> ([MoneyKey], [MoneyWeek]) {
        guard let revenue, !revenue.byPractitioner.isEmpty else { return ([], []) }
        let (order, cents) = moneyByWeek(revenue, weeks: weekStarts.count)
        let keys = order.enumerated().map { MoneyKey(label: name($1), tone: $0 % 6) }
        let busiest = max(1, cents.map { $0.reduce(0, +) }.max() ?? 1)
        let weeks = cents.enumerated().map { index, row -> MoneyWeek in
            var top = plot + 10
            var segments: [MoneySegment] = []
            for (who, amount) in row.enumerated() where amount > 0 {
                let height = amount * plot / busiest
                top -= height
                segments.append(MoneySegment(label: keys[who].label, y: top, height: height, tone: keys[who].tone, amount: PageFormat.money(amount)))
            }
            let start = Date(timeIntervalSince1970: Double(weekStarts[index]) / 1000)
            return MoneyWeek(label: String(clock.day(start).dropFirst(5)), x: 40 + index * (barWidth + gap), segments: segments,
                             cells: row.map(PageFormat.money) + [PageFormat.money(row.reduce(0, +))])
        }
        return (keys, weeks)
    }
}
