import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/settings/communications` (owners and admins: reminder lead times,
/// quiet hours, channels, sender name) and a patient's `contact-preferences` (the channels the
/// patient accepts, recorded by whoever took the call).
enum CommunicationsAPI {
    static func register(_ api: any RoutesBuilder) {
        let settings = api.grouped("clinics", ":clinicId", "settings", "communications")
        settings.inClinic(.GET, permission: (.clinicSettings, .read), doc: readDoc, use: read)
        settings.inClinic(.PUT, permission: (.clinicSettings, .update), doc: updateDoc, use: update)
        api.grouped("clinics", ":clinicId", "patients", ":patientId", "contact-preferences")
            .inClinic(.PUT, permission: (.patient, .update), doc: preferencesDoc, use: setPreferences)
    }

    struct QuietHoursShape: Content {
        let start: String?
        let end: String?
    }

    struct Body: Decodable {
        let reminderLeadHours: [Int]?
        let quietHours: QuietHoursShape?
        let channels: [String]?
        let senderName: String?
        let sensitiveAppointmentTypeIds: [String]?
    }

    struct Settings: Content {
        let reminderLeadHours: [Int]
        let quietHours: QuietHoursShape
        let channels: [String]
        let senderName: String?
        let sensitiveAppointmentTypeIds: [String]

        init(_ settings: CommunicationSettings) {
            reminderLeadHours = settings.reminderLeadHours
            quietHours = QuietHoursShape(start: QuietHours.text(settings.quietHours.startMinute), end: QuietHours.text(settings.quietHours.endMinute))
            channels = settings.channels.map(\.rawValue).sorted()
            senderName = settings.senderName
            sensitiveAppointmentTypeIds = settings.sensitiveAppointmentTypes.map(\.description)
        }
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> Settings {
        Settings(try await Communications.read(scope: scope, services: request.services))
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> Settings {
        let body = try request.decodeBody(Body.self)
        let leads = try body.reminderLeadHours.map { try CommunicationSettings.validatedLeadHours($0) }
        let quiet = try body.quietHours.map {
            QuietHours(startMinute: try QuietHours.minute(parsing: $0.start, field: "quietHours.start"),
                       endMinute: try QuietHours.minute(parsing: $0.end, field: "quietHours.end"))
        }
        let channels = try body.channels.map { try CommunicationSettings.validatedChannels($0, field: "channels") }
        let senderName = try CommunicationSettings.validatedSenderName(body.senderName)
        let types: [AppointmentTypeID]? = try body.sensitiveAppointmentTypeIds.map { ids in
            guard ids.count <= 100 else { throw ClinicError.invalid("sensitiveAppointmentTypeIds", "Give at most 100 ids.") }
            return try ids.map { try BodyValue.id($0, field: "sensitiveAppointmentTypeIds") }
        }
        let setsSender = body.senderName != nil
        let updated = try await Communications.update(scope: scope, services: request.services) { settings in
            if let leads { settings.reminderLeadHours = leads }
            if let quiet { settings.quietHours = quiet }
            if let channels { settings.channels = channels }
            if setsSender { settings.senderName = senderName }
            if let types { settings.sensitiveAppointmentTypes = types }
        }
        return Settings(updated)
    }

    struct PreferencesBody: Decodable { let channels: [String]? }

    struct Preferences: Content {
        let channels: [String]
        let changedBy: String
        let changedAt: String
    }

    static func setPreferences(_ request: Request, scope: ClinicScope) async throws -> Preferences {
        let patient = try PatientsAPI.patientID(request)
        let channels = try CommunicationSettings.validatedChannels(try request.decodeBody(PreferencesBody.self).channels, field: "channels")
        let recorded = try await Communications.setPreferences(channels, of: patient, scope: scope, services: request.services)
        return Preferences(channels: recorded.channels.map(\.rawValue).sorted(), changedBy: recorded.changedBy.description,
                           changedAt: Timestamp.string(recorded.changedAt))
    }

    static let channelList: JSONValue = ["type": "array", "maxItems": 3, "uniqueItems": true,
                                         "items": ["type": "string", "enum": .array(MessageChannel.allCases.map { .string($0.rawValue) })]]
    static let clock: JSONValue = ["type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"]
    static let settingsSchema: JSONValue = [
        "type": "object", "required": ["reminderLeadHours", "quietHours", "channels", "sensitiveAppointmentTypeIds"],
        "properties": [
            "reminderLeadHours": ["type": "array", "maxItems": 3, "items": ["type": "integer", "minimum": 1, "maximum": 336]],
            "quietHours": ["type": "object", "required": ["start", "end"], "properties": ["start": clock, "end": clock]],
            "channels": channelList,
            "senderName": ["type": "string", "maxLength": 80],
            "sensitiveAppointmentTypeIds": ["type": "array", "maxItems": 100, "items": AppointmentDocs.uuid],
        ],
    ]
    static let readDoc = APIDoc(summary: "The clinic's reminder lead times, quiet hours, channels and sender name (owners, admins)", tag: "clinics",
                                answers: [.init(status: 200, description: "The settings.", schema: settingsSchema)] + OpenAPIDocs.error)
    static let updateDoc = APIDoc(summary: "Change the clinic's communication settings; fields left out stay as they are (owners)",
                                  tag: "clinics", body: settingsSchema.droppingRequired,
                                  answers: [.init(status: 200, description: "The settings.", schema: settingsSchema)] + OpenAPIDocs.error)
    static let preferencesDoc = APIDoc(
        summary: "Record the channels a patient accepts messages on (empty: none)", tag: "patients",
        body: ["type": "object", "required": ["channels"], "properties": ["channels": channelList]],
        answers: [.init(status: 200, description: "The preferences as recorded.",
                        schema: ["type": "object", "required": ["channels", "changedBy", "changedAt"],
                                 "properties": ["channels": channelList, "changedBy": AppointmentDocs.uuid, "changedAt": AppointmentDocs.time]])]
            + OpenAPIDocs.error)
}

extension JSONValue {
    /// The same object schema with nothing required: a body where every field may be left out.
    var droppingRequired: JSONValue {
        guard case let .object(members) = self else { return self }
        return .object(members.filter { $0.0 != "required" })
    }
}
