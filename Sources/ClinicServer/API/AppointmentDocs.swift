/// OpenAPI descriptions of the diary routes.
enum AppointmentDocs {
    static let ref = OpenAPIDocs.ref
    static let error = OpenAPIDocs.error
    static let string = OpenAPIDocs.string
    static let uuid: JSONValue = ["type": "string", "format": "uuid"]
    static let time: JSONValue = ["type": "string", "format": "date-time"]
    static let slotTaken = APIDoc.Answer(status: 409, description: "The practitioner already has an appointment then (`slot_taken`), or does not work then (`outside_hours`).",
                                         schema: ref("Error"))

    static let listTypes = APIDoc(summary: "The clinic's appointment types", tag: "appointments",
                                  query: [.init(name: "includeInactive", description: "`true` to include retired types")],
                                  answers: [.init(status: 200, description: "Types.", schema: ref("AppointmentTypeList"))] + error)
    static let createType = APIDoc(summary: "Add an appointment type", tag: "appointments", body: ref("AppointmentTypeInput"),
                                   answers: [.init(status: 201, description: "Created.", schema: ref("AppointmentType"))] + error)
    static let updateType = APIDoc(summary: "Change an appointment type (what is left out stays); booked times do not change", tag: "appointments",
                                   body: ref("AppointmentTypeInput"),
                                   answers: [.init(status: 200, description: "The type.", schema: ref("AppointmentType"))] + error)
    static let list = APIDoc(
        summary: "Appointments overlapping a time range, by start", tag: "appointments",
        query: [.init(name: "from", description: "Ending after this time (ISO 8601)", schema: time),
                .init(name: "to", description: "Starting before this time (ISO 8601)", schema: time),
                .init(name: "practitionerId", description: "One practitioner's", schema: uuid),
                .init(name: "patientId", description: "One patient's", schema: uuid)] + APIDoc.paging(.diary),
        answers: [.init(status: 200, description: "Appointments.", schema: ref("AppointmentList"))] + error)
    static let book = APIDoc(summary: "Book an appointment; never overlaps the practitioner's other appointments", tag: "appointments",
                             body: ref("BookingInput"),
                             answers: [.init(status: 201, description: "Booked.", schema: ref("Appointment")), slotTaken] + error)
    static let read = APIDoc(summary: "Read one appointment", tag: "appointments",
                             answers: [.init(status: 200, description: "The appointment.", schema: ref("Appointment"))] + error)
    static let move = APIDoc(summary: "Move a booked appointment to another time or practitioner", tag: "appointments",
                             body: ["type": "object", "properties": ["startsAt": time, "practitionerId": uuid]],
                             answers: [.init(status: 200, description: "Moved.", schema: ref("Appointment")), slotTaken,
                                       .init(status: 409, description: "Not booked any more (`invalid_transition`).", schema: ref("Error"))] + error)
    static let status = APIDoc(summary: "Mark arrived, completed, cancelled or no-show", tag: "appointments",
                               body: ["type": "object", "required": ["status"], "properties": ["status": ref("AppointmentStatus")]],
                               answers: [.init(status: 200, description: "The appointment.", schema: ref("Appointment")),
                                         .init(status: 409, description: "Not a move the status allows (`invalid_transition`).", schema: ref("Error"))] + error)

    static let readHours = APIDoc(summary: "A practitioner's working week, in the clinic's time zone (none: bookable at any time)", tag: "appointments",
                                  answers: [.init(status: 200, description: "The week.", schema: ref("WorkingWeek"))] + error)
    static let replaceHours = APIDoc(summary: "Replace a practitioner's working week; bookings outside it are refused with `outside_hours`",
                                     tag: "appointments", body: ["type": "object", "required": ["hours"], "properties": [
                                         "hours": ["type": "array", "maxItems": 28, "items": ref("WorkingPeriod")]]],
                                     answers: [.init(status: 200, description: "The week.", schema: ref("WorkingWeek"))] + error)
    static let readSettings = APIDoc(summary: "The clinic's settings: the time zone its wall clock keeps", tag: "clinics",
                                     answers: [.init(status: 200, description: "The settings.", schema: ref("ClinicSettings"))] + error)
    static let updateSettings = APIDoc(summary: "Set the clinic's time zone (an IANA name)", tag: "clinics", body: ref("ClinicSettings"),
                                       answers: [.init(status: 200, description: "The settings.", schema: ref("ClinicSettings"))] + error)
    static let clock: JSONValue = ["type": "string", "pattern": "^([01][0-9]|2[0-4]):[0-5][0-9]$"]

    static let schemas: JSONValue = [
        "WorkingPeriod": ["type": "object", "required": ["weekday", "starts", "ends"], "properties": [
            "weekday": ["type": "string", "enum": ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]],
            "starts": clock, "ends": clock]],
        "WorkingWeek": ["type": "object", "required": ["timeZone", "hours"], "properties": [
            "timeZone": string, "hours": ["type": "array", "items": ref("WorkingPeriod")]]],
        "ClinicSettings": ["type": "object", "required": ["timeZone"], "properties": ["timeZone": ["type": "string", "maxLength": 64]]],
        "AppointmentStatus": ["type": "string", "enum": ["booked", "arrived", "completed", "cancelled", "no_show"]],
        "AppointmentTypeInput": ["type": "object", "properties": [
            "name": string, "durationMinutes": ["type": "integer", "minimum": 5, "maximum": 480, "multipleOf": 5],
            "priceCents": ["type": "integer", "minimum": 0], "active": ["type": "boolean"]]],
        "AppointmentType": ["type": "object", "required": ["id", "name", "durationMinutes", "active"], "properties": [
            "id": uuid, "name": string, "durationMinutes": ["type": "integer"], "priceCents": ["type": "integer"], "active": ["type": "boolean"]]],
        "AppointmentTypeList": ["type": "object", "required": ["appointmentTypes"], "properties": [
            "appointmentTypes": ["type": "array", "items": ref("AppointmentType")]]],
        "BookingInput": ["type": "object", "required": ["patientId", "practitionerId", "appointmentTypeId", "startsAt"], "properties": [
            "patientId": uuid, "practitionerId": uuid, "appointmentTypeId": uuid, "startsAt": time,
            "durationMinutes": ["type": "integer", "minimum": 5, "maximum": 480, "description": "Overrides the type's length"],
            "reason": ["type": "string", "maxLength": 500]]],
        "Appointment": ["type": "object", "required": ["id", "patientId", "practitionerId", "appointmentTypeId", "startsAt", "endsAt", "status",
                                                       "createdAt", "updatedAt"], "properties": [
            "id": uuid, "patientId": uuid, "practitionerId": uuid, "appointmentTypeId": uuid, "startsAt": time, "endsAt": time,
            "status": ref("AppointmentStatus"), "reason": string, "createdAt": time, "updatedAt": time]],
        "AppointmentList": ["type": "object", "required": ["appointments"], "properties": [
            "appointments": ["type": "array", "items": ref("Appointment")]]],
    ]
}
