import AuditLedger
import Foundation
import Testing

@Suite("Patients an event touched")
struct PatientsTouchedTests {
    let clinic = UUID()
    let first = UUID()
    let second = UUID()

    func event(_ action: String, type: String?, resource: UUID?, detail: String?) -> AuditEvent {
        AuditEvent(chain: clinic, actor: UUID(), action: action, resourceType: type, resource: resource, outcome: .success, detail: detail)
    }

    @Test("a patient read names that patient")
    func direct() {
        #expect(PatientsTouched.patients(in: event("patient.read", type: "patient", resource: first, detail: nil)) == [first])
    }

    @Test("a clinical record's event names its patient, not the record or an amendment")
    func clinicalRecord() {
        let record = UUID()
        let touched = PatientsTouched.patients(in: event("consultation.amend", type: "consultation", resource: record,
                                                         detail: "patient=\(first.uuidString.lowercased()) amendment=\(UUID().uuidString.lowercased())"))
        #expect(touched == [first])
    }

    @Test("a list names every patient it showed, in either form")
    func lists() {
        let ids = "\(first.uuidString.lowercased()),\(second.uuidString.lowercased())"
        #expect(PatientsTouched.patients(in: event("patient.search", type: "patient", resource: nil, detail: ids)) == [first, second])
        #expect(PatientsTouched.patients(in: event("appointment.list", type: "appointment", resource: nil, detail: "patients=" + ids)) == [first, second])
    }

    @Test("an appointment clash names no patient")
    func clashIsNotAPatient() {
        #expect(PatientsTouched.patients(in: event("appointment.book", type: "appointment", resource: UUID(),
                                                   detail: "slot-taken-by=\(UUID().uuidString.lowercased())")).isEmpty)
    }
}
