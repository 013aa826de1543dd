import Foundation

/// A span of the clinic's day when no reminder goes out, "20:00" to "08:00"; it may run past
/// midnight. Start inclusive, end exclusive, in minutes of the clinic's wall clock.
public struct QuietHours: Sendable, Equatable {
    public let startMinute: Int
    public let endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    public static let standard = QuietHours(startMinute: 20 * 60, endMinute: 8 * 60)

    /// Whether `minute` (0..<1440) of the clinic's day is quiet. Equal ends: never quiet.
    public func contains(minute: Int) -> Bool {
        if startMinute == endMinute { return false }
        if startMinute < endMinute { return minute >= startMinute && minute < endMinute }
        return minute >= startMinute || minute < endMinute
    }

    /// Whether `instant` falls in quiet hours on the clinic's wall clock.
    public func contains(_ instant: Date, in zone: ClinicTimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone.zone
        let parts = calendar.dateComponents([.hour, .minute], from: instant)
        return contains(minute: (parts.hour ?? 0) * 60 + (parts.minute ?? 0))
    }

    public static func minute(parsing text: String?, field: String) throws(ClinicError) -> Int {
        let parts = (text ?? "").split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...23).contains(hour), (0...59).contains(minute) else {
            throw .invalid(field, "Give a time of day as HH:MM, such as 20:00.")
        }
        return hour * 60 + minute
    }

    public static func text(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60, minute % 60) }
}

/// How a clinic reaches its patients: when reminders go (hours before the appointment), when
/// they must not (quiet hours), on which channels, and under what sender name.
public struct CommunicationSettings: Sendable, Equatable {
    public var reminderLeadHours: [Int]
    public var quietHours: QuietHours
    public var channels: Set<MessageChannel>
    public var senderName: String?
    /// Appointment types whose name must never reach a patient's message. No message names a
    /// type today; the list is kept so that it stays true when one does.
    public var sensitiveAppointmentTypes: [AppointmentTypeID]

    public init(reminderLeadHours: [Int], quietHours: QuietHours, channels: Set<MessageChannel>, senderName: String?,
                sensitiveAppointmentTypes: [AppointmentTypeID]) {
        self.reminderLeadHours = reminderLeadHours
        self.quietHours = quietHours
        self.channels = channels
        self.senderName = senderName
        self.sensitiveAppointmentTypes = sensitiveAppointmentTypes
    }

    public static let standard = CommunicationSettings(reminderLeadHours: [24], quietHours: .standard, channels: [.email],
                                                       senderName: nil, sensitiveAppointmentTypes: [])
    public static let leadHours = 1...336

    public static func validatedLeadHours(_ hours: [Int]?) throws(ClinicError) -> [Int] {
        guard let hours else { throw .invalid("reminderLeadHours", "Give the hours before an appointment, such as [24, 2].", code: "required") }
        guard hours.count <= 3, hours.allSatisfy(leadHours.contains) else {
            throw .invalid("reminderLeadHours", "Give up to three lead times, each from \(leadHours.lowerBound) to \(leadHours.upperBound) hours.")
        }
        return Array(Set(hours)).sorted(by: >)
    }

    public static func validatedChannels(_ names: [String]?, field: String) throws(ClinicError) -> Set<MessageChannel> {
        guard let names else { throw .invalid(field, "Give a list of channels (it may be empty).", code: "required") }
        var channels: Set<MessageChannel> = []
        for name in names {
            guard let channel = MessageChannel(rawValue: name) else {
                throw .invalid(field, "Use any of: \(MessageChannel.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            channels.insert(channel)
        }
        return channels
    }

    /// A display name for the From header: short, one line, no angle brackets or quotes that
    /// would change what the header says.
    public static func validatedSenderName(_ text: String?) throws(ClinicError) -> String? {
        guard let text else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        guard trimmed.unicodeScalars.count <= 80,
              !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || "<>\"\\".unicodeScalars.contains($0) }) else {
            throw .invalid("senderName", "Use up to 80 characters, without line breaks, quotes or angle brackets.")
        }
        return trimmed
    }
}

/// When a booked appointment's reminder for one lead time is due, and whether it should go.
public enum ReminderDecision: Sendable, Equatable {
    /// Not yet: the appointment is further away than the lead time.
    case notYet
    /// Queue it now.
    case send
    /// Never for this lead time: the appointment has begun, or a confirmation went out within
    /// the last hour and says the same thing.
    case skip

    public static let recentConfirmation: TimeInterval = 3600

    public static func decide(start: Date, leadHours: Int, now: Date, lastConfirmation: Date?) -> ReminderDecision {
        guard start > now else { return .skip }
        guard start.timeIntervalSince(now) <= TimeInterval(leadHours) * 3600 else { return .notYet }
        if let lastConfirmation, now.timeIntervalSince(lastConfirmation) < recentConfirmation { return .skip }
        return .send
    }
}
