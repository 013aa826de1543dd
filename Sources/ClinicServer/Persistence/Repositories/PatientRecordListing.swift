import ClinicDomain
import Foundation
import SQLKit

/// What lists of patients' records share: an optional patient filter, newest first, paged;
/// and the audit detail naming the patients a list showed ("who saw this patient").
enum PatientRecordListing {
    /// `narrowedTo` is a further condition on the rows (`PatientInvolvement.listFilter`).
    static func newestFirst(from table: String, columns: String, clinic: UUID, patient: PatientID?, narrowedTo: SQLQueryString? = nil,
                            paging: Paging) -> SQLQueryString {
        var query = SQLQueryString("SELECT \(unsafeRaw: columns) FROM \(unsafeRaw: table) WHERE clinic_id = \(bind: clinic)")
        if let patient {
            query.appendInterpolation(unsafeRaw: " AND patient_id = ")
            query.appendInterpolation(bind: patient.rawValue)
        }
        if let narrowedTo { query += narrowedTo }
        query.appendInterpolation(unsafeRaw: " ORDER BY created_at_ms DESC, id LIMIT ")
        query.appendInterpolation(bind: paging.limit)
        query.appendInterpolation(unsafeRaw: " OFFSET ")
        query.appendInterpolation(bind: paging.offset)
        return query
    }

    static func shownPatients(_ patients: [PatientID]) -> String? {
        let ids = Set(patients.map(\.description)).sorted()
        return ids.isEmpty ? nil : "patients=" + ids.joined(separator: ",")
    }
}
