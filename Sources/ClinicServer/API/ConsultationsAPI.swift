import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/consultations`: notes written, signed, then only amended.
enum ConsultationsAPI {
    static func register(_ api: any RoutesBuilder) {
        let consultations = api.grouped("clinics", ":clinicId", "consultations")
        consultations.inClinic(.GET, permission: (.clinicalNote, .read), doc: ClinicalDocs.listConsultations, use: list)
        consultations.inClinic(.POST, permission: (.clinicalNote, .create), doc: ClinicalDocs.createConsultation, use: create)
        consultations.inClinic(.GET, ":consultationId", permission: (.clinicalNote, .read), doc: ClinicalDocs.readConsultation, use: read)
        consultations.inClinic(.PATCH, ":consultationId", permission: (.clinicalNote, .update), doc: ClinicalDocs.updateConsultation, use: update)
        consultations.inClinic(.POST, ":consultationId", "sign", permission: (.clinicalNote, .update), doc: ClinicalDocs.signConsultation, use: sign)
        consultations.inClinic(.POST, ":consultationId", "amendments", permission: (.clinicalNote, .update), doc: ClinicalDocs.amendConsultation,
                               use: amend)
    }

    struct NoteInput: Decodable {
        let patientId: String?
        let appointmentId: String?
        let subjective: String?
        let objective: String?
        let assessment: String?
        let plan: String?
        let reason: String?
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> APIShapes.ConsultationList {
        let records = try await ConsultationRecords(scope: scope, services: request.services)
            .list(patient: try request.queryID("patientId"), paging: try request.paging(.records))
        return APIShapes.ConsultationList(consultations: records.map(APIShapes.Consultation.init))
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let input = try request.decodeBody(NoteInput.self)
        let patient: PatientID = try BodyValue.id(input.patientId, field: "patientId")
        let appointment: AppointmentID? = try BodyValue.optionalID(input.appointmentId, field: "appointmentId")
        let note = try ConsultationNote.validated(subjective: input.subjective, objective: input.objective,
                                                  assessment: input.assessment, plan: input.plan)
        let record = try await ConsultationRecords(scope: scope, services: request.services).create(patient: patient, appointment: appointment, note: note)
        return try AppointmentsAPI.created(APIShapes.Consultation(record))
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Consultation {
        APIShapes.Consultation(try await ConsultationRecords(scope: scope, services: request.services).find(try request.pathID("consultationId")))
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Consultation {
        let id: ConsultationID = try request.pathID("consultationId")
        let input = try request.decodeBody(NoteInput.self)
        let record = try await ConsultationRecords(scope: scope, services: request.services).revise(id) { note in
            try note.applying(subjective: input.subjective, objective: input.objective, assessment: input.assessment, plan: input.plan)
        }
        return APIShapes.Consultation(record)
    }

    static func sign(_ request: Request, scope: ClinicScope) async throws -> APIShapes.Consultation {
        APIShapes.Consultation(try await ConsultationRecords(scope: scope, services: request.services).sign(try request.pathID("consultationId")))
    }

    static func amend(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: ConsultationID = try request.pathID("consultationId")
        let input = try request.decodeBody(NoteInput.self)
        let amendment = try Amendment.validated(reason: input.reason, subjective: input.subjective, objective: input.objective,
                                                assessment: input.assessment, plan: input.plan)
        let record = try await ConsultationRecords(scope: scope, services: request.services).amend(id, with: amendment)
        return try AppointmentsAPI.created(APIShapes.Consultation(record))
    }
}

extension APIShapes {
    struct Note: Content {
        let subjective: String?
        let objective: String?
        let assessment: String?
        let plan: String?

        init(_ note: ConsultationNote) {
            subjective = note.subjective
            objective = note.objective
            assessment = note.assessment
            plan = note.plan
        }
    }

    struct Amendment: Content {
        let id: String
        let authorId: String
        let reason: String
        let note: Note
        let createdAt: String
    }

    struct Consultation: Content {
        let id: String
        let patientId: String
        let appointmentId: String?
        let practitionerId: String
        let status: String
        /// The note as written and signed; amendments never change it.
        let original: Note
        let amendments: [Amendment]
        let createdAt: String
        let updatedAt: String
        let signedAt: String?

        init(_ record: ConsultationRecord) {
            id = record.id.description
            patientId = record.patient.description
            appointmentId = record.appointment?.description
            practitionerId = record.practitioner.description
            status = record.state.rawValue
            original = Note(record.note)
            amendments = record.amendments.map {
                Amendment(id: $0.id.description, authorId: $0.author.description, reason: $0.reason, note: Note($0.note),
                          createdAt: Timestamp.string($0.createdAt))
            }
            createdAt = Timestamp.string(record.createdAt)
            updatedAt = Timestamp.string(record.updatedAt)
            signedAt = record.signedAt.map(Timestamp.string)
        }
    }

    struct ConsultationList: Content { let consultations: [Consultation] }
}
