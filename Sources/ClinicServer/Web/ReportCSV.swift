import CSV
import ClinicDomain
import Foundation

/// The reports page's tables as CSV files for a spreadsheet: the same figures, in plain numbers
/// (minutes, dollars with two decimals), one file per table, RFC 4180 (CRLF, quoted where
/// needed) written by CSV.swift. A table of a part the role does not see does not exist.
enum ReportCSV {
    enum Table: String, CaseIterable, Sendable {
        case weeks
        case timeBooked = "time-booked"
        case timeByWeek = "time-by-week"
        case invoiced
        case invoicedByWeek = "invoiced-by-week"
        case runningLow = "running-low"
        case formulas
    }

    /// The header and rows of `table`, or nil when these figures do not hold that part.
    static func rows(_ table: Table, _ figures: PracticeReport.Figures, clock: PageClock,
                     name: (UserID?) -> String) -> [[String]]? {
        let weekStarts = figures.period.weekStarts
        switch table {
        case .weeks:
            guard let weeks = figures.weeks else { return nil }
            return [["Week from", "Booked", "Attended", "Did not come", "Cancelled"]] + weeks.map { week in
                let start = Date(timeIntervalSince1970: Double(weekStarts[week.index]) / 1000)
                let f = week.figures
                return [clock.day(start), "\(f.booked)", "\(f.attended)", "\(f.noShow)", "\(f.cancelled)"]
            }
        case .timeBooked:
            guard let utilisation = figures.utilisation else { return nil }
            return [["Practitioner", "Booked minutes", "Working minutes"]]
                + utilisation.map { [name($0.practitioner), "\($0.bookedMinutes)", "\($0.workingMinutes)"] }
        case .timeByWeek:
            guard let weekly = figures.weeklyUtilisation else { return nil }
            return [["Week from", "Booked minutes", "Working minutes"]] + weekly.map { week in
                let start = Date(timeIntervalSince1970: Double(weekStarts[week.index]) / 1000)
                return [clock.day(start), "\(week.bookedMinutes)", "\(week.workingMinutes)"]
            }
        case .invoiced:
            guard let revenue = figures.revenue else { return nil }
            return [["Practitioner", "Invoiced (dollars)"]] + revenue.byPractitioner.map { [name($0.practitioner), dollars($0.cents)] }
        case .invoicedByWeek:
            guard let revenue = figures.revenue else { return nil }
            let table = ReportPages.moneyByWeek(revenue, weeks: weekStarts.count)
            let header: [String] = ["Week from"] + table.order.map(name) + ["Total"]
            return [header] + table.cents.enumerated().map { index, row -> [String] in
                let start = Date(timeIntervalSince1970: Double(weekStarts[index]) / 1000)
                let amounts: [String] = (row + [row.reduce(0, +)]).map(dollars)
                return [clock.day(start)] + amounts
            }
        case .runningLow:
            guard let low = figures.lowStock else { return nil }
            return [["Product", "In stock"]] + low.map { [$0.name, "\($0.stock)"] }
        case .formulas:
            guard let top = figures.topFormulas else { return nil }
            return [["Formula", "Prescribed"]] + top.map { [$0.name, "\($0.count)"] }
        }
    }

    static func dollars(_ cents: Int) -> String { "\(cents / 100)." + String(format: "%02ld", cents % 100) }

    /// A name a spreadsheet would run as a formula (`=HYPERLINK(…)`, `+`, `-`, `@`, their
    /// full-width forms, a tab or a line break first) gets a leading apostrophe (and quotes), as OWASP's
    /// CSV-injection advice says; the figures are ours and never start so.
    static func cell(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, "=+-@\t\r\n＝＋－＠".unicodeScalars.contains(first) else { return text }
        // A plain signed number (a phone in E.164, a negative amount) is a value to a
        // spreadsheet, never a formula: kept as it is, so the file says what the API says.
        if text.wholeMatch(of: /[+-][0-9]+(\.[0-9]+)?/) != nil { return text }
        return "'" + text
    }

    static func text(_ rows: [[String]]) throws -> String {
        let stream = OutputStream(toMemory: ())
        let writer = try CSVWriter(stream: stream, newline: .crlf)
        for row in rows {
            // A neutralised cell is quoted as well as prefixed, as OWASP advises.
            let cells = row.map(cell)
            try writer.write(row: cells, quotedAtIndex: { cells[$0] != row[$0] })
        }
        writer.stream.close()
        let data = stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data ?? Data()
        return String(decoding: data, as: UTF8.self) + "\r\n"
    }
}
