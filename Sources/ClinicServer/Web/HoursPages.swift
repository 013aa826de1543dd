import ClinicDomain
import Foundation
import Vapor

/// A practitioner's working week as a form: one row a period, blank rows to add more. The
/// diary refuses bookings outside it.
enum HoursPages {
    static func register(_ clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "practitioners", ":userId", "hours", permission: (.schedule, .read), use: show)
        clinic.inClinic(.POST, "practitioners", ":userId", "hours", permission: (.schedule, .update), use: save)
    }

    struct Row: Encodable { let days: [Choice]; let starts, ends: String }

    struct Content: Encodable {
        let userId, name, timeZone: String
        let rows: [Row]
        let canChange: Bool
        let error: String?
    }

    static let blankRows = 3

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        let user = try StaffAPI.userID(request)
        let (week, _) = try await WorkingHours(scope: scope, services: request.services).week(of: user)
        return try await render(request, scope, user: user, periods: week.periods.map { ($0.weekday.rawValue, $0.starts, $0.ends) })
    }

    static func render(_ request: Request, _ scope: ClinicScope, user: UserID, periods: [(String, String, String)],
                       error: ClinicError? = nil) async throws -> Response {
        let hours = WorkingHours(scope: scope, services: request.services)
        let names = try await StaffDirectory(scope: scope, services: request.services).practitioners()
        guard let name = names.first(where: { $0.user == user })?.name else { throw ClinicError.notFound }
        let rows = (periods + Array(repeating: ("", "", ""), count: blankRows)).map { day, starts, ends in
            Row(days: WorkingPeriod.Weekday.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue.capitalized, selected: $0.rawValue == day) },
                starts: starts, ends: ends)
        }
        let content = Content(userId: user.description, name: name, timeZone: try await hours.timeZone().identifier, rows: rows,
                              canChange: scope.may(.schedule, .update), error: error?.message)
        return try await request.render("hours", Layout("Working hours", request: request, scope: scope), content, status: error?.pageStatus ?? .ok)
    }

    struct Form: Vapor.Content {
        var weekday: [String]?
        var starts: [String]?
        var ends: [String]?
    }

    static func save(_ request: Request, scope: ClinicScope) async throws -> Response {
        let user = try StaffAPI.userID(request)
        let form = try request.content.decode(Form.self)
        let days = form.weekday ?? [], starts = form.starts ?? [], ends = form.ends ?? []
        // A row with no times is a blank row, whatever day its list shows.
        let periods = (0..<min(days.count, starts.count, ends.count)).map { (days[$0], starts[$0], ends[$0]) }
            .filter { !FieldText.isBlank($0.1) || !FieldText.isBlank($0.2) }
        do {
            let week = try WorkingWeek(validating: periods.map { WorkingWeek.Submission(weekday: $0.0, starts: $0.1, ends: $0.2) })
            try await WorkingHours(scope: scope, services: request.services).replace(of: user, with: week)
            return request.redirect(to: "/clinics/\(scope.clinic)/practitioners/\(user)/hours")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, user: user, periods: periods, error: error)
        }
    }
}
