import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/practitioners/{userId}/hours`: when a practitioner can be booked,
/// in the clinic's time zone (`/api/v1/clinics/{clinicId}/settings`).
enum WorkingHoursAPI {
    static func register(_ api: any RoutesBuilder) {
        let hours = api.grouped("clinics", ":clinicId", "practitioners", ":userId", "hours")
        hours.inClinic(.GET, permission: (.schedule, .read), doc: AppointmentDocs.readHours, use: read)
        hours.inClinic(.PUT, permission: (.schedule, .update), doc: AppointmentDocs.replaceHours, use: replace)
        let settings = api.grouped("clinics", ":clinicId", "settings")
        settings.inClinic(.GET, permission: (.clinicSettings, .read), doc: AppointmentDocs.readSettings, use: readSettings)
        settings.inClinic(.PUT, permission: (.clinicSettings, .update), doc: AppointmentDocs.updateSettings, use: updateSettings)
    }

    struct Period: Content { let weekday, starts, ends: String }
    struct Week: Content { let timeZone: String; let hours: [Period] }
    struct WeekInput: Decodable { let hours: [WorkingWeek.Submission]? }
    struct Settings: Content { let timeZone: String }
    struct SettingsInput: Decodable { let timeZone: String? }

    static func read(_ request: Request, scope: ClinicScope) async throws -> Week {
        let (week, zone) = try await WorkingHours(scope: scope, services: request.services).week(of: try StaffAPI.userID(request))
        return Week(timeZone: zone.identifier, hours: week.periods.map { Period(weekday: $0.weekday.rawValue, starts: $0.starts, ends: $0.ends) })
    }

    static func replace(_ request: Request, scope: ClinicScope) async throws -> Week {
        let user = try StaffAPI.userID(request)
        guard let submitted = try request.decodeBody(WeekInput.self).hours else {
            throw ClinicError.invalid("hours", "Give the week's periods (an empty list makes the practitioner bookable at any time).", code: "required")
        }
        let hours = WorkingHours(scope: scope, services: request.services)
        try await hours.replace(of: user, with: try WorkingWeek(validating: submitted))
        return try await read(request, scope: scope)
    }

    static func readSettings(_ request: Request, scope: ClinicScope) async throws -> Settings {
        Settings(timeZone: try await WorkingHours(scope: scope, services: request.services).timeZone().identifier)
    }

    static func updateSettings(_ request: Request, scope: ClinicScope) async throws -> Settings {
        let zone = try ClinicTimeZone(parsing: try request.decodeBody(SettingsInput.self).timeZone)
        try await WorkingHours(scope: scope, services: request.services).setTimeZone(zone)
        return Settings(timeZone: zone.identifier)
    }
}
