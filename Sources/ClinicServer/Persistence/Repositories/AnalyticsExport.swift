import ClinicDomain
import Crypto
import Foundation
import Keyring
import SQLKit

/// The pseudonymised analytics export of one clinic: one row per visit (attended or not come),
/// with the rules of `PseudonymisedVisits`. Patients and practitioners are named by a keyed hash
/// under a key made for this export alone and never stored, so the rows of two exports cannot be
/// joined on them, and nobody, the clinic included, can turn a pseudonym back into a person.
///
/// Opening is limited to what is banded: a patient's birth date, sex and postcode, never the name
/// or contacts. The export is one audit event saying how many visits and patients left, with k.
struct AnalyticsExport: Sendable {
    let clinic: ClinicID
    let context: RequestContext
    let services: ClinicServices

    static let header = ["patient", "ageBand", "sex", "region", "month", "appointmentType", "practitioner", "outcome", "invoiced"]

    struct Result: Sendable {
        /// Header first, then one row per visit, ordered by month and pseudonym (never by time,
        /// which would give the order of visits within a month).
        let rows: [[String]]
        let patients: Int
        let leftOut: Int
    }

    /// `key` makes the pseudonyms (a reporting grant keeps its own so a refreshed table keeps its
    /// pseudonyms); without one, a key is made for this export and dropped after it.
    ///
    /// A reporting table refreshed under one key passes `agesOn` (the grant's day, so an age band
    /// never moves on a birthday) and `before` (the start of the current month, so a row never
    /// appears in the hour a visit was marked).
    func rows(k: Int, today: Date = Date(), agesOn: Date? = nil, before: Date? = nil, key grantKey: SymmetricKey? = nil,
              action: String = "analytics.export") async throws -> Result {
        let clinic = self.clinic, context = self.context, keyring = services.keyring
        guard let place = try await services.store.global.raw("""
            SELECT country, time_zone FROM clinics WHERE id = \(bind: clinic.rawValue) AND status = 'active'
            """).first(),
            let country = CountryCode(try place.decode(column: "country", as: String.self)) else { throw ClinicError.notFound }
        let zone = ClinicTimeZone(storedIdentifier: try place.decode(column: "time_zone", as: String.self)).zone
        let calendar = { var calendar = Calendar(identifier: .gregorian); calendar.timeZone = zone; return calendar }()
        let now = calendar.dateComponents([.year, .month, .day], from: agesOn ?? today)
        let until = before ?? today
        let todayParts = (year: now.year!, month: now.month!, day: now.day!)
        let k = max(k, PseudonymisedVisits.minimumK)

        return try await services.store.transaction(realm: clinic.rawValue) { tx in
            let visits = try await tx.sql.raw("""
                SELECT a.id, a.patient_id, a.practitioner_id, a.starts_at_ms, a.status, t.name AS type_name
                FROM appointments a JOIN appointment_types t ON t.clinic_id = a.clinic_id AND t.id = a.type_id
                WHERE a.clinic_id = \(bind: clinic.rawValue) AND a.status IN ('arrived', 'completed', 'no_show')
                  AND a.starts_at_ms < \(bind: until.milliseconds)
                """).all()
            let invoiced = try await tx.sql.raw("""
                SELECT appointment_id, CAST(SUM(total_cents) AS BIGINT) AS cents FROM invoices
                WHERE clinic_id = \(bind: clinic.rawValue) AND appointment_id IS NOT NULL AND status IN ('issued', 'paid')
                GROUP BY appointment_id
                """).all()
            var centsByAppointment: [UUID: Int] = [:]
            for row in invoiced {
                centsByAppointment[try row.decode(column: "appointment_id", as: UUID.self)] = Int(try row.decode(column: "cents", as: Int64.self))
            }
            let visitPatients = Set(try visits.map { try $0.decode(column: "patient_id", as: UUID.self) })

            // Only the three columns that are banded are opened.
            let keys = try await keyring.keys(for: clinic.rawValue, in: tx)
            var demographics: [UUID: PseudonymisedVisits.Demographics] = [:]
            for row in try await tx.sql.raw("""
                SELECT id, birth_date, sex, postcode FROM patients WHERE clinic_id = \(bind: clinic.rawValue)
                """).all() {
                let id = try row.decode(column: "id", as: UUID.self)
                guard visitPatients.contains(id) else { continue }
                func field(_ column: String) throws -> String? {
                    try keys.openColumn(row, table: PatientRepository.table, column: column, id: id)
                }
                let birthDate = try field("birth_date").flatMap { try? BirthDate(parsing: $0, today: today.addingTimeInterval(86_400)) }
                demographics[id] = PseudonymisedVisits.Demographics(
                    age: PseudonymisedVisits.age(birthDate, today: todayParts),
                    sex: try field("sex").flatMap { Sex(rawValue: $0) },
                    region: try field("postcode").map { Postcode(storedValue: $0).region(country: country) })
            }
            let described = PseudonymisedVisits.describe(demographics, k: k)

            let key = grantKey ?? SymmetricKey(size: .bits256)
            // 64 bits: no two of a clinic's people meet by chance, and a reader tells kinds apart.
            func pseudonym(_ kind: String, _ id: UUID) -> String {
                let mac = HMAC<SHA256>.authenticationCode(for: Data((kind + ":" + id.uuidString.lowercased()).utf8), using: key)
                return (kind == "patient" ? "pt-" : "pr-") + Data(mac).prefix(8).map { String(format: "%02x", $0) }.joined()
            }
            var kept: [(patient: UUID, type: String, month: String, row: any SQLRow)] = []
            for visit in visits {
                let patient = try visit.decode(column: "patient_id", as: UUID.self)
                guard described[patient] != nil else { continue }
                let start = Date(milliseconds: try visit.decode(column: "starts_at_ms", as: Int64.self))
                let month = calendar.dateComponents([.year, .month], from: start)
                kept.append((patient, try visit.decode(column: "type_name", as: String.self),
                             String(format: "%04d-%02d", month.year!, month.month!), visit))
            }
            let common = PseudonymisedVisits.commonTypes(kept.map { ($0.patient, $0.type, $0.month) }, k: k)
            var rows: [[String]] = []
            for (patient, type, month, visit) in kept {
                guard let description = described[patient],
                      let status = AppointmentStatus(rawValue: try visit.decode(column: "status", as: String.self)),
                      let outcome = PseudonymisedVisits.outcome(status) else { continue }
                let appointment = try visit.decode(column: "id", as: UUID.self)
                rows.append([
                    pseudonym("patient", patient), description.ageBand, description.sex, description.region, month,
                    common.contains([type, month]) ? type : "other",
                    pseudonym("practitioner", try visit.decode(column: "practitioner_id", as: UUID.self)),
                    outcome, PseudonymisedVisits.amountBand(cents: centsByAppointment[appointment] ?? 0),
                ])
            }
            // Every column decides the order, month first: nothing of the database's order is left.
            rows.sort { ([$0[4]] + $0).lexicographicallyPrecedes([$1[4]] + $1) }
            let leftOut = visitPatients.count - described.count
            try await Ledger.append(context.event(chain: clinic.rawValue, action: action,
                                                  detail: "visits=\(rows.count) patients=\(described.count) left_out=\(leftOut) k=\(k)"), in: tx)
            return Result(rows: [Self.header] + rows, patients: described.count, leftOut: leftOut)
        }
    }
}
