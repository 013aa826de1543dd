import ClinicDomain
import Foundation
import Vapor

/// The clinic's communication settings as a form (owners change them, admins read them): when reminders go, when
/// they must not, on which channels, under what sender name.
enum CommunicationsPages {
    static func register(_ clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "settings", "communications", permission: (.clinicSettings, .read), use: show)
        clinic.inClinic(.POST, "settings", "communications", permission: (.clinicSettings, .update), use: save)
    }

    struct Content: Encodable {
        let leadHours, quietStart, quietEnd, senderName: String
        let channels: [Choice]
        let saved: Bool
        let error: String?
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        let settings = try await Communications.read(scope: scope, services: request.services)
        return try await render(request, scope, settings, saved: (try? request.query.get(String.self, at: "saved")) == "1")
    }

    static func render(_ request: Request, _ scope: ClinicScope, _ settings: CommunicationSettings, saved: Bool = false,
                       error: ClinicError? = nil) async throws -> Response {
        let content = Content(
            leadHours: settings.reminderLeadHours.map(String.init).joined(separator: ", "),
            quietStart: QuietHours.text(settings.quietHours.startMinute), quietEnd: QuietHours.text(settings.quietHours.endMinute),
            senderName: settings.senderName ?? "",
            channels: MessageChannel.allCases.map { Choice(value: $0.rawValue, label: ChartPages.channelName($0), selected: settings.channels.contains($0)) },
            saved: saved, error: error?.message)
        return try await request.render("communications", Layout("Messages to patients", request: request, scope: scope), content,
                                        status: error?.pageStatus ?? .ok)
    }

    struct Form: Vapor.Content {
        var leadHours: String?
        var quietStart: String?
        var quietEnd: String?
        var channel: [String]?
        var senderName: String?
    }

    static func save(_ request: Request, scope: ClinicScope) async throws -> Response {
        let form = try request.content.decode(Form.self)
        do {
            let numbers = try (form.leadHours ?? "").split(separator: ",").map { part -> Int in
                guard let hours = Int(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ClinicError.invalid("reminderLeadHours", "Give whole hours separated by commas, such as 24, 2.")
                }
                return hours
            }
            let leads = try CommunicationSettings.validatedLeadHours(numbers)
            let quiet = QuietHours(startMinute: try QuietHours.minute(parsing: form.quietStart, field: "quietHours.start"),
                                   endMinute: try QuietHours.minute(parsing: form.quietEnd, field: "quietHours.end"))
            let channels = try CommunicationSettings.validatedChannels(form.channel ?? [], field: "channels")
            let sender = try CommunicationSettings.validatedSenderName(form.senderName)
            _ = try await Communications.update(scope: scope, services: request.services) { settings in
                settings.reminderLeadHours = leads
                settings.quietHours = quiet
                settings.channels = channels
                settings.senderName = sender
            }
            return request.redirect(to: "/clinics/\(scope.clinic)/settings/communications?saved=1")
        } catch let error as ClinicError where error.belongsOnForm {
            let current = try await Communications.read(scope: scope, services: request.services)
            return try await render(request, scope, current, error: error)
        }
    }
}
