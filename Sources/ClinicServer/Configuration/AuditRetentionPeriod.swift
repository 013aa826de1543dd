import Foundation

/// How long the audit ledger keeps an event: whole years or days, never under twelve months
/// (the shortest retention the clinic products promise; the default is seven years).
public enum AuditRetentionPeriod: Sendable, Equatable, CustomStringConvertible {
    case years(Int)
    case days(Int)

    /// "7y" or "400d".
    init(parsing text: String) throws {
        let refusal = SettingsError("CLINICKEEP_AUDIT_RETENTION must be whole years or days of at least twelve months, such as 7y or 400d (1y to 100y)")
        guard let unit = text.last, let number = Int(text.dropLast()) else { throw refusal }
        switch unit {
        case "y" where (1...100).contains(number): self = .years(number)
        case "d" where (366...36_500).contains(number): self = .days(number)
        default: throw refusal
        }
    }

    /// Events that occurred before this moment are past retention.
    func boundary(before now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        switch self {
        case .years(let years): return calendar.date(byAdding: .year, value: -years, to: now)!
        case .days(let days): return calendar.date(byAdding: .day, value: -days, to: now)!
        }
    }

    public var description: String {
        switch self {
        case .years(let years): "\(years)y"
        case .days(let days): "\(days)d"
        }
    }
}
