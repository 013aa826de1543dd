import ClinicDomain
import Foundation
import Vapor

/// What the clinic-day pages share: how times are shown and read, and who may see what.
///
/// Times are shown and taken in UTC: a clinic's own time zone is not stored yet, and a page
/// that guessed one would put appointments at the wrong hour without anyone noticing.
enum PageFormat {
    private static func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = pattern
        return formatter
    }

    static func time(_ date: Date) -> String { formatter("yyyy-MM-dd HH:mm").string(from: date) }
    static func clock(_ milliseconds: Int64) -> String { formatter("HH:mm").string(from: Date(milliseconds: milliseconds)) }
    static func day(_ date: Date) -> String { formatter("yyyy-MM-dd").string(from: date) }

    /// The start of the day named `YYYY-MM-DD`, or of today when none is named.
    static func startOfDay(_ text: String?) throws -> Date {
        guard let text, !text.isEmpty else { return try startOfDay(day(Date())) }
        guard text.count == 10, let date = formatter("yyyy-MM-dd").date(from: text) else {
            throw ClinicError.invalid("date", "Give a date as YYYY-MM-DD.")
        }
        return date
    }

    /// A `datetime-local` field sends no zone (`2026-01-31T09:00`); read it as UTC like the page shows.
    static func zonedInput(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        if text.count == 16 { return text + ":00Z" }
        if text.count == 19 { return text + "Z" }
        return text
    }

    static func patientName(_ record: PatientRecord) -> String { "\(record.details.familyName), \(record.details.givenName)" }

    /// Cents as dollars: 13900 -> "$139.00".
    static func money(_ cents: Int) -> String { String(format: "$%d.%02d", cents / 100, cents % 100) }

    /// Dollars as typed on a form ("33", "33.5", "$1,033.50") as cents; nil when it is not an amount.
    static func cents(_ text: String?) -> Int? {
        guard var text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        text = text.replacingOccurrences(of: "$", with: "").replacingOccurrences(of: ",", with: "")
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              !parts[0].isEmpty, parts[0].count <= 7, let dollars = Int(parts[0]) else { return nil }
        guard parts.count == 2 else { return dollars * 100 }
        guard (1...2).contains(parts[1].count), let fraction = Int(parts[1]) else { return nil }
        return dollars * 100 + (parts[1].count == 1 ? fraction * 10 : fraction)
    }
}

extension ClinicScope {
    func may(_ resource: ClinicResource, _ action: ClinicAction) -> Bool {
        PermissionMatrix.standard.allows(roles, resource, action)
    }
}

extension ClinicError {
    /// Mistakes the person can correct on the same form; the rest get an error page.
    var belongsOnForm: Bool { status == 400 || status == 409 }
    var pageStatus: HTTPResponseStatus { HTTPResponseStatus(statusCode: status) }
}

/// One choice in a `<select>`.
struct Choice: Encodable {
    let value: String
    let label: String
    let selected: Bool
}

/// A SOAP note as a page shows it: only the parts that were written, each with its heading.
struct NoteView: Encodable {
    struct Part: Encodable { let label: String; let text: String }
    let parts: [Part]

    init(_ note: ConsultationNote) {
        let labels = ["subjective": "Subjective", "objective": "Objective", "assessment": "Assessment", "plan": "Plan"]
        parts = ConsultationNote.parts.compactMap { name in note[name].map { Part(label: labels[name] ?? name, text: $0) } }
    }
}
