import ClinicDomain
import Foundation
import Testing

@Suite("Communication settings")
struct CommunicationSettingsTests {
    @Test("quiet hours may run past midnight; equal ends are never quiet")
    func quietHours() {
        let night = QuietHours(startMinute: 20 * 60, endMinute: 8 * 60)
        #expect(night.contains(minute: 22 * 60) && night.contains(minute: 7 * 60 + 59) && night.contains(minute: 20 * 60))
        #expect(!night.contains(minute: 8 * 60) && !night.contains(minute: 12 * 60))
        let lunch = QuietHours(startMinute: 12 * 60, endMinute: 13 * 60)
        #expect(lunch.contains(minute: 12 * 60 + 30) && !lunch.contains(minute: 13 * 60))
        #expect(!QuietHours(startMinute: 0, endMinute: 0).contains(minute: 0))
    }

    @Test("quiet hours are read on the clinic's wall clock")
    func quietHoursInTheClinicsZone() throws {
        let sydney = try ClinicTimeZone(parsing: "Australia/Sydney")
        let tenPastMidnightUTC = Date(timeIntervalSince1970: 1_922_314_200) // 2030-12-01T00:10Z = 11:10 in Sydney
        #expect(!QuietHours.standard.contains(tenPastMidnightUTC, in: sydney))
        #expect(QuietHours.standard.contains(tenPastMidnightUTC, in: .utc))
    }

    @Test("a reminder is due within its lead time, never after the start, never on the heels of a confirmation")
    func reminderDecision() {
        let start = Date(timeIntervalSince1970: 2_000_000_000)
        #expect(ReminderDecision.decide(start: start, leadHours: 24, now: start.addingTimeInterval(-25 * 3600), lastConfirmation: nil) == .notYet)
        #expect(ReminderDecision.decide(start: start, leadHours: 24, now: start.addingTimeInterval(-23 * 3600), lastConfirmation: nil) == .send)
        #expect(ReminderDecision.decide(start: start, leadHours: 24, now: start.addingTimeInterval(60), lastConfirmation: nil) == .skip)
        let now = start.addingTimeInterval(-5 * 3600)
        #expect(ReminderDecision.decide(start: start, leadHours: 24, now: now, lastConfirmation: now.addingTimeInterval(-600)) == .skip)
        #expect(ReminderDecision.decide(start: start, leadHours: 24, now: now, lastConfirmation: now.addingTimeInterval(-7200)) == .send)
    }

    @Test("lead times, channels and sender names are checked")
    func validation() throws {
        #expect(try CommunicationSettings.validatedLeadHours([2, 24, 24]) == [24, 2])
        #expect(throws: ClinicError.self) { try CommunicationSettings.validatedLeadHours([0]) }
        #expect(throws: ClinicError.self) { try CommunicationSettings.validatedLeadHours([1, 2, 3, 4]) }
        #expect(throws: ClinicError.self) { try CommunicationSettings.validatedChannels(["pigeon"], field: "channels") }
        #expect(try CommunicationSettings.validatedChannels([], field: "channels").isEmpty)
        #expect(throws: ClinicError.self) { try CommunicationSettings.validatedSenderName("Clinic\r\nBcc: x@example.org") }
        #expect(throws: ClinicError.self) { try CommunicationSettings.validatedSenderName("Clinic <x@example.org>") }
        #expect(try CommunicationSettings.validatedSenderName("  Harbour Clinic ") == "Harbour Clinic")
        #expect(throws: ClinicError.self) { try QuietHours.minute(parsing: "24:00", field: "start") }
        #expect(try QuietHours.minute(parsing: "07:30", field: "start") == 450)
    }
}

@Suite("Report periods")
struct ReportPeriodTests {
    @Test("a period is days on the clinic's calendar, across a change of the clocks")
    func acrossDaylightSaving() throws {
        // Sydney leaves daylight saving on Sunday 6 April 2031: that day has 25 hours.
        let period = try ReportPeriod(from: "2031-04-05", to: "2031-04-08", timeZone: try ClinicTimeZone(parsing: "Australia/Sydney"))
        #expect(period.endMs - period.startMs == (3 * 24 + 1) * 3_600_000)
        #expect(period.weekdays == [.saturday, .sunday, .monday])
        #expect(period.startMs == 1_933_074_000_000) // 2031-04-04T13:00Z, midnight in Sydney (UTC+11)
    }

    @Test("bad days, a backwards period and more than 366 days are refused")
    func refused() {
        #expect(throws: ClinicError.self) { try ReportPeriod(from: nil, to: "2031-01-01", timeZone: .utc) }
        #expect(throws: ClinicError.self) { try ReportPeriod(from: "2031-02-29", to: "2031-03-01", timeZone: .utc) }
        #expect(throws: ClinicError.self) { try ReportPeriod(from: "2031-03-02", to: "2031-03-01", timeZone: .utc) }
        #expect(throws: ClinicError.self) { try ReportPeriod(from: "2030-01-01", to: "2031-01-03", timeZone: .utc) }
        #expect(throws: ClinicError.self) { try ReportPeriod(from: "31-01-01", to: "2031-01-03", timeZone: .utc) }
    }

    @Test("finance is the owner's and the bookkeeper's; a practitioner alone sees only their own")
    func sectionsByRole() {
        #expect(ReportSections.visible(to: [.owner]) == .all)
        #expect(!ReportSections.visible(to: [.admin, .practitioner, .receptionist]).contains(.revenue))
        #expect(ReportSections.visible(to: [.bookkeeper]) == [.revenue, .stock])
        #expect(!ReportSections.visible(to: [.practitioner]).contains(.stock))
        #expect(ReportSections.ownActivityOnly([.practitioner]))
        #expect(!ReportSections.ownActivityOnly([.practitioner, .owner]))
        #expect(ReportSections.ownActivityOnly([.practitioner, .receptionist]), "another role adds parts, never colleagues")
        #expect(ReportSections.ownActivityOnly([.practitioner, .bookkeeper]))
    }
}
