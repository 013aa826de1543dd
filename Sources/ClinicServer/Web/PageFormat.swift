import ClinicDomain
import Foundation
import Vapor

/// How the pages show and read times: on the clinic's wall clock, in the time zone the clinic
/// set (UTC until it sets one), so the diary, the working hours and the day's boundaries agree.
struct PageClock {
    let zone: TimeZone

    init(_ scope: ClinicScope) { zone = scope.timeZone.zone }

    private func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = pattern
        return formatter
    }

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar
    }

    func time(_ date: Date) -> String { formatter("yyyy-MM-dd HH:mm").string(from: date) }
    func clock(_ milliseconds: Int64) -> String { formatter("HH:mm").string(from: Date(milliseconds: milliseconds)) }
    func day(_ date: Date) -> String { formatter("yyyy-MM-dd").string(from: date) }

    /// The local midnight starting the day named `YYYY-MM-DD`, or today when none is named.
    func startOfDay(_ text: String?) throws -> Date {
        guard let text, !text.isEmpty else { return calendar.startOfDay(for: Date()) }
        guard text.count == 10, let date = formatter("yyyy-MM-dd").date(from: text) else {
            throw ClinicError.invalid("date", "Give a date as YYYY-MM-DD.")
        }
        return calendar.startOfDay(for: date)
    }

    /// The local midnight `days` days after the one starting at `day`: a calendar day, which
    /// is 23 or 25 hours long when the clocks change.
    func day(after day: Date, days: Int = 1) -> Date {
        calendar.date(byAdding: .day, value: days, to: day) ?? day.addingTimeInterval(Double(days) * 86_400)
    }

    /// The local midnight starting the Monday of `day`'s week.
    func startOfWeek(_ day: Date) -> Date {
        var calendar = self.calendar
        calendar.firstWeekday = 2
        return calendar.dateInterval(of: .weekOfYear, for: day)?.start ?? day
    }

    /// Minutes after local midnight of the day starting at `day` (wall-clock minutes, as working
    /// hours are kept): 0 before it, 1440 after it.
    func minute(_ milliseconds: Int64, onDayStarting day: Date) -> Int {
        let date = Date(milliseconds: milliseconds)
        if date < day { return 0 }
        if date >= self.day(after: day) { return 24 * 60 }
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
    }

    /// The weekday of the day starting at `day`, as working hours name it.
    func workingWeekday(_ day: Date) -> WorkingPeriod.Weekday {
        WorkingPeriod.Weekday(gregorian: calendar.component(.weekday, from: day))
    }

    /// A weekday and date, as a week's column heads it: "Monday 2031-03-03".
    func weekday(_ date: Date) -> String { formatter("EEEE yyyy-MM-dd").string(from: date) }

    /// A `datetime-local` field (`2026-01-31T09:00`, no zone) read on the clinic's clock; a full
    /// ISO 8601 time with its zone is taken as it is.
    func instant(_ text: String?, field: String) throws -> Date {
        guard let text, text.count == 16 || text.count == 19, !text.hasSuffix("Z") else { return try BodyValue.time(text, field: field) }
        guard let date = formatter(text.count == 16 ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd'T'HH:mm:ss").date(from: text) else {
            throw ClinicError.invalid(field, "Give a date and time, such as 2026-01-31T09:00.")
        }
        return try BodyValue.time(Timestamp.string(date), field: field)
    }
}

/// What the clinic-day pages share besides times: names, money, who may see what.
enum PageFormat {
    static func patientName(_ record: PatientRecord) -> String { "\(record.details.familyName), \(record.details.givenName)" }

    /// A count as people say it: "No appointments", "1 appointment", "3 appointments".
    static func count(_ n: Int, _ singular: String, _ plural: String) -> String {
        n == 0 ? "No \(plural)" : n == 1 ? "1 \(singular)" : "\(n) \(plural)"
    }

    /// Cents as dollars: 13900 -> "$139.00".
    static func money(_ cents: Int) -> String { "$\(cents / 100)." + String(format: "%02ld", cents % 100) }

    /// Dollars as typed on a form ("33", "33.5", "$1,033.50") as cents; nil when it is not an
    /// amount. A comma only separates thousands: "1,5" is refused, never read as 15 dollars.
    static func cents(_ text: String?) -> Int? {
        guard var text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if text.hasPrefix("$") { text.removeFirst() }
        let whole = text.split(separator: ".", omittingEmptySubsequences: false)[0]
        let groups = whole.split(separator: ",", omittingEmptySubsequences: false)
        guard groups.count == 1 || ((1...3).contains(groups[0].count) && groups.dropFirst().allSatisfy { $0.count == 3 }) else { return nil }
        text = text.replacingOccurrences(of: ",", with: "")
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              !parts[0].isEmpty, parts[0].count <= 7, let dollars = Int(parts[0]) else { return nil }
        guard parts.count == 2 else { return dollars * 100 }
        guard (1...2).contains(parts[1].count), let fraction = Int(parts[1]) else { return nil }
        return dollars * 100 + (parts[1].count == 1 ? fraction * 10 : fraction)
    }
}

extension ClinicError {
    /// Mistakes the person can correct on the same form; the rest get an error page.
    var belongsOnForm: Bool { status == 400 || status == 409 }
    var pageStatus: HTTPResponseStatus { HTTPResponseStatus(statusCode: status) }
}

/// One choice in a `<select>`.
struct Choice: Encodable {
    let value: String
    let label: String
    let selected: Bool
}

/// A SOAP note as a page shows it: only the parts that were written, each with its heading.
struct NoteView: Encodable {
    struct Part: Encodable { let label: String; let text: String }
    let parts: [Part]

    init(_ note: ConsultationNote) {
        let labels = ["subjective": "Subjective", "objective": "Objective", "assessment": "Assessment", "plan": "Plan"]
        parts = ConsultationNote.parts.compactMap { name in note[name].map { Part(label: labels[name] ?? name, text: $0) } }
    }
}
