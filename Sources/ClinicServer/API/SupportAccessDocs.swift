/// OpenAPI descriptions of support access by the clinic's consent.
enum SupportAccessDocs {
    static let error = OpenAPIDocs.error
    static let transition = APIDoc.Answer(status: 409, description: "Not a step the request's state allows (`invalid_transition`).",
                                          schema: OpenAPIDocs.ref("Error"))
    static let uuid = AppointmentDocs.uuid
    static let request: JSONValue = [
        "type": "object", "required": ["id", "operatorName", "reason", "hours", "state", "requestedAt", "active"],
        "properties": ["id": uuid, "operatorName": ["type": "string"], "reason": ["type": "string"],
                       "hours": ["type": "integer", "minimum": 1, "maximum": 72],
                       "state": ["type": "string", "enum": ["requested", "granted", "refused", "revoked"]],
                       "requestedAt": AppointmentDocs.time, "decidedAt": AppointmentDocs.time, "expiresAt": AppointmentDocs.time,
                       "supportUserId": uuid, "active": ["type": "boolean"]]]

    static let list = APIDoc(summary: "The operator's requests for support access to this clinic, newest first (owners, admins)", tag: "clinics",
                             answers: [.init(status: 200, description: "The requests.",
                                             schema: ["type": "object", "required": ["requests"],
                                                      "properties": ["requests": ["type": "array", "items": request]]])] + error)
    static let grant = APIDoc(summary: "Grant a support request: its hours start now (owners)", tag: "clinics",
                              answers: [.init(status: 200, description: "The request, granted.", schema: request), transition] + error)
    static let refuse = APIDoc(summary: "Refuse a support request (owners)", tag: "clinics",
                               answers: [.init(status: 200, description: "The request, refused.", schema: request), transition] + error)
    static let revoke = APIDoc(summary: "Revoke a granted support request: the support identity's sessions end at once (owners)", tag: "clinics",
                               answers: [.init(status: 200, description: "The request, revoked.", schema: request), transition] + error)
}
