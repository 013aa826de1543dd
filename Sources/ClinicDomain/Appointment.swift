import Foundation

/// Where an appointment is in its day. The allowed moves are written out once, here.
public enum AppointmentStatus: String, CaseIterable, Sendable, Codable {
    case booked, arrived, completed, cancelled
    case noShow = "no_show"

    /// The statuses this one may become.
    public var next: Set<AppointmentStatus> {
        switch self {
        case .booked: return [.arrived, .completed, .cancelled, .noShow]
        case .arrived: return [.completed, .noShow]
        case .completed, .cancelled, .noShow: return []
        }
    }

    /// Whether the appointment still holds its practitioner's time: only a cancellation frees it.
    public var holdsTime: Bool { self != .cancelled }

    /// Whether the patient came: what the figures count as a visit (seen, new, attended).
    public var attended: Bool { self == .arrived || self == .completed }

    /// Only a booking that has not started can be moved to another time or practitioner.
    public var canMove: Bool { self == .booked }

    public func checkedMove(to status: AppointmentStatus) throws(ClinicError) -> AppointmentStatus {
        guard next.contains(status) else {
            throw .conflict("invalid_transition", "An appointment that is \(rawValue) cannot become \(status.rawValue).", field: "status")
        }
        return status
    }

    public static func parse(_ text: String?, field: String = "status") throws(ClinicError) -> AppointmentStatus {
        guard let text, let status = AppointmentStatus(rawValue: text) else {
            throw .invalid(field, "Use one of: \(allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return status
    }
}

/// A booking as asked for: who, with whom, what and when. The API and the booking form both build
/// it with `init(patientId:…)`, so a booking is checked the same way whichever way it came.
public struct Booking: Sendable {
    public let patient: PatientID
    public let practitioner: UserID
    public let type: AppointmentTypeID
    public let start: Date
    /// Overrides the type's length when given.
    public let durationMinutes: Int?
    public let reason: String?

    public init(patient: PatientID, practitioner: UserID, type: AppointmentTypeID, start: Date, durationMinutes: Int?, reason: String?) {
        self.patient = patient
        self.practitioner = practitioner
        self.type = type
        self.start = start
        self.durationMinutes = durationMinutes
        self.reason = reason
    }

    /// What a client sent, checked: the ids in UUID form, a start in the years a diary can mean,
    /// a length the clinic can book, the reason as clinical text. Each refusal names its field,
    /// in this order whichever way the booking came. `start` reads the time as its caller writes
    /// times (ISO 8601 in the API, the clinic's local time on the booking form).
    public init(patientId: String?, practitionerId: String?, appointmentTypeId: String?, start: () throws -> Date, durationMinutes: Int?,
                reason: String?) throws {
        if let durationMinutes, !AppointmentKind.durations.contains(durationMinutes) {
            throw ClinicError.invalid("durationMinutes", "Give from \(AppointmentKind.durations.lowerBound) to \(AppointmentKind.durations.upperBound) minutes.")
        }
        let patient = try PatientID.required(patientId, field: "patientId")
        let practitioner = try UserID.required(practitionerId, field: "practitionerId")
        let type = try AppointmentTypeID.required(appointmentTypeId, field: "appointmentTypeId")
        let start = try DiaryTime.checked(try start(), field: "startsAt")
        self.init(patient: patient, practitioner: practitioner, type: type, start: start, durationMinutes: durationMinutes,
                  reason: try ClinicalText.optional(reason, field: "reason", maximum: 500))
    }
}

/// The instants a diary can mean: the years 2000 to 2100. Anything outside is a typing slip.
public enum DiaryTime {
    public static let seconds: ClosedRange<TimeInterval> = 946_684_800...4_102_444_800

    public static func checked(_ date: Date, field: String) throws(ClinicError) -> Date {
        guard seconds.contains(date.timeIntervalSince1970) else { throw .invalid(field, "Give a time between the years 2000 and 2100.") }
        return date
    }
}

/// A span of a practitioner's time, start inclusive, end exclusive, in milliseconds since 1970.
public struct TimeSlot: Sendable, Equatable {
    public let start: Int64
    public let end: Int64

    public init(start: Int64, end: Int64) {
        self.start = start
        self.end = end
    }

    /// Back-to-back slots (one ends as the next starts) do not overlap.
    public func overlaps(_ other: TimeSlot) -> Bool { start < other.end && other.start < end }

    public var minutes: Int { Int((end - start) / 60_000) }
}

/// A kind of appointment the clinic offers: a name and how long it takes.
public struct AppointmentKind: Sendable, Equatable {
    public var name: String
    public var durationMinutes: Int
    /// The price in cents, used when invoicing; `nil` when the clinic has not set one.
    public var priceCents: Int?

    public static let durations = 5...480

    public init(name: String, durationMinutes: Int, priceCents: Int? = nil) {
        self.name = name
        self.durationMinutes = durationMinutes
        self.priceCents = priceCents
    }

    /// Checks a submitted kind.
    public static func validated(name: String?, durationMinutes: Int?, priceCents: Int?) throws(ClinicError) -> AppointmentKind {
        let name = try ClinicalText.required(name, field: "name", maximum: 100)
        guard let durationMinutes else { throw .invalid("durationMinutes", "Give the length in minutes.", code: "required") }
        guard durations.contains(durationMinutes), durationMinutes % 5 == 0 else {
            throw .invalid("durationMinutes", "Use a multiple of 5 minutes from \(durations.lowerBound) to \(durations.upperBound).")
        }
        if let priceCents, !(0...10_000_000).contains(priceCents) {
            throw .invalid("priceCents", "Give a price in cents from 0 to 10000000.")
        }
        return AppointmentKind(name: name, durationMinutes: durationMinutes, priceCents: priceCents)
    }
}

/// Free text on clinical and scheduling records: trimmed, bounded, no control characters but
/// line breaks and tabs (which notes need), so no stored value can forge a log line or a CSV row.
public enum ClinicalText {
    public static func optional(_ value: String?, field: String, maximum: Int) throws(ClinicError) -> String? {
        guard let value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        guard trimmed.unicodeScalars.count <= maximum else { throw .invalid(field, "Use at most \(maximum) characters.") }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" && $0 != "\r" }) else {
            throw .invalid(field, "Remove the control characters from this field.")
        }
        return trimmed
    }

    public static func required(_ value: String?, field: String, maximum: Int) throws(ClinicError) -> String {
        guard let text = try optional(value, field: field, maximum: maximum) else {
            throw .invalid(field, "This field is required.", code: "required")
        }
        return text
    }
}
