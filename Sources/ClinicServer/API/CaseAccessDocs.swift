/// OpenAPI descriptions of care teams and break-glass.
enum CaseAccessDocs {
    static let ref = OpenAPIDocs.ref
    static let error = OpenAPIDocs.error
    static let uuid = AppointmentDocs.uuid
    static let careTeam: JSONValue = ["type": "object", "required": ["practitionerIds"],
                                          "properties": ["practitionerIds": ["type": "array", "maxItems": 50, "items": uuid]]]
    static let grant: JSONValue = ["type": "object", "required": ["id", "patientId", "userId", "createdAt", "expiresAt"],
                                       "properties": ["id": uuid, "patientId": uuid, "userId": uuid, "reason": ["type": "string"],
                                                      "createdAt": AppointmentDocs.time, "expiresAt": AppointmentDocs.time]]

    static let readCareTeam = APIDoc(summary: "The practitioners on a patient's care team", tag: "patients",
                                     answers: [.init(status: 200, description: "The team.", schema: careTeam)] + error)
    static let replaceCareTeam = APIDoc(summary: "Replace a patient's care team (owners, admins); each id a practitioner of this clinic", tag: "patients",
                                        body: careTeam, answers: [.init(status: 200, description: "The team.", schema: careTeam)] + error)
    static let breakGlass = APIDoc(
        summary: "Break the glass: read a patient's clinical record for an hour, with a reason the owners see", tag: "patients",
        body: ["type": "object", "required": ["reason"], "properties": ["reason": ["type": "string", "minLength": 1, "maxLength": 500]]],
        answers: [.init(status: 201, description: "The grant.", schema: grant)] + error)
    static let listBreakGlass = APIDoc(summary: "Every break-glass in the clinic, newest first; the reason for owners only (owners, admins)", tag: "clinics",
                                       query: ClinicalDocs.byPatient.filter { $0.name != "patientId" },
                                       answers: [.init(status: 200, description: "The grants.",
                                                       schema: ["type": "object", "required": ["grants"], "properties": ["grants": ["type": "array", "items": grant]]])] + error)
}
