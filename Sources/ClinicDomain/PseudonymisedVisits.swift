import Foundation

/// The rules of the pseudonymised analytics export: what a visit becomes when it leaves the clinic
/// for a spreadsheet or a BI tool. No name, contact, number, birth date, free text or exact date
/// survives; what remains is banded, and any patient whose banded description (age band, sex,
/// region) is shared by fewer than k patients is described more coarsely or left out, so that
/// no row can be matched back to a person by what else is known about them.
public enum PseudonymisedVisits {
    /// The smallest group a description may single out. A setting may raise it, never lower it.
    public static let minimumK = 5

    /// A visit's outcome as the export names it; visits that did not happen (booked, cancelled)
    /// are not visits.
    public static func outcome(_ status: AppointmentStatus) -> String? {
        switch status {
        case .arrived, .completed: return "attended"
        case .noShow: return "no-show"
        case .booked, .cancelled: return nil
        }
    }

    /// Whole years of age on `today` (a calendar date), nil without a birth date.
    public static func age(_ birthDate: BirthDate?, today: (year: Int, month: Int, day: Int)) -> Int? {
        guard let birthDate else { return nil }
        let hadBirthday = (today.month, today.day) >= (birthDate.month, birthDate.day)
        return max(0, today.year - birthDate.year - (hadBirthday ? 0 : 1))
    }

    /// Five-year bands, "0-4" to "85-89", and "90+": the very old are few, so they share a band,
    /// as the HIPAA safe-harbour rule has them.
    public static func ageBand(_ age: Int?) -> String {
        guard let age else { return "unknown" }
        if age >= 90 { return "90+" }
        let low = age / 5 * 5
        return "\(low)-\(low + 4)"
    }

    /// Twenty-year bands, the first widening of a group that is too small.
    public static func wideAgeBand(_ age: Int?) -> String {
        guard let age else { return "unknown" }
        if age >= 80 { return "80+" }
        let low = age / 20 * 20
        return "\(low)-\(low + 19)"
    }

    /// What was invoiced for the visit, in dollar bands (never the amount: an odd amount can be
    /// as telling as a date).
    public static func amountBand(cents: Int) -> String {
        switch cents {
        case ..<1: return "0"
        case ..<5_000: return "1-49"
        case ..<10_000: return "50-99"
        case ..<20_000: return "100-199"
        case ..<50_000: return "200-499"
        default: return "500+"
        }
    }

    /// The appointment types a row may name: a type (a clinic's own words) seen by fewer than k
    /// patients in a month would single them out, and their pseudonym with them, so in that
    /// month it reads "other". `visits` are (patient, type, month).
    public static func commonTypes<Patient: Hashable>(_ visits: [(patient: Patient, type: String, month: String)], k: Int) -> Set<[String]> {
        let k = max(k, minimumK)
        var patients: [[String]: Set<Patient>] = [:]
        for visit in visits { patients[[visit.type, visit.month], default: []].insert(visit.patient) }
        return Set(patients.filter { $0.value.count >= k }.keys)
    }

    /// A patient's description in the export: the quasi-identifiers someone could know from
    /// elsewhere. "*" is a part left out.
    public struct Description: Hashable, Sendable {
        public let ageBand: String
        public let sex: String
        public let region: String

        public init(ageBand: String, sex: String, region: String) {
            self.ageBand = ageBand
            self.sex = sex
            self.region = region
        }
    }

    /// What is known of a patient before any widening.
    public struct Demographics: Sendable {
        public let age: Int?
        public let sex: Sex?
        public let region: String?

        public init(age: Int?, sex: Sex?, region: String?) {
            self.age = age
            self.sex = sex
            self.region = region
        }
    }

    /// Each patient's description, widened step by step until at least `k` patients share it:
    /// five-year age band, sex and region; then twenty-year band; then without the region; then
    /// nothing at all ("*" everywhere). A patient still in a group under `k` after the last step
    /// has no description and their visits are left out of the export.
    ///
    /// Each step looks only at the patients the steps before could not place, so every
    /// description in the answer is held by exactly the patients placed at that step, and there
    /// are at least `k` of them.
    public static func describe<Patient: Hashable>(_ patients: [Patient: Demographics], k: Int) -> [Patient: Description] {
        let k = max(k, minimumK)
        let steps: [(Demographics) -> Description] = [
            { Description(ageBand: ageBand($0.age), sex: $0.sex?.rawValue ?? "unknown", region: $0.region ?? "unknown") },
            { Description(ageBand: wideAgeBand($0.age), sex: $0.sex?.rawValue ?? "unknown", region: $0.region ?? "unknown") },
            { Description(ageBand: wideAgeBand($0.age), sex: $0.sex?.rawValue ?? "unknown", region: "*") },
            { _ in Description(ageBand: "*", sex: "*", region: "*") },
        ]
        var placed: [Patient: Description] = [:]
        var waiting = patients
        for step in steps where !waiting.isEmpty {
            let groups = Dictionary(grouping: waiting.keys) { step(waiting[$0]!) }
            for (description, members) in groups where members.count >= k {
                for member in members {
                    placed[member] = description
                    waiting[member] = nil
                }
            }
        }
        return placed
    }
}
