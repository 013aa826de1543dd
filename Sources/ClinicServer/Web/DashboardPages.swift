import ClinicDomain
import Foundation
import Vapor

/// The first page after signing in: today at a glance. A practitioner sees their own list; the
/// clinic's day is counted by status and by practitioner; only roles that may read finances see
/// what is owed.
enum DashboardPages {
    static func register(_ clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "today", permission: (.schedule, .read), use: today)
    }

    struct Visit: Encodable { let time, patientId, patientName, type, status: String }
    struct Count: Encodable { let label: String; let count: Int }

    struct Content: Encodable {
        let date: String
        let isPractitioner: Bool
        let own: [Visit]
        let statuses: [Count]
        let practitioners: [Count]
        /// "1 appointment", "No appointments".
        let total: String
        let canOpenChart: Bool
        let showOwing: Bool
        /// "1 issued invoice".
        let owingCount: String
        let owing: String
    }

    static func today(_ request: Request, scope: ClinicScope) async throws -> Response {
        let services = request.services, clock = PageClock(scope)
        let day = try clock.startOfDay(nil)
        var filter = AppointmentFilter(from: day, to: clock.day(after: day))
        filter.paging = Paging(limit: 500)
        let appointments = try await AppointmentBook(scope: scope, services: services).list(filter).filter { $0.status.holdsTime }
        let staff = try await StaffDirectory(scope: scope, services: services).practitioners()
        let isPractitioner = scope.roles.contains(.practitioner)
        let own = appointments.filter { $0.practitioner == scope.actor }
        // Names only for the practitioner's own list, and only for roles that may read patients.
        var names: [PatientID: String] = [:]
        if isPractitioner, scope.may(.patient, .read), !own.isEmpty {
            names = try await PatientRepository(scope: scope, services: services).records(of: Set(own.map(\.patient))).mapValues(PageFormat.patientName)
        }
        let types = Dictionary(try await AppointmentTypes(scope: scope, services: services).list(includeInactive: true).map { ($0.id, $0.kind.name) },
                               uniquingKeysWith: { first, _ in first })
        let showOwing = scope.may(.finance, .read)
        let owing = showOwing ? try await InvoiceRecords(scope: scope, services: services).owing() : (count: 0, cents: 0)
        let content = Content(
            date: clock.day(day), isPractitioner: isPractitioner,
            own: own.map {
                Visit(time: clock.clock($0.slot.start), patientId: $0.patient.description,
                      patientName: names[$0.patient] ?? $0.patient.description, type: types[$0.type] ?? "",
                      status: $0.status.rawValue.replacingOccurrences(of: "_", with: " "))
            },
            statuses: AppointmentStatus.allCases.filter(\.holdsTime).map { status in
                Count(label: status.rawValue.replacingOccurrences(of: "_", with: " "), count: appointments.filter { $0.status == status }.count)
            },
            practitioners: staff.map { person in Count(label: person.name, count: appointments.filter { $0.practitioner == person.user }.count) },
            total: PageFormat.count(appointments.count, "appointment", "appointments"), canOpenChart: scope.may(.patient, .read),
            showOwing: showOwing, owingCount: PageFormat.count(owing.count, "issued invoice", "issued invoices"), owing: PageFormat.money(owing.cents))
        return try await request.render("today", Layout("Today", request: request, scope: scope), content)
    }
}
