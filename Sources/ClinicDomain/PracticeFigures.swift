import Foundation

/// The days a report covers, in the clinic's time zone: `from` inclusive, `to` exclusive.
public struct ReportPeriod: Sendable, Equatable {
    public let from: String
    public let to: String
    public let timeZone: ClinicTimeZone
    /// The same period as instants: milliseconds since 1970, start inclusive, end exclusive.
    public let startMs: Int64
    public let endMs: Int64

    public static let longest = 366

    public init(from: String?, to: String?, timeZone: ClinicTimeZone) throws(ClinicError) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone.zone
        func day(_ text: String?, _ field: String) throws(ClinicError) -> Date {
            let parts = (text ?? "").split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
                  let year = Int(parts[0]), let month = Int(parts[1]), let dayNumber = Int(parts[2]),
                  let date = calendar.date(from: DateComponents(year: year, month: month, day: dayNumber)),
                  calendar.component(.day, from: date) == dayNumber, calendar.component(.month, from: date) == month else {
                throw .invalid(field, "Give a day as YYYY-MM-DD.", code: text == nil ? "required" : "invalid")
            }
            return date
        }
        let start = try day(from, "from"), end = try day(to, "to")
        guard start < end else { throw .invalid("to", "Give a day after `from` (`to` is not included).") }
        guard let days = calendar.dateComponents([.day], from: start, to: end).day, days <= Self.longest else {
            throw .invalid("to", "A report covers at most \(Self.longest) days.")
        }
        self.from = from ?? ""
        self.to = to ?? ""
        self.timeZone = timeZone
        startMs = Int64((start.timeIntervalSince1970 * 1000).rounded())
        endMs = Int64((end.timeIntervalSince1970 * 1000).rounded())
    }

    /// The weekday of each day in the period, on the clinic's calendar: what working hours,
    /// which are weekly, are multiplied by.
    public var weekdays: [WorkingPeriod.Weekday] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone.zone
        var result: [WorkingPeriod.Weekday] = []
        var day = Date(timeIntervalSince1970: Double(startMs) / 1000)
        let end = Date(timeIntervalSince1970: Double(endMs) / 1000)
        while day < end {
            result.append(WorkingPeriod.Weekday(gregorian: calendar.component(.weekday, from: day)))
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { break }
            day = next
        }
        return result
    }

    /// Where each week of the period starts, as an instant: the period's first day and every
    /// seventh day after it, at midnight on the clinic's calendar (so a week that holds a
    /// daylight-saving change is 167 or 169 hours long, and no visit slips into its neighbour).
    public var weekStarts: [Int64] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone.zone
        let first = Date(timeIntervalSince1970: Double(startMs) / 1000)
        var starts: [Int64] = []
        for week in 0... {
            guard let start = calendar.date(byAdding: .day, value: 7 * week, to: first) else { break }
            let ms = Int64((start.timeIntervalSince1970 * 1000).rounded())
            guard ms < endMs else { break }
            starts.append(ms)
        }
        return starts
    }
}

/// The parts of the practice's figures, and who may see which (the permission matrix says who
/// may ask at all: `report.read`). Finance is the owner's and the bookkeeper's alone; a
/// practitioner sees their own activity and no money; the desk sees bookings and attendance.
public struct ReportSections: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let appointments = ReportSections(rawValue: 1)
    public static let utilisation = ReportSections(rawValue: 2)
    public static let patients = ReportSections(rawValue: 4)
    public static let revenue = ReportSections(rawValue: 8)
    /// Products running low: for whoever counts or sells stock.
    public static let stock = ReportSections(rawValue: 16)
    /// The formulas prescribed most: clinical, so for those who treat and those who run the clinic.
    public static let formulas = ReportSections(rawValue: 32)

    public static let all: ReportSections = [.appointments, .utilisation, .patients, .revenue, .stock, .formulas]

    /// What these roles see together, with what the clinic's owners allow beyond the standard.
    public static func visible(to roles: Set<Role>, allowing visibility: ReportVisibility = .standard) -> ReportSections {
        var sections: ReportSections = []
        if roles.contains(.owner) { sections.formUnion(.all) }
        if roles.contains(.admin) { sections.formUnion([.appointments, .utilisation, .patients, .stock, .formulas]) }
        if roles.contains(.admin), visibility.adminsSeeRevenue { sections.formUnion(.revenue) }
        if roles.contains(.practitioner) { sections.formUnion([.appointments, .utilisation, .patients, .formulas]) }
        // Their own: a practitioner's figures are always narrowed to them (`ownActivityOnly`).
        if roles.contains(.practitioner), visibility.practitionersSeeOwnRevenue { sections.formUnion(.revenue) }
        if roles.contains(.receptionist) { sections.formUnion([.appointments, .stock]) }
        if roles.contains(.bookkeeper) { sections.formUnion([.revenue, .stock]) }
        return sections
    }

    /// Whether money reaches these roles only through "practitioners see their own revenue":
    /// then it is their own invoices' whatever other roles they hold (an admin who also treats
    /// does not see colleagues' revenue unless admins may).
    public static func ownRevenueOnly(_ roles: Set<Role>, allowing visibility: ReportVisibility) -> Bool {
        let otherwise = roles.contains(.owner) || roles.contains(.bookkeeper) || (roles.contains(.admin) && visibility.adminsSeeRevenue)
        return !otherwise && roles.contains(.practitioner) && visibility.practitionersSeeOwnRevenue
    }

    /// Whether these roles see only their own activity: a practitioner who is not also an owner
    /// or an admin. Another role beside it (the desk, the books) adds parts, never colleagues:
    /// everything such a person sees is narrowed to themselves.
    public static func ownActivityOnly(_ roles: Set<Role>) -> Bool {
        roles.contains(.practitioner) && roles.isDisjoint(with: [.owner, .admin])
    }
}

/// What a clinic's owners allow beyond the standard parts: money is the owners' and the
/// bookkeepers' unless they open it to admins, or to each practitioner for their own invoices.
public struct ReportVisibility: Sendable, Equatable {
    public var practitionersSeeOwnRevenue: Bool
    public var adminsSeeRevenue: Bool

    public init(practitionersSeeOwnRevenue: Bool, adminsSeeRevenue: Bool) {
        self.practitionersSeeOwnRevenue = practitionersSeeOwnRevenue
        self.adminsSeeRevenue = adminsSeeRevenue
    }

    public static let standard = ReportVisibility(practitionersSeeOwnRevenue: false, adminsSeeRevenue: false)
}

/// How a clinic's appointments went in a period.
public struct AppointmentFigures: Sendable, Equatable {
    public var booked = 0, attended = 0, cancelled = 0, lateCancelled = 0, noShow = 0

    public init() {}

    /// No-shows among the appointments that were due to happen (attended or missed), 0 to 1.
    public var noShowRate: Double {
        let due = attended + noShow
        return due == 0 ? 0 : Double(noShow) / Double(due)
    }

    /// A cancellation this close to the start counts as late.
    public static let lateCancellationNotice: Int64 = 24 * 3600 * 1000
}

/// Unpaid invoices by how long ago they were issued, at the end of the period.
public struct OutstandingByAge: Sendable, Equatable {
    public var upTo30 = 0, upTo60 = 0, upTo90 = 0, over90 = 0

    public init() {}

    public mutating func add(cents: Int, ageDays: Int) {
        switch ageDays {
        case ..<31: upTo30 += cents
        case 31...60: upTo60 += cents
        case 61...90: upTo90 += cents
        default: over90 += cents
        }
    }
}
