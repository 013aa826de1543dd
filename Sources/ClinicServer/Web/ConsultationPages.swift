import ClinicDomain
import Foundation
import Vapor

/// Writing a consultation: a draft its author edits, then signs; after that only amendments,
/// shown beside the original, which never changes.
enum ConsultationPages {
    static func register(patients: any RoutesBuilder, clinic: any RoutesBuilder) {
        patients.inClinic(.GET, ":patientId", "consultations", "new", permission: (.clinicalNote, .create), use: newForm)
        patients.inClinic(.POST, ":patientId", "consultations", "new", permission: (.clinicalNote, .create), use: create)
        let consultations = clinic.grouped("consultations")
        consultations.inClinic(.GET, ":consultationId", permission: (.clinicalNote, .read), use: show)
        consultations.inClinic(.POST, ":consultationId", permission: (.clinicalNote, .update), use: revise)
        consultations.inClinic(.POST, ":consultationId", "sign", permission: (.clinicalNote, .update), use: sign)
        consultations.inClinic(.POST, ":consultationId", "amendments", permission: (.clinicalNote, .update), use: amend)
    }

    struct NoteForm: Content {
        var subjective: String?
        var objective: String?
        var assessment: String?
        var plan: String?
        var reason: String?

        init(subjective: String? = nil, objective: String? = nil, assessment: String? = nil, plan: String? = nil, reason: String? = nil) {
            (self.subjective, self.objective, self.assessment, self.plan, self.reason) = (subjective, objective, assessment, plan, reason)
        }

        init(_ note: ConsultationNote) {
            self.init(subjective: note.subjective, objective: note.objective, assessment: note.assessment, plan: note.plan)
        }

        func note() throws -> ConsultationNote {
            try ConsultationNote.validated(subjective: subjective, objective: objective, assessment: assessment, plan: plan)
        }
    }

    struct NewContent: Encodable {
        let action, chartLink: String
        let form: NoteForm
        let error: String?
    }

    static func newForm(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await renderNew(request, scope, patient: try PatientsAPI.patientID(request), form: NoteForm())
    }

    static func renderNew(_ request: Request, _ scope: ClinicScope, patient: PatientID, form: NoteForm, error: ClinicError? = nil) async throws -> Response {
        let base = "/clinics/\(scope.clinic)/patients/\(patient)"
        return try await request.render("consultation-new", Layout("New consultation", request: request, scope: scope),
                                        NewContent(action: base + "/consultations/new", chartLink: base + "/chart", form: form, error: error?.message),
                                        status: error?.pageStatus ?? .ok)
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let patient = try PatientsAPI.patientID(request)
        let form = try request.content.decode(NoteForm.self)
        do {
            let record = try await ConsultationRecords(scope: scope, services: request.services)
                .create(patient: patient, appointment: nil, note: try form.note())
            return request.redirect(to: "/clinics/\(scope.clinic)/consultations/\(record.id)")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await renderNew(request, scope, patient: patient, form: form, error: error)
        }
    }

    struct ShowContent: Encodable {
        let id, chartLink, status, createdAt, author: String
        let signedAt: String?
        let original: NoteView
        let amendments: [ChartPages.AmendmentView]
        let canEdit: Bool
        let canAmend: Bool
        let draft: NoteForm
        let amendment: NoteForm
        let error: String?
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await render(request, scope, id: try request.pathID("consultationId"))
    }

    /// Re-reads the record for every render, so a page after a refused change shows what is stored, not what was sent.
    static func render(_ request: Request, _ scope: ClinicScope, id: ConsultationID, draft: NoteForm? = nil, amendment: NoteForm? = nil,
                       error: ClinicError? = nil) async throws -> Response {
        let record = try await ConsultationRecords(scope: scope, services: request.services).find(id)
        // The repository refuses others too; this only spares them a form they cannot use.
        let isAuthor = record.practitioner == scope.actor, clock = PageClock(scope)
        let content = ShowContent(
            id: id.description, chartLink: "/clinics/\(scope.clinic)/patients/\(record.patient)/chart", status: record.state.rawValue,
            createdAt: clock.time(record.createdAt), author: isAuthor ? "you" : record.practitioner.description,
            signedAt: record.signedAt.map(clock.time), original: NoteView(record.note), amendments: record.amendments.map { ChartPages.amendmentView($0, clock: clock) },
            canEdit: record.state == .draft && isAuthor && scope.may(.clinicalNote, .update),
            canAmend: record.state == .signed && scope.may(.clinicalNote, .update),
            draft: draft ?? NoteForm(record.note), amendment: amendment ?? NoteForm(), error: error?.message)
        return try await request.render("consultation", Layout("Consultation", request: request, scope: scope), content,
                                        status: error?.pageStatus ?? .ok)
    }

    static func revise(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: ConsultationID = try request.pathID("consultationId")
        let form = try request.content.decode(NoteForm.self)
        do {
            let note = try form.note()
            // Every part is on the form, so a blank one is meant to be cleared.
            _ = try await ConsultationRecords(scope: scope, services: request.services).revise(id) { _ in note }
            return request.redirect(to: "/clinics/\(scope.clinic)/consultations/\(id)")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, id: id, draft: form, error: error)
        }
    }

    static func sign(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: ConsultationID = try request.pathID("consultationId")
        do {
            _ = try await ConsultationRecords(scope: scope, services: request.services).sign(id)
            return request.redirect(to: "/clinics/\(scope.clinic)/consultations/\(id)")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, id: id, error: error)
        }
    }

    static func amend(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: ConsultationID = try request.pathID("consultationId")
        let form = try request.content.decode(NoteForm.self)
        do {
            let amendment = try Amendment.validated(reason: form.reason, subjective: form.subjective, objective: form.objective,
                                                    assessment: form.assessment, plan: form.plan)
            _ = try await ConsultationRecords(scope: scope, services: request.services).amend(id, with: amendment)
            return request.redirect(to: "/clinics/\(scope.clinic)/consultations/\(id)")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, id: id, amendment: form, error: error)
        }
    }
}
