import ClinicDomain
import Foundation
import Testing

@Suite("Patient message words")
struct PatientMessageTextTests {
    private func notice(clinic: String = "Harbour Clinic", practitioner: String = "Dr Ada Lane") -> AppointmentNotice {
        AppointmentNotice(appointment: AppointmentID.random(), patient: PatientID.random(), clinicName: clinic, practitionerName: practitioner,
                          start: Date(timeIntervalSince1970: 1_922_337_600), // 2030-12-01T06:40:00Z
                          timeZone: try! ClinicTimeZone(parsing: "Australia/Sydney"))
    }

    @Test("the time is the clinic's wall clock")
    func clinicWallClock() {
        let message = PatientMessage.confirmation(notice())
        #expect(message.text.contains("Sunday 1 December 2030 at 17:40"), "\(message.text)")
        #expect(message.text.contains("Dr Ada Lane") && message.subject.contains("Harbour Clinic"))
    }

    @Test("a line break in a name cannot start a new mail header")
    func namesStayOnOneLine() {
        let message = PatientMessage.change(notice(clinic: "Harbour\r\nBcc: everyone@example.org", practitioner: "Dr\nX"))
        #expect(!message.subject.contains("\r") && !message.subject.contains("\n"))
        #expect(message.subject.contains("Harbour Bcc: everyone@example.org"))
        #expect(message.text.contains("With: Dr X"))
    }

    @Test("each builder makes its own kind, about the booking it was given")
    func kindsFollowTheBuilder() {
        let about = notice()
        #expect(PatientMessage.confirmation(about).kind == .confirmation)
        #expect(PatientMessage.change(about).kind == .change)
        #expect(PatientMessage.cancellation(about).kind == .cancellation)
        #expect(PatientMessage.reminder(about).kind == .reminder)
        #expect(PatientMessage.cancellation(about).appointment == about.appointment)
        #expect(PatientMessage.cancellation(about).patient == about.patient)
    }
}
