import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/patients`: demographics, sealed at rest, every access audited.
enum PatientsAPI {
    static func register(_ api: any RoutesBuilder) {
        let patients = api.grouped("clinics", ":clinicId", "patients")
        patients.inClinic(.GET, permission: (.patient, .read), doc: OpenAPIDocs.listPatients, use: list)
        patients.inClinic(.POST, permission: (.patient, .create), doc: OpenAPIDocs.createPatient, use: create)
        patients.inClinic(.GET, ":patientId", permission: (.patient, .read), doc: OpenAPIDocs.readPatient, use: read)
        patients.inClinic(.PATCH, ":patientId", permission: (.patient, .update), doc: OpenAPIDocs.updatePatient, use: update)
        patients.inClinic(.DELETE, ":patientId", permission: (.patient, .delete), doc: OpenAPIDocs.deletePatient, use: delete)
    }

    static func filter(from request: Request, country: CountryCode) throws -> PatientFilter {
        var filter = PatientFilter()
        if let q = try request.queryText("q"), !q.trimmingCharacters(in: .whitespaces).isEmpty { filter.nameQuery = q }
        if let phone = try request.queryText("phone", maximum: 32), !phone.isEmpty { filter.phone = try PhoneNumber(parsing: phone, country: country) }
        if let email = try request.queryText("email", maximum: 254), !email.isEmpty { filter.email = try EmailAddress(parsing: email) }
        filter.paging = try request.paging(.records)
        return filter
    }

    static func patientID(_ request: Request) throws -> PatientID {
        let id = try request.pathID("patientId", as: PatientID.self)
        return id
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> APIShapes.PatientList {
        let records = try await PatientRepository(scope: scope, services: request.services).list(try filter(from: request, country: scope.country))
        return APIShapes.PatientList(patients: records.map(APIShapes.Patient.init))
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let details = try request.decodeBody(PatientSubmission.self).validatedForCreation(country: scope.country)
        let record = try await PatientRepository(scope: scope, services: request.services).create(details)
        let response = Response(status: .created)
        try response.content.encode(APIShapes.Patient(record))
        return response
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Patient {
        APIShapes.Patient(try await PatientRepository(scope: scope, services: request.services).find(try patientID(request)))
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Patient {
        let id = try patientID(request)
        let submission = try request.decodeBody(PatientSubmission.self)
        return APIShapes.Patient(try await PatientRepository(scope: scope, services: request.services).update(id, with: submission))
    }

    static func delete(_ request: Request, scope: ClinicScope) async throws -> HTTPStatus {
        try await PatientRepository(scope: scope, services: request.services).delete(try patientID(request))
        return .noContent
    }
}
