import ClinicDomain
import Foundation
import Testing

@Suite("Booking")
struct BookingTests {
    static let patient = "6f1c2d3e-0000-4000-8000-000000000001"
    static let practitioner = "6f1c2d3e-0000-4000-8000-000000000002"
    static let type = "6f1c2d3e-0000-4000-8000-000000000003"
    static let nineOClock = Date(timeIntervalSince1970: 1_893_488_400)  // 2030-01-01 09:00 UTC

    @Test("a booking as a client sends it is taken with its ids, start, length and trimmed reason")
    func taken() throws {
        let booking = try Booking(patientId: Self.patient, practitionerId: Self.practitioner, appointmentTypeId: Self.type,
                                  start: { Self.nineOClock }, durationMinutes: 45, reason: "  Sore back \n")
        #expect(booking.patient.description == Self.patient && booking.practitioner.description == Self.practitioner)
        #expect(booking.type.description == Self.type && booking.start == Self.nineOClock)
        #expect(booking.durationMinutes == 45 && booking.reason == "Sore back")
    }

    @Test("each bad part is refused naming its field, whether it came from the API or the booking form", arguments: [
        (nil, practitioner, type, 1_893_488_400, nil, nil, "patientId"),
        ("42", practitioner, type, 1_893_488_400, nil, nil, "patientId"),
        (patient, "", type, 1_893_488_400, nil, nil, "practitionerId"),
        (patient, practitioner, "x", 1_893_488_400, nil, nil, "appointmentTypeId"),
        (patient, practitioner, type, 915_148_800, nil, nil, "startsAt"),  // 1999
        (patient, practitioner, type, 4_133_980_800, nil, nil, "startsAt"),  // 2101
        (patient, practitioner, type, 1_893_488_400, 0, nil, "durationMinutes"),
        (patient, practitioner, type, 1_893_488_400, 100_000, nil, "durationMinutes"),
        (patient, practitioner, type, 1_893_488_400, nil, String(repeating: "a", count: 501), "reason"),
        (patient, practitioner, type, 1_893_488_400, nil, "line\u{1B}[2J", "reason"),
    ] as [(String?, String?, String?, TimeInterval, Int?, String?, String)])
    func refused(_ patient: String?, _ practitioner: String?, _ type: String?, _ start: TimeInterval, _ minutes: Int?,
                 _ reason: String?, _ field: String) {
        #expect {
            try Booking(patientId: patient, practitionerId: practitioner, appointmentTypeId: type,
                        start: { Date(timeIntervalSince1970: start) }, durationMinutes: minutes, reason: reason)
        } throws: { error in
            (error as? ClinicError)?.field == field && (error as? ClinicError)?.status == 400
        }
    }

    @Test("when several parts are wrong, the first in one fixed order is named: length, patient, practitioner, type, start, reason")
    func order() {
        struct Unreadable: Error {}
        #expect { try Booking(patientId: "x", practitionerId: "x", appointmentTypeId: "x", start: { throw Unreadable() }, durationMinutes: 0, reason: nil) }
            throws: { ($0 as? ClinicError)?.field == "durationMinutes" }
        #expect { try Booking(patientId: "x", practitionerId: "x", appointmentTypeId: "x", start: { throw Unreadable() }, durationMinutes: nil, reason: nil) }
            throws: { ($0 as? ClinicError)?.field == "patientId" }
        #expect { try Booking(patientId: Self.patient, practitionerId: Self.practitioner, appointmentTypeId: Self.type,
                              start: { throw Unreadable() }, durationMinutes: nil, reason: "\u{7}") } throws: { $0 is Unreadable }
    }
}
