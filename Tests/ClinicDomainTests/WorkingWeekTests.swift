import ClinicDomain
import Foundation
import Testing

@Suite("Working weeks")
struct WorkingWeekTests {
    static let mondays = try! WorkingWeek(validating: [.init(weekday: "monday", starts: "09:00", ends: "12:30"),
                                                       .init(weekday: "monday", starts: "13:30", ends: "17:00")])

    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    @Test("a slot fits when it lies inside one period on the clinic's wall clock, not across the lunch break")
    func fitsInsideOnePeriod() {
        let utc = TimeZone(identifier: "UTC")!
        // 2031-03-03 is a Monday.
        #expect(Self.mondays.admits(start: Self.date("2031-03-03T09:00:00Z"), end: Self.date("2031-03-03T09:30:00Z"), in: utc))
        #expect(Self.mondays.admits(start: Self.date("2031-03-03T12:00:00Z"), end: Self.date("2031-03-03T12:30:00Z"), in: utc))
        #expect(!Self.mondays.admits(start: Self.date("2031-03-03T12:00:00Z"), end: Self.date("2031-03-03T13:45:00Z"), in: utc))
        #expect(!Self.mondays.admits(start: Self.date("2031-03-03T08:45:00Z"), end: Self.date("2031-03-03T09:15:00Z"), in: utc))
        #expect(!Self.mondays.admits(start: Self.date("2031-03-04T09:00:00Z"), end: Self.date("2031-03-04T09:30:00Z"), in: utc))
        #expect(WorkingWeek(periods: []).admits(start: Self.date("2031-03-04T03:00:00Z"), end: Self.date("2031-03-04T04:00:00Z"), in: utc))
    }

    @Test("hours are read in the clinic's time zone, daylight saving included")
    func readInTheClinicsZone() {
        let sydney = TimeZone(identifier: "Australia/Sydney")!
        // Monday 09:00 in Sydney is Sunday 22:00 UTC in March (daylight saving, +11) and 23:00 UTC in June (+10).
        #expect(Self.mondays.admits(start: Self.date("2031-03-02T22:00:00Z"), end: Self.date("2031-03-02T22:30:00Z"), in: sydney))
        #expect(!Self.mondays.admits(start: Self.date("2031-06-01T22:00:00Z"), end: Self.date("2031-06-01T22:30:00Z"), in: sydney))
        #expect(Self.mondays.admits(start: Self.date("2031-06-01T23:00:00Z"), end: Self.date("2031-06-01T23:30:00Z"), in: sydney))
    }

    @Test("on the night the clocks go back, a slot that starts after the period ends does not fit though its wall-clock end is inside")
    func clocksGoBack() throws {
        let early = try WorkingWeek(validating: [.init(weekday: "sunday", starts: "00:00", ends: "02:30")])
        let sydney = TimeZone(identifier: "Australia/Sydney")!
        // 2031-04-06 02:50 AEDT to 02:20 AEST: thirty minutes that end "before" they start.
        #expect(!early.admits(start: Self.date("2031-04-05T15:50:00Z"), end: Self.date("2031-04-05T16:20:00Z"), in: sydney))
        #expect(early.admits(start: Self.date("2031-04-05T14:00:00Z"), end: Self.date("2031-04-05T14:30:00Z"), in: sydney))
    }

    @Test("a period ending at 24:00 takes an appointment up to midnight; none crosses it")
    func midnight() throws {
        let late = try WorkingWeek(validating: [.init(weekday: "friday", starts: "20:00", ends: "24:00"),
                                                .init(weekday: "saturday", starts: "00:00", ends: "02:00")])
        let utc = TimeZone(identifier: "UTC")!
        #expect(late.admits(start: Self.date("2031-03-07T23:30:00Z"), end: Self.date("2031-03-08T00:00:00Z"), in: utc))
        #expect(!late.admits(start: Self.date("2031-03-07T23:30:00Z"), end: Self.date("2031-03-08T00:30:00Z"), in: utc))
    }

    @Test("bad periods are refused and named: weekday, times, order, overlaps")
    func badPeriods() {
        let bad: [(WorkingWeek.Submission, String)] = [
            (.init(weekday: "funday", starts: "09:00", ends: "10:00"), "hours[1].weekday"),
            (.init(weekday: "monday", starts: "9:00", ends: "10:00"), "hours[1].starts"),
            (.init(weekday: "monday", starts: "09:00", ends: "24:01"), "hours[1].ends"),
            (.init(weekday: "monday", starts: "10:00", ends: "10:00"), "hours[1].ends"),
            (.init(weekday: "monday", starts: "07:00", ends: "08:30"), "hours[1]"),
        ]
        for (period, field) in bad {
            do {
                _ = try WorkingWeek(validating: [.init(weekday: "monday", starts: "08:00", ends: "09:00"), period])
                Issue.record("accepted \(period)")
            } catch {
                #expect(error.field == field, "\(period)")
            }
        }
    }
}
