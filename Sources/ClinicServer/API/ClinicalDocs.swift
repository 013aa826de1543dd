/// OpenAPI descriptions of consultations, formulas and prescriptions.
enum ClinicalDocs {
    static let ref = OpenAPIDocs.ref
    static let error = OpenAPIDocs.error
    static let string = OpenAPIDocs.string
    static let uuid = AppointmentDocs.uuid
    static let time = AppointmentDocs.time
    static let byPatient: [APIDoc.Query] = [
        .init(name: "patientId", description: "One patient's", schema: uuid),
    ] + APIDoc.paging(.records)
    static let locked = APIDoc.Answer(status: 409, description: "Signed and locked (`consultation_signed`).", schema: ref("Error"))

    static let listConsultations = APIDoc(summary: "Consultations, newest first, with their amendments", tag: "consultations", query: byPatient,
                                          answers: [.init(status: 200, description: "Consultations.", schema: ref("ConsultationList"))] + error)
    static let createConsultation = APIDoc(summary: "Start a consultation note (a draft until signed)", tag: "consultations", body: ref("ConsultationInput"),
                                           answers: [.init(status: 201, description: "Created.", schema: ref("Consultation"))] + error)
    static let readConsultation = APIDoc(summary: "Read a consultation: the original and every amendment", tag: "consultations",
                                         answers: [.init(status: 200, description: "The consultation.", schema: ref("Consultation"))] + error)
    static let updateConsultation = APIDoc(summary: "Change a draft (its author only; parts left out stay, blank clears)", tag: "consultations",
                                           body: ref("NoteInput"),
                                           answers: [.init(status: 200, description: "The draft.", schema: ref("Consultation")), locked] + error)
    static let signConsultation = APIDoc(summary: "Sign a draft (its author only); it is locked from then on", tag: "consultations",
                                         answers: [.init(status: 200, description: "Signed.", schema: ref("Consultation")), locked] + error)
    static let amendConsultation = APIDoc(summary: "Correct a signed consultation; the original stays as signed", tag: "consultations",
                                          body: ref("AmendmentInput"),
                                          answers: [.init(status: 201, description: "The consultation with its amendments.", schema: ref("Consultation")),
                                                    .init(status: 409, description: "Still a draft (`consultation_not_signed`).", schema: ref("Error"))] + error)

    static let listFormulas = APIDoc(summary: "The clinic's formula library", tag: "prescriptions",
                                     answers: [.init(status: 200, description: "Formulas.", schema: ref("FormulaList"))] + error)
    static let createFormula = APIDoc(summary: "Add a formula with default doses", tag: "prescriptions", body: ref("FormulaInput"),
                                      answers: [.init(status: 201, description: "Created.", schema: ref("Formula"))] + error)
    static let readFormula = APIDoc(summary: "Read a formula", tag: "prescriptions",
                                    answers: [.init(status: 200, description: "The formula.", schema: ref("Formula"))] + error)
    static let replaceFormula = APIDoc(summary: "Replace a formula; prescriptions keep the copy they took", tag: "prescriptions", body: ref("FormulaInput"),
                                       answers: [.init(status: 200, description: "The formula.", schema: ref("Formula"))] + error)
    static let listPrescriptions = APIDoc(summary: "Prescriptions, newest first", tag: "prescriptions", query: byPatient,
                                          answers: [.init(status: 200, description: "Prescriptions.", schema: ref("PrescriptionList"))] + error)
    static let createPrescription = APIDoc(summary: "Prescribe medications and/or a formula (copied from the library and adjusted)", tag: "prescriptions",
                                           body: ref("PrescriptionInput"),
                                           answers: [.init(status: 201, description: "Written; it never changes.", schema: ref("Prescription"))] + error)
    static let readPrescription = APIDoc(summary: "Read a prescription", tag: "prescriptions",
                                         answers: [.init(status: 200, description: "The prescription.", schema: ref("Prescription"))] + error)

