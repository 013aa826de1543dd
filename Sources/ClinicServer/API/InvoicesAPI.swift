import ClinicDomain
import Foundation
import Vapor

/// `/api/v1/clinics/{clinicId}/invoices`: invoices from draft to issued, paid or void, and the
/// payments against them. Owners and bookkeepers only (the matrix's `finance`): clinical staff
/// and the front desk never see what the clinic earns.
enum InvoicesAPI {
    static func register(_ api: any RoutesBuilder) {
        let invoices = api.grouped("clinics", ":clinicId", "invoices")
        invoices.inClinic(.GET, permission: (.finance, .read), doc: InvoiceDocs.list, use: list)
        invoices.inClinic(.POST, permission: (.finance, .create), doc: InvoiceDocs.create, use: create)
        invoices.inClinic(.GET, ":invoiceId", permission: (.finance, .read), doc: InvoiceDocs.read, use: read)
        invoices.inClinic(.PATCH, ":invoiceId", permission: (.finance, .update), doc: InvoiceDocs.update, use: update)
        invoices.inClinic(.POST, ":invoiceId", "issue", permission: (.finance, .update), doc: InvoiceDocs.issue, use: issue)
        invoices.inClinic(.POST, ":invoiceId", "void", permission: (.finance, .update), doc: InvoiceDocs.void, use: void)
        invoices.inClinic(.POST, ":invoiceId", "payments", permission: (.finance, .create), doc: InvoiceDocs.pay, use: pay)
    }

    struct Line: Content {
        let description: String
        let quantity, unitCents, totalCents, gstCents: Int
        let gstApplies: Bool
        let appointmentTypeId, productId: String?

        init(_ line: InvoiceLine) {
            description = line.description
            quantity = line.quantity
            unitCents = line.unitCents
            totalCents = line.totalCents
            gstCents = line.gstCents
            gstApplies = line.gstApplies
            appointmentTypeId = line.appointmentTypeId
            productId = line.productId
        }
    }

    struct Payment: Content {
        let id: String
        let amountCents: Int
        let method: String
        let reference: String?
        let recordedBy: String
        let receivedAt: String
    }

    struct Invoice: Content {
        let id: String
        let number: Int?
        let status: String
        let patientId: String
        let practitionerId, appointmentId, providerNumber: String?
        let lines: [Line]
        let totalCents, gstCents, paidCents, balanceCents: Int
        let notes, voidReason: String?
        let issuedAt: String?
        let createdAt, updatedAt: String
        let payments: [Payment]

        init(_ record: InvoiceRecord) {
            id = record.id.description
            number = record.number
            status = record.status.rawValue
            patientId = record.patient.description
            practitionerId = record.practitioner?.description
            appointmentId = record.appointment?.description
            providerNumber = record.providerNumber
            lines = record.lines.map(Line.init)
            totalCents = record.totals.totalCents
            gstCents = record.totals.gstCents
            paidCents = record.paidCents
            balanceCents = record.balanceCents
            notes = record.notes
            voidReason = record.voidReason
            issuedAt = record.issuedAt.map(Timestamp.string)
            createdAt = Timestamp.string(record.createdAt)
            updatedAt = Timestamp.string(record.updatedAt)
            payments = record.payments.map {
                Payment(id: $0.id.uuidString.lowercased(), amountCents: $0.amountCents, method: $0.method.rawValue, reference: $0.reference,
                        recordedBy: $0.recordedBy.description, receivedAt: Timestamp.string($0.receivedAt))
            }
        }
    }

    struct InvoiceList: Content { let invoices: [Invoice] }

    /// For a change an empty `practitionerId`, `appointmentId` or `notes` clears it.
    struct InvoiceInput: Decodable {
        let patientId, practitionerId, appointmentId, notes: String?
        let lines: [InvoiceLineSubmission]?

        func request() throws -> InvoiceRequest {
            InvoiceRequest(patient: try BodyValue.optionalID(patientId, field: "patientId"),
                           practitioner: try practitionerId.map { try BodyValue.optionalID($0, field: "practitionerId") },
                           appointment: try appointmentId.map { try BodyValue.optionalID($0, field: "appointmentId") },
                           lines: lines, notes: notes.map { FieldText.isBlank($0) ? nil : $0 })
        }
    }

    struct PaymentInput: Decodable { let amountCents: Int?; let method, reference: String? }
    struct VoidInput: Decodable { let reason: String? }

    static func invoiceID(_ request: Request) throws -> InvoiceID { try request.pathID("invoiceId") }

    static func list(_ request: Request, scope: ClinicScope) async throws -> InvoiceList {
        var filter = InvoiceFilter()
        filter.patient = try BodyValue.optionalID(try request.queryText("patientId", maximum: 40), field: "patientId")
        if let status = try request.queryText("status", maximum: 20) {
            guard let parsed = InvoiceStatus(rawValue: status) else {
                throw ClinicError.invalid("status", "Use one of: " + InvoiceStatus.allCases.map(\.rawValue).joined(separator: ", ") + ".")
            }
            filter.status = parsed
        }
        filter.paging = try request.paging(.registers)
        return InvoiceList(invoices: try await InvoiceRecords(scope: scope, services: request.services).list(filter).map(Invoice.init))
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let input = try request.decodeBody(InvoiceInput.self).request()
        return try AppointmentsAPI.created(Invoice(try await InvoiceRecords(scope: scope, services: request.services).create(input)))
    }

    static func read(_ request: Request, scope: ClinicScope) async throws -> Invoice {
        Invoice(try await InvoiceRecords(scope: scope, services: request.services).find(try invoiceID(request)))
    }

    static func update(_ request: Request, scope: ClinicScope) async throws -> Invoice {
        let id = try invoiceID(request)
        let input = try request.decodeBody(InvoiceInput.self).request()
        return Invoice(try await InvoiceRecords(scope: scope, services: request.services).update(id, with: input))
    }

    static func issue(_ request: Request, scope: ClinicScope) async throws -> Invoice {
        Invoice(try await InvoiceRecords(scope: scope, services: request.services).issue(try invoiceID(request)))
    }

    static func void(_ request: Request, scope: ClinicScope) async throws -> Invoice {
        let id = try invoiceID(request)
        let reason = try FieldText.required(try request.decodeBody(VoidInput.self).reason, field: "reason", maximum: 500,
                                            message: "Say why the invoice is void.")
        return Invoice(try await InvoiceRecords(scope: scope, services: request.services).void(id, reason: reason))
    }

    static func pay(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id = try invoiceID(request)
        let input = try request.decodeBody(PaymentInput.self)
        let payment = try PaymentSubmission(amountCents: input.amountCents, method: input.method, reference: input.reference)
        return try AppointmentsAPI.created(Invoice(try await InvoiceRecords(scope: scope, services: request.services).pay(id, payment)))
    }
}
