import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/formulas` (the library) and `/prescriptions` (written once).
enum PrescriptionsAPI {
    static func register(_ api: any RoutesBuilder) {
        let formulas = api.grouped("clinics", ":clinicId", "formulas")
        formulas.inClinic(.GET, permission: (.formulary, .read), doc: ClinicalDocs.listFormulas, use: listFormulas)
        formulas.inClinic(.POST, permission: (.formulary, .create), doc: ClinicalDocs.createFormula, use: createFormula)
        formulas.inClinic(.GET, ":formulaId", permission: (.formulary, .read), doc: ClinicalDocs.readFormula, use: readFormula)
        formulas.inClinic(.PUT, ":formulaId", permission: (.formulary, .update), doc: ClinicalDocs.replaceFormula, use: replaceFormula)

        let prescriptions = api.grouped("clinics", ":clinicId", "prescriptions")
        prescriptions.inClinic(.GET, permission: (.clinicalNote, .read), doc: ClinicalDocs.listPrescriptions, use: list)
        prescriptions.inClinic(.POST, permission: (.clinicalNote, .create), doc: ClinicalDocs.createPrescription, use: create)
        prescriptions.inClinic(.GET, ":prescriptionId", permission: (.clinicalNote, .read), doc: ClinicalDocs.readPrescription, use: read)
    }

    struct PrescriptionInput: Decodable {
        let patientId: String?
        let consultationId: String?
        let medications: [MedicationSubmission]?
        let formulaId: String?
        let formula: FormulaSubmission?
    }

    static func listFormulas(_ request: Request, scope: ClinicScope) async throws -> APIShapes.FormulaList {
        APIShapes.FormulaList(formulas: try await Formulary(scope: scope, services: request.services).list().map(APIShapes.Formula.init))
    }

    static func createFormula(_ request: Request, scope: ClinicScope) async throws -> Response {
        let formula = try request.decodeBody(FormulaSubmission.self).validated()
        return try AppointmentsAPI.created(APIShapes.Formula(try await Formulary(scope: scope, services: request.services).create(formula)))
    }

    static func readFormula(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Formula {
        APIShapes.Formula(try await Formulary(scope: scope, services: request.services).find(try request.pathID("formulaId")))
    }

    static func replaceFormula(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Formula {
        let id: FormulaID = try request.pathID("formulaId")
        let formula = try request.decodeBody(FormulaSubmission.self).validated()
        return APIShapes.Formula(try await Formulary(scope: scope, services: request.services).replace(id, with: formula))
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> APIShapes.PrescriptionList {
        let records = try await PrescriptionRecords(scope: scope, services: request.services)
            .list(patient: try request.queryID("patientId"), paging: try request.paging(.records))
        return APIShapes.PrescriptionList(prescriptions: records.map(APIShapes.Prescription.init))
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let input = try request.decodeBody(PrescriptionInput.self)
        let prescription = PrescriptionRequest(patient: try BodyValue.id(input.patientId, field: "patientId"),
                                               consultation: try BodyValue.optionalID(input.consultationId, field: "consultationId"),
                                               medications: input.medications,
                                               formulaSource: try BodyValue.optionalID(input.formulaId, field: "formulaId"),
                                               formula: input.formula)
        let record = try await PrescriptionRecords(scope: scope, services: request.services).create(prescription)
        return try AppointmentsAPI.created(APIShapes.Prescription(record))
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Prescription {
        APIShapes.Prescription(try await PrescriptionRecords(scope: scope, services: request.services).find(try request.pathID("prescriptionId")))
    }
}

extension APIShapes {
    struct Formula: Content {
        let id: String
        let name: String
        let herbs: [HerbDose]
        let instructions: String?
        let updatedAt: String

        init(_ record: FormulaRecord) {
            id = record.id.description
            name = record.formula.name
            herbs = record.formula.herbs
            instructions = record.formula.instructions
            updatedAt = Timestamp.string(record.updatedAt)
        }
    }

    struct FormulaList: Content { let formulas: [Formula] }

    struct Prescription: Content {
        let id: String
        let patientId: String
        let consultationId: String?
        let prescriberId: String
        let medications: [Medication]
        let formula: HerbalFormula?
        let formulaId: String?
        let createdAt: String

        init(_ record: PrescriptionRecord) {
            id = record.id.description
            patientId = record.patient.description
            consultationId = record.consultation?.description
            prescriberId = record.prescriber.description
            medications = record.content.medications
            formula = record.content.formula
            formulaId = record.content.formulaSource
            createdAt = Timestamp.string(record.createdAt)
        }
    }

    struct PrescriptionList: Content { let prescriptions: [Prescription] }
}
