import Foundation

/// A calendar date of birth, written `YYYY-MM-DD`; never in the future, never before 1880.
public struct BirthDate: Hashable, Sendable, CustomStringConvertible {
    public let year: Int, month: Int, day: Int

    public init(parsing input: String, today: Date = Date()) throws(ClinicError) {
        let bad = ClinicError.invalid("birthDate", "Enter the date of birth as YYYY-MM-DD.")
        let parts = input.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]) else { throw bad }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components),
              calendar.dateComponents([.year, .month, .day], from: date) == DateComponents(year: year, month: month, day: day)
        else { throw bad }
        // A day of grace for time zones east of UTC.
        guard year >= 1880, date <= today.addingTimeInterval(86_400) else {
            throw ClinicError.invalid("birthDate", "The date of birth must be a past date after 1880.")
        }
        (self.year, self.month, self.day) = (year, month, day)
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }
}
