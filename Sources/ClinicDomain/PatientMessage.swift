import Foundation

/// How a message reaches a patient.
public enum MessageChannel: String, CaseIterable, Sendable, Codable {
    case email, sms, whatsapp
}

/// Every kind of message the server may send a patient. Nothing else can be sent to a patient:
/// a `PatientMessage` is only ever made by the builders below, each of which needs the thing
/// the message is about.
public enum PatientMessageKind: String, CaseIterable, Sendable, Codable {
    case confirmation, change, cancellation, reminder
    case portalCode = "portal-code"
    case portalInvitation = "portal-invitation"
    case formRequest = "form-request"
    case requestOutcome = "request-outcome"
    case securityNotice = "security-notice"
}

/// Where a message stands in delivery.
public enum MessageStatus: String, CaseIterable, Sendable, Codable {
    case queued, sent, failed
}

/// What a message about an appointment may say, and nothing more: the clinic, the practitioner
/// and the time. The booking's reason, its notes and its type are not here, so no message can
/// carry them (a type's name can be as telling as a diagnosis).
public struct AppointmentNotice: Sendable, Equatable {
    public let appointment: AppointmentID
    public let patient: PatientID
    public let clinicName: String
    public let practitionerName: String
    public let start: Date
    public let timeZone: ClinicTimeZone

    public init(appointment: AppointmentID, patient: PatientID, clinicName: String, practitionerName: String, start: Date,
                timeZone: ClinicTimeZone) {
        self.appointment = appointment
        self.patient = patient
        self.clinicName = Self.oneLine(clinicName)
        self.practitionerName = Self.oneLine(practitionerName)
        self.start = start
        self.timeZone = timeZone
    }

    /// Names go into subject lines and SMS: control characters (a CR/LF above all, which would
    /// start a new mail header) become spaces, and runs of space collapse.
    static func oneLine(_ text: String) -> String {
        let scalars = text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : Character($0) }
        return String(scalars).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// "Tuesday 8 December 2026 at 09:30", in the clinic's time zone.
    public var when: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone.zone
        formatter.dateFormat = "EEEE d MMMM yyyy 'at' HH:mm"
        return formatter.string(from: start)
    }
}

/// A message to one patient: its kind, what it is about, and its words. Built only from the
/// booking it belongs to; the initialiser is private to this file.
public struct PatientMessage: Sendable, Equatable {
    public let kind: PatientMessageKind
    public let patient: PatientID
    public let appointment: AppointmentID
    public let subject: String
    public let text: String
    /// The same for a text message (SMS, WhatsApp): one short paragraph.
    public let shortText: String

    private init(kind: PatientMessageKind, notice: AppointmentNotice, subject: String, lead: String) {
        self.kind = kind
        self.patient = notice.patient
        self.appointment = notice.appointment
        self.subject = subject
        self.shortText = "\(notice.clinicName): \(lead) \(notice.when) with \(notice.practitionerName). To change it, please contact the clinic."
        self.text = """
            \(lead)

            When: \(notice.when)
            With: \(notice.practitionerName)
            Where: \(notice.clinicName)

            To change or cancel it, please contact \(notice.clinicName).
            """
    }

    public static func confirmation(_ notice: AppointmentNotice) -> PatientMessage {
        PatientMessage(kind: .confirmation, notice: notice, subject: "Your appointment at \(notice.clinicName) is booked",
                       lead: "Your appointment is booked.")
    }

    public static func change(_ notice: AppointmentNotice) -> PatientMessage {
        PatientMessage(kind: .change, notice: notice, subject: "Your appointment at \(notice.clinicName) has changed",
                       lead: "Your appointment has moved. It is now:")
    }

    public static func cancellation(_ notice: AppointmentNotice) -> PatientMessage {
        PatientMessage(kind: .cancellation, notice: notice, subject: "Your appointment at \(notice.clinicName) is cancelled",
                       lead: "This appointment is cancelled:")
    }

    public static func reminder(_ notice: AppointmentNotice) -> PatientMessage {
        PatientMessage(kind: .reminder, notice: notice, subject: "Reminder: your appointment at \(notice.clinicName)",
                       lead: "A reminder of your appointment.")
    }
}
