import ClinicDomain
import Vapor

enum PatientPages {
    struct Row: Encodable { let id, givenName, familyName: String; let birthDate, phone: String? }

    struct ListContent: Encodable {
        let patients: [Row]
        let q: String?
        let phone: String?
        let empty: Bool
        let canCreate: Bool
        var error: String?
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> Response {
        let layout = Layout("Patients", request: request, scope: scope)
        let q = try? request.queryText("q"), phone = try? request.queryText("phone", maximum: 32)
        let canCreate = PermissionMatrix.standard.allows(scope.roles, .patient, .create)
        do {
            let records = try await PatientRepository(scope: scope, services: request.services)
                .list(try PatientsAPI.filter(from: request, country: scope.country))
            let rows = records.map { Row(id: $0.id.description, givenName: $0.details.givenName, familyName: $0.details.familyName,
                                         birthDate: $0.details.birthDate?.description, phone: $0.details.phone?.e164) }
            return try await request.render("patients", layout, ListContent(patients: rows, q: q ?? nil, phone: phone ?? nil, empty: rows.isEmpty, canCreate: canCreate))
        } catch let error as ClinicError where error.status == 400 {
            return try await request.render("patients", layout, ListContent(patients: [], q: q ?? nil, phone: phone ?? nil, empty: false,
                                                                            canCreate: canCreate, error: error.message), status: .badRequest)
        }
    }

    struct FormContent: Encodable {
        let heading: String
        let action: String
        let deleteAction: String?
        let form: PatientSubmission
        var error: String?
        var chartLink: String?
    }

    static func newForm(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await request.render("patient-form", Layout("New patient", request: request, scope: scope),
                                 FormContent(heading: "New patient", action: "/clinics/\(scope.clinic)/patients", deleteAction: nil, form: PatientSubmission()))
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let submission = try request.content.decode(PatientSubmission.self)
        do {
            let record = try await PatientRepository(scope: scope, services: request.services)
                .create(try submission.validatedForCreation(country: scope.country))
            return request.redirect(to: "/clinics/\(scope.clinic)/patients/\(record.id)")
        } catch let error as ClinicError where error.status == 400 {
            return try await request.render("patient-form", Layout("New patient", request: request, scope: scope),
                                            FormContent(heading: "New patient", action: "/clinics/\(scope.clinic)/patients", deleteAction: nil,
                                                        form: submission, error: error.message), status: .badRequest)
        }
    }

    static func submission(_ record: PatientRecord) -> PatientSubmission {
        PatientSubmission(givenName: record.details.givenName, familyName: record.details.familyName, birthDate: record.details.birthDate?.description,
                          phone: record.details.phone?.e164, email: record.details.email?.value, address: record.details.address,
                          medicareNumber: record.details.medicareNumber?.value, sex: record.details.sex?.rawValue,
                          postcode: record.details.postcode?.value)
    }

    static func formContent(_ scope: ClinicScope, id: PatientID, form: PatientSubmission, error: String? = nil) -> FormContent {
        let path = "/clinics/\(scope.clinic)/patients/\(id)"
        let canDelete = PermissionMatrix.standard.allows(scope.roles, .patient, .delete)
        return FormContent(heading: "\(form.familyName ?? ""), \(form.givenName ?? "")", action: path,
                           deleteAction: canDelete ? path + "/delete" : nil, form: form, error: error,
                           chartLink: path + "/chart")
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id = try PatientsAPI.patientID(request)
        let record = try await PatientRepository(scope: scope, services: request.services).find(id)
        return try await request.render("patient-form", Layout("Patient", request: request, scope: scope),
                                        formContent(scope, id: id, form: submission(record)))
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id = try PatientsAPI.patientID(request)
        let submission = try request.content.decode(PatientSubmission.self)
        do {
            _ = try await PatientRepository(scope: scope, services: request.services).update(id, with: submission)
            return request.redirect(to: "/clinics/\(scope.clinic)/patients/\(id)")
        } catch let error as ClinicError where error.status == 400 {
            return try await request.render("patient-form", Layout("Patient", request: request, scope: scope),
                                            formContent(scope, id: id, form: submission, error: error.message), status: .badRequest)
        }
    }

    static func delete(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await PatientRepository(scope: scope, services: request.services).delete(try PatientsAPI.patientID(request))
        return request.redirect(to: "/clinics/\(scope.clinic)/patients")
    }
}
