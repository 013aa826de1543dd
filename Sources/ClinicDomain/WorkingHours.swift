import Foundation

/// One stretch of a practitioner's week: a weekday and the clinic-local times they work.
public struct WorkingPeriod: Sendable, Equatable {
    public enum Weekday: String, CaseIterable, Sendable {
        case monday, tuesday, wednesday, thursday, friday, saturday, sunday

        /// Foundation's Gregorian weekday: 1 is Sunday.
        public init(gregorian: Int) { self = Self.allCases[(gregorian + 5) % 7] }
    }

    public let weekday: Weekday
    /// Minutes after the clinic's local midnight.
    public let startMinute: Int
    public let endMinute: Int

    public init(weekday: Weekday, startMinute: Int, endMinute: Int) {
        self.weekday = weekday
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    public var starts: String { Self.clock(startMinute) }
    public var ends: String { Self.clock(endMinute) }

    static func clock(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60, minute % 60) }

    /// `HH:MM`, from 00:00 to 24:00.
    static func minute(_ text: String?, field: String) throws(ClinicError) -> Int {
        let parts = (text ?? "").split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCII) }),
              let hours = Int(parts[0]), let minutes = Int(parts[1]), (0...24).contains(hours), (0...59).contains(minutes),
              hours * 60 + minutes <= 24 * 60 else {
            throw .invalid(field, "Give a time of day as HH:MM, from 00:00 to 24:00.")
        }
        return hours * 60 + minutes
    }
}

/// A practitioner's working week in the clinic's time zone. A practitioner with no hours set is
/// bookable at any time (the clinic has not told us otherwise); one with hours is bookable only
/// for appointments that fit inside one period.
public struct WorkingWeek: Sendable, Equatable {
    public let periods: [WorkingPeriod]

    public init(periods: [WorkingPeriod]) { self.periods = periods }

    public struct Submission: Sendable, Codable {
        public var weekday, starts, ends: String?
        public init(weekday: String?, starts: String?, ends: String?) {
            self.weekday = weekday
            self.starts = starts
            self.ends = ends
        }
    }

    public static let maximumPeriods = 28

    /// Each period named, in order, ending after it starts, and no two overlapping on a day.
    public init(validating submitted: [Submission]) throws(ClinicError) {
        guard submitted.count <= Self.maximumPeriods else { throw .invalid("hours", "Give at most \(Self.maximumPeriods) periods.") }
        var periods: [WorkingPeriod] = []
        for (index, item) in submitted.enumerated() {
            let field = "hours[\(index)]"
            guard let name = item.weekday, let weekday = WorkingPeriod.Weekday(rawValue: name) else {
                throw .invalid(field + ".weekday", "Use one of: " + WorkingPeriod.Weekday.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            let start = try WorkingPeriod.minute(item.starts, field: field + ".starts")
            let end = try WorkingPeriod.minute(item.ends, field: field + ".ends")
            guard end > start else { throw .invalid(field + ".ends", "End the period after it starts.") }
            let period = WorkingPeriod(weekday: weekday, startMinute: start, endMinute: end)
            if periods.contains(where: { $0.weekday == weekday && $0.startMinute < end && start < $0.endMinute }) {
                throw .invalid(field, "This period overlaps another on the same day.")
            }
            periods.append(period)
        }
        self.periods = periods.sorted {
            ($0.weekday.index, $0.startMinute) < ($1.weekday.index, $1.startMinute)
        }
    }

    /// Whether `start..<end` lies inside one period, read on the clinic's wall clock. An
    /// appointment that crosses local midnight never fits.
    public func admits(start: Date, end: Date, in zone: TimeZone) -> Bool {
        guard !periods.isEmpty else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let day = calendar.startOfDay(for: start)
        let weekday = WorkingPeriod.Weekday(gregorian: calendar.component(.weekday, from: start))
        // Minutes on the wall clock, so a day with a daylight-saving change still reads 09:00 as 540.
        func wallMinute(_ date: Date) -> Double {
            let parts = calendar.dateComponents([.hour, .minute, .second], from: date)
            return Double((parts.hour ?? 0) * 60 + (parts.minute ?? 0)) + Double(parts.second ?? 0) / 60
        }
        let from = wallMinute(start)
        let to: Double
        if calendar.startOfDay(for: end) == day {
            to = wallMinute(end)
        } else if calendar.startOfDay(for: end) == calendar.date(byAdding: .day, value: 1, to: day), wallMinute(end) == 0 {
            to = 24 * 60
        } else {
            return false
        }
        // On the night the clocks go back the wall clock can end before it starts: no such slot fits.
        guard from < to else { return false }
        return periods.contains { $0.weekday == weekday && Double($0.startMinute) <= from && to <= Double($0.endMinute) }
    }
}

extension WorkingPeriod.Weekday {
    public var index: Int { Self.allCases.firstIndex(of: self)! }
}

/// The time zone a clinic's wall clock keeps: an IANA name such as `Australia/Sydney`. Working
/// hours are read in it; a clinic that has not set one keeps UTC.
public struct ClinicTimeZone: Sendable, Equatable {
    public let identifier: String

    public init(parsing text: String?, field: String = "timeZone") throws(ClinicError) {
        let name = (text ?? "").trimmingCharacters(in: .whitespaces)
        guard name == "UTC" || TimeZone.knownTimeZoneIdentifiers.contains(name), TimeZone(identifier: name) != nil else {
            throw .invalid(field, "Give an IANA time zone name, such as Australia/Sydney or UTC.")
        }
        identifier = name
    }

    /// A name read back from storage; one the platform no longer knows reads as UTC.
    public init(storedIdentifier: String) { identifier = storedIdentifier }

    public var zone: TimeZone { TimeZone(identifier: identifier) ?? TimeZone(identifier: "UTC")! }

    public static let utc = ClinicTimeZone(storedIdentifier: "UTC")
}
