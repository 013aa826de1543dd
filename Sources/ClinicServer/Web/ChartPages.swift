import ClinicDomain
import Foundation
import Vapor

/// A patient's chart: demographics for anyone who may read patients, the diary for those who
/// may read it, and clinical records only for roles the matrix lets read clinical notes. A
/// repository a role may not use is never called, so nothing it holds reaches the page.
enum ChartPages {
    struct Visit: Encodable { let when, status, type: String }

    struct AmendmentView: Encodable { let author, reason, createdAt: String; let note: NoteView }

    struct ConsultationView: Encodable {
        let id, createdAt, status: String
        let note: NoteView
        let amendments: [AmendmentView]
    }

    struct PrescriptionView: Encodable { let id, createdAt, summary: String }

    static func channelName(_ channel: MessageChannel) -> String {
        switch channel {
        case .email: return "e-mail"
        case .sms: return "SMS"
        case .whatsapp: return "WhatsApp"
        }
    }

    struct MessageLine: Encodable {
        let when, kind, channel, status: String
        let reason: String?
    }

    struct ChartContent: Encodable {
        let patientId, name: String
        let birthDate, phone, email, address, medicareNumber, sex, postcode: String?
        let showAppointments: Bool
        let appointments: [Visit]
        /// The latest messages to the patient: what went, how, and whether it arrived.
        let messages: [MessageLine]
        let hasMessages: Bool
        let showClinical: Bool
        /// Case-based access: this practitioner is not involved with the patient; the chart
        /// shows the details and asks for a reason before it shows the record.
        let needsBreakGlass: Bool
        let breakGlassError: String?
        let canWrite: Bool
        let consultations: [ConsultationView]
        let prescriptions: [PrescriptionView]
        /// Owners and admins see who accessed this record.
        let canAudit: Bool
        /// Owners and bookkeepers see what the patient was billed; nobody else's chart reads invoices.
        let showInvoices: Bool
        let canInvoice: Bool
        let invoices: [InvoicePages.Summary]
    }

    static func consultationView(_ record: ConsultationRecord, clock: PageClock) -> ConsultationView {
        ConsultationView(id: record.id.description, createdAt: clock.time(record.createdAt), status: record.state.rawValue,
                         note: NoteView(record.note), amendments: record.amendments.map { amendmentView($0, clock: clock) })
    }

    static func amendmentView(_ record: AmendmentRecord, clock: PageClock) -> AmendmentView {
        AmendmentView(author: record.author.description, reason: record.reason, createdAt: clock.time(record.createdAt),
                      note: NoteView(record.note))
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await render(request, scope: scope)
    }

    struct BreakGlassForm: Content { let reason: String? }

    /// Breaking the glass from the chart: the reason is checked, the grant opened and recorded,
    /// and the chart shown again, now with the record.
    static func breakGlass(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id = try PatientsAPI.patientID(request)
        let form = try request.content.decode(BreakGlassForm.self)
        do {
            _ = try await BreakGlass(scope: scope, services: request.services).open(patient: id, reason: try CaseAccess.validatedReason(form.reason))
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope: scope, breakGlassError: error)
        }
        return request.redirect(to: "/clinics/\(scope.clinic)/patients/\(id)/chart")
    }

    static func render(_ request: Request, scope: ClinicScope, breakGlassError error: ClinicError? = nil) async throws -> Response {
        let breakGlassError = error?.message
        let id = try PatientsAPI.patientID(request)
        let services = request.services, clock = PageClock(scope)
        let patient = try await PatientRepository(scope: scope, services: services).find(id)
        var visits: [Visit] = []
        if scope.may(.schedule, .read) {
            let types = scope.may(.catalogue, .read) ? try await AppointmentTypes(scope: scope, services: services).list(includeInactive: true) : []
            let typeNames = Dictionary(types.map { ($0.id, $0.kind.name) }, uniquingKeysWith: { first, _ in first })
            visits = try await AppointmentBook(scope: scope, services: services).list(AppointmentFilter(patient: id)).map {
                Visit(when: clock.time(Date(milliseconds: $0.slot.start)), status: $0.status.rawValue.replacingOccurrences(of: "_", with: " "),
                      type: typeNames[$0.type] ?? "")
            }
        }
        let sent = try await PatientMessages.list(for: id, scope: scope, services: services).prefix(20).map {
            MessageLine(when: clock.time($0.sentAt ?? $0.createdAt), kind: $0.kind.rawValue.replacingOccurrences(of: "-", with: " "),
                        channel: Self.channelName($0.channel),
                        status: $0.status.rawValue, reason: $0.failureReason)
        }
        var showClinical = scope.may(.clinicalNote, .read), needsBreakGlass = false
        var consultations: [ConsultationView] = [], prescriptions: [PrescriptionView] = []
        if showClinical {
            do {
                consultations = try await ConsultationRecords(scope: scope, services: services).list(patient: id, paging: Paging(limit: 50))
                    .map { consultationView($0, clock: clock) }
                prescriptions = try await PrescriptionRecords(scope: scope, services: services).list(patient: id, paging: Paging(limit: 50)).map {
                    PrescriptionView(id: $0.id.description, createdAt: clock.time($0.createdAt), summary: PrescriptionPages.summary($0.content))
                }
            } catch let error as ClinicError where error.code == ClinicError.breakGlassRequired.code {
                showClinical = false
                needsBreakGlass = true
            }
        }
        let showInvoices = scope.may(.finance, .read)
        let invoices = showInvoices
            ? try await InvoiceRecords(scope: scope, services: services).list(InvoiceFilter(patient: id, paging: Paging(limit: 50))).map { InvoicePages.Summary($0, clock: clock) } : []
        let details = patient.details
        let content = ChartContent(
            patientId: id.description, name: PageFormat.patientName(patient), birthDate: details.birthDate?.description,
            phone: details.phone?.e164, email: details.email?.value, address: details.address, medicareNumber: details.medicareNumber?.value,
            sex: details.sex?.rawValue, postcode: details.postcode?.value,
            showAppointments: scope.may(.schedule, .read), appointments: visits, messages: Array(sent), hasMessages: !sent.isEmpty, showClinical: showClinical,
            needsBreakGlass: needsBreakGlass, breakGlassError: breakGlassError, canWrite: scope.may(.clinicalNote, .create), consultations: consultations, prescriptions: prescriptions,
            canAudit: scope.may(.auditLog, .read), showInvoices: showInvoices, canInvoice: scope.may(.finance, .create), invoices: invoices)
        return try await request.render("chart", Layout("Chart", request: request, scope: scope), content, status: error?.pageStatus ?? .ok)
    }
}
