import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/appointment-types` and `/appointments`: the clinic's diary.
enum AppointmentsAPI {
    static func register(_ api: any RoutesBuilder) {
        let types = api.grouped("clinics", ":clinicId", "appointment-types")
        types.inClinic(.GET, permission: (.schedule, .read), doc: AppointmentDocs.listTypes, use: listTypes)
        types.inClinic(.POST, permission: (.catalogue, .create), doc: AppointmentDocs.createType, use: createType)
        types.inClinic(.PATCH, ":typeId", permission: (.catalogue, .update), doc: AppointmentDocs.updateType, use: updateType)

        let appointments = api.grouped("clinics", ":clinicId", "appointments")
        appointments.inClinic(.GET, permission: (.schedule, .read), doc: AppointmentDocs.list, use: list)
        appointments.inClinic(.POST, permission: (.schedule, .create), doc: AppointmentDocs.book, use: book)
        appointments.inClinic(.GET, ":appointmentId", permission: (.schedule, .read), doc: AppointmentDocs.read, use: read)
        appointments.inClinic(.PATCH, ":appointmentId", permission: (.schedule, .update), doc: AppointmentDocs.move, use: move)
        appointments.inClinic(.POST, ":appointmentId", "status", permission: (.schedule, .update), doc: AppointmentDocs.status, use: setStatus)
    }

    struct TypeInput: Decodable {
        let name: String?
        let durationMinutes: Int?
        let priceCents: Int?
        let active: Bool?
    }

    struct BookingInput: Decodable {
        let patientId: String?
        let practitionerId: String?
        let appointmentTypeId: String?
        let startsAt: String?
        let durationMinutes: Int?
        let reason: String?
    }

    struct MoveInput: Decodable {
        let startsAt: String?
        let practitionerId: String?
    }

    struct StatusInput: Decodable { let status: String? }

    static func listTypes(_ request: Request, scope: ClinicScope) async throws -> APIShapes.AppointmentTypeList {
        let includeInactive = try request.queryText("includeInactive", maximum: 5) == "true"
        let records = try await AppointmentTypes(scope: scope, services: request.services).list(includeInactive: includeInactive)
        return APIShapes.AppointmentTypeList(appointmentTypes: records.map(APIShapes.AppointmentType.init))
    }

    static func createType(_ request: Request, scope: ClinicScope) async throws -> Response {
        let input = try request.decodeBody(TypeInput.self)
        let kind = try AppointmentKind.validated(name: input.name, durationMinutes: input.durationMinutes, priceCents: input.priceCents)
        let record = try await AppointmentTypes(scope: scope, services: request.services).create(kind)
        return try created(APIShapes.AppointmentType(record))
    }

    static func updateType(_ request: Request, scope: ClinicScope) async throws -> APIShapes.AppointmentType {
        let id: AppointmentTypeID = try request.pathID("typeId")
        let input = try request.decodeBody(TypeInput.self)
        let record = try await AppointmentTypes(scope: scope, services: request.services)
            .update(id, name: input.name, durationMinutes: input.durationMinutes, priceCents: input.priceCents, active: input.active)
        return APIShapes.AppointmentType(record)
    }

    static func filter(from request: Request) throws -> AppointmentFilter {
        var filter = AppointmentFilter()
        filter.from = try request.queryTime("from")
        filter.to = try request.queryTime("to")
        filter.practitioner = try request.queryID("practitionerId")
        filter.patient = try request.queryID("patientId")
        filter.paging = try request.paging(.diary)
        return filter
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> APIShapes.AppointmentList {
        let records = try await AppointmentBook(scope: scope, services: request.services).list(try filter(from: request))
        return APIShapes.AppointmentList(appointments: records.map(APIShapes.Appointment.init))
    }

    static func book(_ request: Request, scope: ClinicScope) async throws -> Response {
        let input = try request.decodeBody(BookingInput.self)
        let booking = try Booking(patientId: input.patientId, practitionerId: input.practitionerId, appointmentTypeId: input.appointmentTypeId,
                                  start: { try BodyValue.time(input.startsAt, field: "startsAt") }, durationMinutes: input.durationMinutes,
                                  reason: input.reason)
        let record = try await AppointmentBook(scope: scope, services: request.services).book(booking)
        return try created(APIShapes.Appointment(record))
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Appointment {
        APIShapes.Appointment(try await AppointmentBook(scope: scope, services: request.services).find(try request.pathID("appointmentId")))
    }

    static func move(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Appointment {
        let id: AppointmentID = try request.pathID("appointmentId")
        let input = try request.decodeBody(MoveInput.self)
        guard input.startsAt != nil || input.practitionerId != nil else {
            throw ClinicError.invalid("startsAt", "Give a new start time, a new practitioner, or both.", code: "required")
        }
        let start = try input.startsAt.map { try BodyValue.time($0, field: "startsAt") }
        let practitioner: UserID? = try BodyValue.optionalID(input.practitionerId, field: "practitionerId")
        return APIShapes.Appointment(try await AppointmentBook(scope: scope, services: request.services).move(id, to: start, practitioner: practitioner))
    }

    static func setStatus(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Appointment {
        let id: AppointmentID = try request.pathID("appointmentId")
        let status = try AppointmentStatus.parse(try request.decodeBody(StatusInput.self).status)
        return APIShapes.Appointment(try await AppointmentBook(scope: scope, services: request.services).setStatus(id, to: status))
    }

    static func created<T: Content>(_ body: T) throws -> Response {
        let response = Response(status: .created)
        try response.content.encode(body)
        return response
    }
}

extension APIShapes {
    struct AppointmentType: Content {
        let id: String
        let name: String
        let durationMinutes: Int
        let priceCents: Int?
        let active: Bool

        init(_ record: AppointmentTypeRecord) {
            id = record.id.description
            name = record.kind.name
            durationMinutes = record.kind.durationMinutes
            priceCents = record.kind.priceCents
            active = record.active
        }
    }

    struct AppointmentTypeList: Content { let appointmentTypes: [AppointmentType] }

    struct Appointment: Content {
        let id: String
        let patientId: String
        let practitionerId: String
        let appointmentTypeId: String
        let startsAt: String
        let endsAt: String
        let status: String
        let reason: String?
        let createdAt: String
        let updatedAt: String

        init(_ record: AppointmentRecord) {
            id = record.id.description
            patientId = record.patient.description
            practitionerId = record.practitioner.description
            appointmentTypeId = record.type.description
            startsAt = Timestamp.string(Date(milliseconds: record.slot.start))
            endsAt = Timestamp.string(Date(milliseconds: record.slot.end))
            status = record.status.rawValue
            reason = record.reason
            createdAt = Timestamp.string(record.createdAt)
            updatedAt = Timestamp.string(record.updatedAt)
        }
    }

    struct AppointmentList: Content { let appointments: [Appointment] }
}
