import ClinicDomain
import Foundation
import Vapor

/// The bookkeeper's pages: the clinic's invoices, writing one for a patient's visit, and issuing,
/// settling or voiding it. Only roles the matrix lets read finances reach them, and only they
/// see the chart's invoices or the menu's link.
enum InvoicePages {
    static func register(patients: any RoutesBuilder, clinic: any RoutesBuilder) {
        clinic.inClinic(.GET, "invoices", permission: (.finance, .read), use: list)
        clinic.inClinic(.GET, "invoices", ":invoiceId", permission: (.finance, .read), use: show)
        clinic.inClinic(.POST, "invoices", ":invoiceId", "issue", permission: (.finance, .update), use: issue)
        clinic.inClinic(.POST, "invoices", ":invoiceId", "payments", permission: (.finance, .create), use: pay)
        clinic.inClinic(.POST, "invoices", ":invoiceId", "void", permission: (.finance, .update), use: void)
        patients.inClinic(.GET, ":patientId", "invoices", "new", permission: (.finance, .create), use: newForm)
        patients.inClinic(.POST, ":patientId", "invoices", "new", permission: (.finance, .create), use: create)
    }

    struct Summary: Encodable {
        let id, number, status, patientId, created, total, balance: String

        init(_ record: InvoiceRecord, clock: PageClock) {
            id = record.id.description
            number = record.number.map(String.init) ?? "draft"
            status = record.status.rawValue
            patientId = record.patient.description
            created = clock.time(record.createdAt)
            total = PageFormat.money(record.totals.totalCents)
            balance = PageFormat.money(record.balanceCents)
        }
    }

    struct ListContent: Encodable {
        let invoices: [Summary]
        let statuses: [Choice]
        let empty: Bool
    }