    static let noteProperties: [(String, JSONValue)] = ["subjective", "objective", "assessment", "plan"].map {
        ($0, ["type": "string", "maxLength": 20000])
    }
    static let herb: JSONValue = ["type": "object", "required": ["herb", "grams"], "properties": [
        "herb": string, "grams": ["type": "number", "exclusiveMinimum": 0, "maximum": 500, "description": "0.1 to 500, to a tenth of a gram"]]]
    static let medication: JSONValue = ["type": "object", "required": ["name", "dose", "route", "frequency", "quantity"], "properties": [
        "name": string, "dose": string, "route": string, "frequency": string,
        "quantity": ["type": "integer", "minimum": 1], "repeats": ["type": "integer", "minimum": 0, "maximum": 12]]]

    static let schemas: JSONValue = [
        "NoteInput": .object([("type", "object"), ("properties", .object(noteProperties))]),
        "ConsultationInput": .object([("type", "object"), ("required", ["patientId"]),
                                      ("properties", .object([("patientId", uuid), ("appointmentId", uuid)] + noteProperties))]),
        "AmendmentInput": .object([("type", "object"), ("required", ["reason"]),
                                   ("properties", .object([("reason", ["type": "string", "maxLength": 1000])] + noteProperties))]),
        "Note": .object([("type", "object"), ("properties", .object(noteProperties))]),
        "Consultation": ["type": "object", "required": ["id", "patientId", "practitionerId", "status", "original", "amendments", "createdAt", "updatedAt"],
                         "properties": [
            "id": uuid, "patientId": uuid, "appointmentId": uuid, "practitionerId": uuid, "status": ["type": "string", "enum": ["draft", "signed"]],
            "original": ref("Note"),
            "amendments": ["type": "array", "items": ["type": "object", "required": ["id", "authorId", "reason", "note", "createdAt"], "properties": [
                "id": uuid, "authorId": uuid, "reason": string, "note": ref("Note"), "createdAt": time]]],
            "createdAt": time, "updatedAt": time, "signedAt": time]],
        "ConsultationList": ["type": "object", "required": ["consultations"], "properties": [
            "consultations": ["type": "array", "items": ref("Consultation")]]],
        "FormulaInput": ["type": "object", "required": ["name", "herbs"], "properties": [
            "name": string, "herbs": ["type": "array", "minItems": 1, "maxItems": 40, "items": herb], "instructions": string]],
        "Formula": ["type": "object", "required": ["id", "name", "herbs", "updatedAt"], "properties": [
            "id": uuid, "name": string, "herbs": ["type": "array", "items": herb], "instructions": string, "updatedAt": time]],
        "FormulaList": ["type": "object", "required": ["formulas"], "properties": ["formulas": ["type": "array", "items": ref("Formula")]]],
        "PrescriptionInput": ["type": "object", "required": ["patientId"], "properties": [
            "patientId": uuid, "consultationId": uuid, "medications": ["type": "array", "maxItems": 20, "items": medication],
            "formulaId": ["type": "string", "format": "uuid", "description": "Copy this library formula; `formula` adjusts it"],
            "formula": ["type": "object", "properties": ["name": string, "herbs": ["type": "array", "items": herb], "instructions": string]]]],
        "Prescription": ["type": "object", "required": ["id", "patientId", "prescriberId", "medications", "createdAt"], "properties": [
            "id": uuid, "patientId": uuid, "consultationId": uuid, "prescriberId": uuid,
            "medications": ["type": "array", "items": medication],
            "formula": ["type": "object", "properties": ["name": string, "herbs": ["type": "array", "items": herb], "instructions": string]],
            "formulaId": uuid, "createdAt": time]],
        "PrescriptionList": ["type": "object", "required": ["prescriptions"], "properties": [
            "prescriptions": ["type": "array", "items": ref("Prescription")]]],
    ]
}