    static func list(_ request: Request, scope: ClinicScope) async throws -> Response {
        var filter = InvoiceFilter(paging: Paging(limit: 200))
        let status = try request.queryText("status", maximum: 20).flatMap { $0.isEmpty ? nil : $0 }
        if let status {
            guard let parsed = InvoiceStatus(rawValue: status) else { throw ClinicError.invalid("status", "Unknown status.") }
            filter.status = parsed
        }
        let records = try await InvoiceRecords(scope: scope, services: request.services).list(filter)
        let clock = PageClock(scope)
        let content = ListContent(invoices: records.map { Summary($0, clock: clock) },
                                  statuses: InvoiceStatus.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: $0.rawValue == status) },
                                  empty: records.isEmpty)
        return try await request.render("invoices", Layout("Invoices", request: request, scope: scope), content)
    }

    // MARK: One invoice

    struct LineView: Encodable { let description, quantity, unit, total, gst: String }
    struct PaymentView: Encodable { let received, amount, method, reference: String }

    struct InvoiceContent: Encodable {
        let id, heading, status, patientId, patientName: String
        let medicareNumber, providerNumber, issuedAt, notes, voidReason: String?
        let lines: [LineView]
        let total, gst, paid, balance: String
        let payments: [PaymentView]
        let canIssue, canPay, canVoid: Bool
        let methods: [Choice]
        let balanceInput: String
        let error: String?
    }

    static func show(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await render(request, scope, id: try request.pathID("invoiceId"))
    }

    static func render(_ request: Request, _ scope: ClinicScope, id: InvoiceID, error: ClinicError? = nil) async throws -> Response {
        let record = try await InvoiceRecords(scope: scope, services: request.services).find(id)
        let patient = try await PatientRepository(scope: scope, services: request.services).find(record.patient)
        let clock = PageClock(scope)
        let content = InvoiceContent(
            id: id.description, heading: record.number.map { "Invoice \($0)" } ?? "Draft invoice", status: record.status.rawValue,
            patientId: record.patient.description, patientName: PageFormat.patientName(patient),
            medicareNumber: patient.details.medicareNumber?.value, providerNumber: record.providerNumber,
            issuedAt: record.issuedAt.map(clock.time), notes: record.notes, voidReason: record.voidReason,
            lines: record.lines.map {
                LineView(description: $0.description, quantity: String($0.quantity), unit: PageFormat.money($0.unitCents),
                         total: PageFormat.money($0.totalCents), gst: $0.gstApplies ? PageFormat.money($0.gstCents) : "GST-free")
            },
            total: PageFormat.money(record.totals.totalCents), gst: PageFormat.money(record.totals.gstCents),
            paid: PageFormat.money(record.paidCents), balance: PageFormat.money(record.balanceCents),
            payments: record.payments.map {
                PaymentView(received: clock.time($0.receivedAt), amount: PageFormat.money($0.amountCents), method: $0.method.rawValue,
                            reference: $0.reference ?? "")
            },
            canIssue: record.status.canIssue && scope.may(.finance, .update),
            canPay: record.status.takesPayments && scope.may(.finance, .create),
            canVoid: record.status.canVoid(paidCents: record.paidCents) && scope.may(.finance, .update),
            methods: PaymentMethod.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: $0 == .eftpos) },
            balanceInput: "\(record.balanceCents / 100).\(String(format: "%02ld", record.balanceCents % 100))",
            error: error?.message)
        return try await request.render("invoice", Layout(content.heading, request: request, scope: scope), content, status: error?.pageStatus ?? .ok)
    }

    static func issue(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: InvoiceID = try request.pathID("invoiceId")
        return try await acting(request, scope, id: id) { try await $0.issue(id) }
    }

    struct PaymentForm: Content { let amount, method, reference: String? }

    static func pay(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: InvoiceID = try request.pathID("invoiceId")
        let form = try request.content.decode(PaymentForm.self)
        return try await acting(request, scope, id: id) { invoices in
            guard let cents = PageFormat.cents(form.amount) else { throw ClinicError.invalid("amountCents", "Give the amount received, such as 95.00.") }
            return try await invoices.pay(id, try PaymentSubmission(amountCents: cents, method: form.method, reference: form.reference))
        }
    }

    struct VoidForm: Content { let reason: String? }

    static func void(_ request: Request, scope: ClinicScope) async throws -> Response {
        let id: InvoiceID = try request.pathID("invoiceId")
        let form = try request.content.decode(VoidForm.self)
        return try await acting(request, scope, id: id) { invoices in
            try await invoices.void(id, reason: try FieldText.required(form.reason, field: "reason", maximum: 500, message: "Say why the invoice is void."))
        }
    }

    /// Runs one step of the invoice's life and shows the invoice again: as it now is, or with
    /// what stopped the step.
    private static func acting(_ request: Request, _ scope: ClinicScope, id: InvoiceID,
                               _ step: (InvoiceRecords) async throws -> InvoiceRecord) async throws -> Response {
        do {
            _ = try await step(InvoiceRecords(scope: scope, services: request.services))
            return request.redirect(to: "/clinics/\(scope.clinic)/invoices/\(id)")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await render(request, scope, id: id, error: error)
        }
    }

    // MARK: Writing one

    /// Text fields as typed, so a refused form comes back exactly as it was sent.
    struct Form: Content {
        var appointmentId: String?
        var appointmentTypeId: String?
        var productId: String?
        var productQuantity: String?
        var description: String?
        var amount: String?
        var gstApplies: String?
        var notes: String?
    }

    struct FormContent: Encodable {
        let action, chartLink, patientName: String
        let appointments, types, products: [Choice]
        let form: Form
        let error: String?
    }

    static func newForm(_ request: Request, scope: ClinicScope) async throws -> Response {
        try await renderForm(request, scope, patient: try PatientsAPI.patientID(request), form: Form())
    }

    static func renderForm(_ request: Request, _ scope: ClinicScope, patient: PatientID, form: Form, error: ClinicError? = nil) async throws -> Response {
        let services = request.services, clock = PageClock(scope)
        let record = try await PatientRepository(scope: scope, services: services).find(patient)
        let types = try await AppointmentTypes(scope: scope, services: services).list(includeInactive: false)
        let typeNames = Dictionary(types.map { ($0.id, $0.kind.name) }, uniquingKeysWith: { first, _ in first })
        // The visits of the last three months and those booked ahead: what is billed, not the oldest on file.
        let visits = try await AppointmentBook(scope: scope, services: services)
            .list(AppointmentFilter(from: Date().addingTimeInterval(-90 * 86_400), patient: patient, paging: Paging(limit: 50)))
        let products = try await ProductCatalogue(scope: scope, services: services).list(includeInactive: false, paging: Paging(limit: 500))
        let base = "/clinics/\(scope.clinic)/patients/\(patient)"
        let content = FormContent(
            action: base + "/invoices/new", chartLink: base + "/chart", patientName: PageFormat.patientName(record),
            appointments: visits.map {
                Choice(value: $0.id.description, label: "\(clock.time(Date(milliseconds: $0.slot.start))) · \(typeNames[$0.type] ?? "")",
                       selected: $0.id.description == form.appointmentId)
            },
            types: types.map {
                Choice(value: $0.id.description, label: "\($0.kind.name) (\($0.kind.priceCents.map(PageFormat.money) ?? "no price"))",
                       selected: $0.id.description == form.appointmentTypeId)
            },
            products: products.map {
                Choice(value: $0.id.description, label: "\($0.details.name) (\(PageFormat.money($0.details.priceCents)))",
                       selected: $0.id.description == form.productId)
            },
            form: form, error: error?.message)
        return try await request.render("invoice-form", Layout("New invoice", request: request, scope: scope), content,
                                        status: error?.pageStatus ?? .ok)
    }

    static func create(_ request: Request, scope: ClinicScope) async throws -> Response {
        let patient = try PatientsAPI.patientID(request)
        let form = try request.content.decode(Form.self)
        do {
            let appointment: AppointmentID? = try BodyValue.optionalID(form.appointmentId, field: "appointmentId")
            var lines: [InvoiceLineSubmission] = []
            // The visit's own type is billed unless another is chosen.
            if let type = form.appointmentTypeId, !type.isEmpty {
                lines.append(InvoiceLineSubmission(appointmentTypeId: type))
            } else if let appointment {
                let visit = try await AppointmentBook(scope: scope, services: request.services).find(appointment)
                lines.append(InvoiceLineSubmission(appointmentTypeId: visit.type.description))
            }
            if let product = form.productId, !product.isEmpty {
                let quantity = try form.productQuantity.flatMap { $0.isEmpty ? nil : $0 }.map { text throws(ClinicError) -> Int in
                    guard let value = Int(text) else { throw ClinicError.invalid("lines[\(lines.count)].quantity", "Give a whole number of items.") }
                    return value
                }
                lines.append(InvoiceLineSubmission(productId: product, quantity: quantity))
            }
            if let description = form.description, !FieldText.isBlank(description) {
                guard let cents = PageFormat.cents(form.amount) else {
                    throw ClinicError.invalid("lines[\(lines.count)].unitCents", "Give the line's amount, such as 33.00.")
                }
                lines.append(InvoiceLineSubmission(description: description, unitCents: cents, gstApplies: form.gstApplies == "on"))
            }
            guard !lines.isEmpty else {
                throw ClinicError.invalid("lines", "Choose the appointment, a service, a product, or write a line of your own.")
            }
            let record = try await InvoiceRecords(scope: scope, services: request.services).create(InvoiceRequest(
                patient: patient, practitioner: nil, appointment: .some(appointment), lines: lines,
                notes: .some(form.notes.flatMap { FieldText.isBlank($0) ? nil : $0 })))
            return request.redirect(to: "/clinics/\(scope.clinic)/invoices/\(record.id)")
        } catch let error as ClinicError where error.belongsOnForm {
            return try await renderForm(request, scope, patient: patient, form: form, error: error)
        }
    }
}
