import ClinicDomain
import Foundation
import Keyring
import SQLKit

struct PaymentRecord: Sendable {
    let id: UUID
    let amountCents: Int
    let method: PaymentMethod
    let reference: String?
    let recordedBy: UserID
    let receivedAt: Date
}

struct InvoiceRecord: Sendable {
    let id: InvoiceID
    let patient: PatientID
    let practitioner: UserID?
    let appointment: AppointmentID?
    let number: Int?
    let status: InvoiceStatus
    let lines: [InvoiceLine]
    let notes: String?
    let voidReason: String?
    /// The practitioner's provider number as it was when the invoice was issued.
    let providerNumber: String?
    let totals: InvoiceTotals
    let paidCents: Int
    let issuedAt: Date?
    let createdAt: Date
    let updatedAt: Date
    var payments: [PaymentRecord]

    var balanceCents: Int { status == .void ? 0 : totals.totalCents - paidCents }
}

/// A new invoice or a draft's change: what the client named, before the catalogue is consulted.
struct InvoiceRequest: Sendable {
    var patient: PatientID?
    /// nil leaves a draft's practitioner as it is; `.some(nil)` clears it.
    var practitioner: UserID??
    var appointment: AppointmentID??
    var lines: [InvoiceLineSubmission]?
    var notes: String??
}

struct InvoiceFilter: Sendable {
    var patient: PatientID?
    var status: InvoiceStatus?
    var paging = Paging(limit: PageSizes.registers.standard)
}

/// The only way to a clinic's invoices and payments. An invoice names a patient and what was
/// done for them, so its lines, notes and a void's reason are sealed to the row, and every read
/// and list is in the clinic's audit chain naming the patients shown. Amounts stay in the clear.
///
/// A draft changes freely; issuing gives it the clinic's next number and fixes it for good: every
/// later statement is guarded on the status it expects, so two people acting at once cannot both
/// succeed, and a payment can never take the total paid past the total.
struct InvoiceRecords: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "invoices"
    static let paymentsTable = "payments"
    static let sealedColumns = ["lines", "notes", "void_reason"]
    private static let columns = """
        id, patient_id, practitioner_id, appointment_id, number, status, lines, notes, void_reason, provider_number,
        total_cents, gst_cents, paid_cents, issued_at_ms, created_at_ms, updated_at_ms
        """

    func create(_ request: InvoiceRequest) async throws -> InvoiceRecord {
        guard let patient = request.patient else { throw ClinicError.invalid("patientId", "Name the patient this invoice is for.", code: "required") }
        guard let submitted = request.lines else { throw ClinicError.invalid("lines", "Give at least one line.", code: "required") }
        let scope = self.scope, keyring = services.keyring
        let id = InvoiceID.random(), now = Date().milliseconds
        return try await services.store.transaction(realm: scope.realm) { tx in
            try await ClinicReferences.requirePatient(patient, clinic: scope.realm, in: tx)
            let appointment = request.appointment ?? nil
            let seen = try await Self.checkPeople(practitioner: request.practitioner ?? nil, appointment: appointment, patient: patient,
                                                  clinic: scope.realm, in: tx)
            // An invoice for an appointment is the appointment's practitioner's unless it names another.
            let practitioner = request.practitioner ?? seen
            let lines = try await Self.resolve(submitted, clinic: scope.realm, in: tx)
            let notes = try FieldText.optional(request.notes ?? nil, field: "notes", maximum: 2000) ?? nil
            let totals = InvoiceTotals(lines)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            try await tx.sql.raw("""
                INSERT INTO invoices (id, clinic_id, patient_id, practitioner_id, appointment_id, status, lines, notes,
                                      total_cents, gst_cents, paid_cents, created_at_ms, updated_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: patient.rawValue), \(bind: practitioner?.rawValue), \(bind: appointment?.rawValue),
                        \(bind: InvoiceStatus.draft.rawValue), \(bind: try Self.sealLines(lines, id: id, keys: keys)),
                        \(bind: try Self.seal(notes, column: "notes", id: id, keys: keys)),
                        \(bind: totals.totalCents), \(bind: totals.gstCents), \(bind: 0), \(bind: now), \(bind: now))
                """).run()
            try await Ledger.append(scope.event("invoice.create", resourceType: "invoice", resource: id.rawValue, detail: "patient=\(patient)"), in: tx)
            return InvoiceRecord(id: id, patient: patient, practitioner: practitioner, appointment: appointment, number: nil, status: .draft,
                                 lines: lines, notes: notes, voidReason: nil, providerNumber: nil, totals: totals, paidCents: 0,
                                 issuedAt: nil, createdAt: Date(milliseconds: now), updatedAt: Date(milliseconds: now), payments: [])
        }
    }

    func find(_ id: InvoiceID) async throws -> InvoiceRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<InvoiceRecord> in
            guard let record = try await Self.load(id, clinic: scope.realm, lock: false, keys: { try await keyring.keys(for: scope.realm, in: tx) }, in: tx) else {
                try await Ledger.append(scope.event("invoice.read", resourceType: "invoice", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            try await Ledger.append(scope.event("invoice.read", resourceType: "invoice", resource: id.rawValue, detail: "patient=\(record.patient)"), in: tx)
            return .done(record)
        }.get()
    }

    func list(_ filter: InvoiceFilter) async throws -> [InvoiceRecord] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx in
            var query = SQLQueryString("SELECT \(unsafeRaw: Self.columns) FROM invoices WHERE clinic_id = \(bind: scope.realm)")
            if let patient = filter.patient {
                query.appendInterpolation(unsafeRaw: " AND patient_id = ")
                query.appendInterpolation(bind: patient.rawValue)
            }
            if let status = filter.status {
                query.appendInterpolation(unsafeRaw: " AND status = ")
                query.appendInterpolation(bind: status.rawValue)
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY created_at_ms DESC, id LIMIT ")
            query.appendInterpolation(bind: filter.paging.limit)
            query.appendInterpolation(unsafeRaw: " OFFSET ")
            query.appendInterpolation(bind: filter.paging.offset)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let records = try await tx.sql.raw(query).all().map { try Self.open($0, keys: keys) }
            try await Ledger.append(scope.event("invoice.list", resourceType: "invoice",
                                                detail: PatientRecordListing.shownPatients(records.map(\.patient))), in: tx)
            return records
        }
    }

    /// Changes a draft: what is left out stays. An issued or void invoice answers 409 `invoice_locked`.
    func update(_ id: InvoiceID, with request: InvoiceRequest) async throws -> InvoiceRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<InvoiceRecord> in
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            guard let existing = try await Self.load(id, clinic: scope.realm, lock: true, keys: { keys }, in: tx) else {
                try await Ledger.append(scope.event("invoice.update", resourceType: "invoice", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            do throws(ClinicError) {
                try existing.status.checkedChange()
            } catch {
                try await Ledger.append(scope.event("invoice.update", resourceType: "invoice", resource: id.rawValue, outcome: .failure,
                                                    detail: "patient=\(existing.patient) status=\(existing.status.rawValue)"), in: tx)
                return .refused(error)
            }
            if let patient = request.patient, patient != existing.patient {
                throw ClinicError.invalid("patientId", "An invoice stays with its patient; void it and write a new one.")
            }
            let practitioner = request.practitioner ?? existing.practitioner
            let appointment = request.appointment ?? existing.appointment
            // Only what the change names is checked again: a draft whose practitioner has since left still takes a note.
            _ = try await Self.checkPeople(practitioner: request.practitioner ?? nil, appointment: request.appointment ?? nil,
                                           patient: existing.patient, clinic: scope.realm, in: tx)
            let lines = try await request.lines.asyncMap { try await Self.resolve($0, clinic: scope.realm, in: tx) } ?? existing.lines
            let notes = try request.notes.map { try FieldText.optional($0, field: "notes", maximum: 2000) ?? nil } ?? existing.notes
            let totals = InvoiceTotals(lines), now = Date().milliseconds
            try await tx.sql.raw("""
                UPDATE invoices SET practitioner_id = \(bind: practitioner?.rawValue), appointment_id = \(bind: appointment?.rawValue),
                    lines = \(bind: try Self.sealLines(lines, id: id, keys: keys)), notes = \(bind: try Self.seal(notes, column: "notes", id: id, keys: keys)),
                    total_cents = \(bind: totals.totalCents), gst_cents = \(bind: totals.gstCents), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) AND status = \(bind: InvoiceStatus.draft.rawValue)
                """).run()
            try await Ledger.append(scope.event("invoice.update", resourceType: "invoice", resource: id.rawValue, detail: "patient=\(existing.patient)"), in: tx)
            return .done(InvoiceRecord(id: id, patient: existing.patient, practitioner: practitioner, appointment: appointment, number: nil,
                                       status: .draft, lines: lines, notes: notes, voidReason: nil, providerNumber: nil, totals: totals,
                                       paidCents: 0, issuedAt: nil, createdAt: existing.createdAt, updatedAt: Date(milliseconds: now), payments: []))
        }.get()
    }

    /// Issues a draft: the clinic's next number, the practitioner's provider number of the day,
    /// and no more changes. A total of 0 (a free visit) is issued as paid.
    func issue(_ id: InvoiceID) async throws -> InvoiceRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<InvoiceRecord> in
            // Numbers are handed out one issue at a time per clinic (SQLite's write lock already does this).
            if tx.kind == .postgres {
                try await tx.sql.raw("SELECT pg_advisory_xact_lock(hashtextextended(\(bind: "invoice-number:" + scope.realm.uuidString), 0)) AS locked").run()
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            guard let existing = try await Self.load(id, clinic: scope.realm, lock: true, keys: { keys }, in: tx) else {
                try await Ledger.append(scope.event("invoice.issue", resourceType: "invoice", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            let status: InvoiceStatus
            do throws(ClinicError) {
                status = try existing.status.checkedIssue(totalCents: existing.totals.totalCents)
            } catch {
                try await Ledger.append(scope.event("invoice.issue", resourceType: "invoice", resource: id.rawValue, outcome: .failure,
                                                    detail: "patient=\(existing.patient) status=\(existing.status.rawValue)"), in: tx)
                return .refused(error)
            }
            let highest = try await tx.sql.raw("SELECT MAX(number) AS highest FROM invoices WHERE clinic_id = \(bind: scope.realm)")
                .first()?.decode(column: "highest", as: Int64?.self) ?? 0
            let number = Int(highest) + 1
            let providerNumber = try await existing.practitioner.asyncMap { try await Self.providerNumber(of: $0, clinic: scope.realm, in: tx) } ?? nil
            let now = Date().milliseconds
            let issued = try await tx.sql.raw("""
                UPDATE invoices SET status = \(bind: status.rawValue), number = \(bind: number), provider_number = \(bind: providerNumber),
                    issued_at_ms = \(bind: now), updated_at_ms = \(bind: now), sales_tallied = 1
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) AND status = \(bind: InvoiceStatus.draft.rawValue) RETURNING id
                """).first() != nil
            guard issued else { return .refused(InvoiceStatus.locked) }
            try await Self.tallySales(existing, at: now, sign: 1, clinic: scope.realm, in: tx)
            try await DailyFigures.invoiced(issuedMs: now, practitioner: existing.practitioner?.rawValue, appointment: existing.appointment?.rawValue,
                                            totalCents: existing.totals.totalCents, gstCents: existing.totals.gstCents, sign: 1,
                                            clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("invoice.issue", resourceType: "invoice", resource: id.rawValue,
                                                detail: "patient=\(existing.patient) number=\(number) total=\(existing.totals.totalCents)"), in: tx)
            guard let record = try await Self.load(id, clinic: scope.realm, lock: false, keys: { keys }, in: tx) else { return .refused(.notFound) }
            return .done(record)
        }.get()
    }

    /// Records a payment against an issued invoice; the one that settles the balance marks it paid.
    func pay(_ id: InvoiceID, _ payment: PaymentSubmission) async throws -> InvoiceRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<InvoiceRecord> in
            let now = Date().milliseconds
            // One guarded statement: concurrent payments serialise on the row, and each is checked
            // against the balance it finds.
            let paid = try await tx.sql.raw("""
                UPDATE invoices SET paid_cents = paid_cents + \(bind: payment.amountCents),
                    status = CASE WHEN paid_cents + \(bind: payment.amountCents) = total_cents THEN \(bind: InvoiceStatus.paid.rawValue) ELSE status END,
                    updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) AND status = \(bind: InvoiceStatus.issued.rawValue)
                  AND paid_cents + \(bind: payment.amountCents) <= total_cents
                RETURNING patient_id
                """).first()
            guard let paid else {
                let row = try await tx.sql.raw("""
                    SELECT patient_id, status, total_cents, paid_cents FROM invoices WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                    """).first()
                try await Ledger.append(scope.event("invoice.pay", resourceType: "invoice", resource: id.rawValue, outcome: .failure,
                                                    detail: try row.map { "patient=\(try $0.decode(column: "patient_id", as: UUID.self).uuidString.lowercased())" }), in: tx)
                guard let row, let status = InvoiceStatus(rawValue: try row.decode(column: "status", as: String.self)) else { return .refused(.notFound) }
                // The statement above is the rule applied under the row's lock; the domain says which part failed.
                let balance = try row.decode(column: "total_cents", as: Int.self) - row.decode(column: "paid_cents", as: Int.self)
                do throws(ClinicError) {
                    _ = try status.checkedPayment(amountCents: payment.amountCents, balanceCents: balance)
                    return .refused(InvoiceStatus.overpaid)
                } catch {
                    return .refused(error)
                }
            }
            let paymentID = UUID()
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let reference = try payment.reference.map { try keys.seal($0, table: Self.paymentsTable, column: "reference", row: paymentID).bytes }
            try await tx.sql.raw("""
                INSERT INTO payments (id, clinic_id, invoice_id, amount_cents, method, reference, recorded_by, received_at_ms)
                VALUES (\(bind: paymentID), \(bind: scope.realm), \(bind: id.rawValue), \(bind: payment.amountCents), \(bind: payment.method.rawValue),
                        \(bind: reference), \(bind: scope.actor.rawValue), \(bind: now))
                """).run()
            try await DailyFigures.collected(receivedMs: now, cents: payment.amountCents, invoice: id.rawValue, clinic: scope.realm, in: tx)
            let patient = PatientID(try paid.decode(column: "patient_id", as: UUID.self))
            try await Ledger.append(scope.event("invoice.pay", resourceType: "invoice", resource: id.rawValue,
                                                detail: "patient=\(patient) amount=\(payment.amountCents) method=\(payment.method.rawValue)"), in: tx)
            guard let record = try await Self.load(id, clinic: scope.realm, lock: false, keys: { keys }, in: tx) else { return .refused(.notFound) }
            return .done(record)
        }.get()
    }

    /// Voids a draft or an issued invoice with nothing paid on it. The invoice and its number stay.
    func void(_ id: InvoiceID, reason: String) async throws -> InvoiceRecord {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<InvoiceRecord> in
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            guard let existing = try await Self.load(id, clinic: scope.realm, lock: true, keys: { keys }, in: tx) else {
                try await Ledger.append(scope.event("invoice.void", resourceType: "invoice", resource: id.rawValue, outcome: .failure), in: tx)
                return .refused(.notFound)
            }
            do throws(ClinicError) {
                try existing.status.checkedVoid(paidCents: existing.paidCents)
            } catch {
                try await Ledger.append(scope.event("invoice.void", resourceType: "invoice", resource: id.rawValue, outcome: .failure,
                                                    detail: "patient=\(existing.patient) status=\(existing.status.rawValue)"), in: tx)
                return .refused(error)
            }
            let now = Date().milliseconds
            let voided = try await tx.sql.raw("""
                UPDATE invoices SET status = \(bind: InvoiceStatus.void.rawValue),
                    void_reason = \(bind: try Self.seal(reason, column: "void_reason", id: id, keys: keys)), updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) AND status = \(bind: existing.status.rawValue) AND paid_cents = 0
                RETURNING id
                """).first() != nil
            guard voided else { return .refused(InvoiceStatus.locked) }
            let tallied = try await tx.sql.raw("""
                SELECT sales_tallied FROM invoices WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).first()?.decode(column: "sales_tallied", as: Int64.self) == 1
            if existing.status == .issued, tallied, let issuedAt = existing.issuedAt {
                try await Self.tallySales(existing, at: issuedAt.milliseconds, sign: -1, clinic: scope.realm, in: tx)
            }
            if existing.status == .issued, let issuedAt = existing.issuedAt {
                try await DailyFigures.invoiced(issuedMs: issuedAt.milliseconds, practitioner: existing.practitioner?.rawValue,
                                                appointment: existing.appointment?.rawValue, totalCents: existing.totals.totalCents,
                                                gstCents: existing.totals.gstCents, sign: -1, clinic: scope.realm, in: tx)
            }
            try await Ledger.append(scope.event("invoice.void", resourceType: "invoice", resource: id.rawValue, detail: "patient=\(existing.patient)"), in: tx)
            guard let record = try await Self.load(id, clinic: scope.realm, lock: false, keys: { keys }, in: tx) else { return .refused(.notFound) }
            return .done(record)
        }.get()
    }

    /// Adds what the invoice charges for each product to the sales tally (`sign` -1 takes it
    /// back when an issued invoice is voided), at the quarter hour it was issued.
    private static func tallySales(_ invoice: InvoiceRecord, at issuedMs: Int64, sign: Int, clinic: UUID, in tx: ScopedSQL) async throws {
        var byProduct: [UUID: Int] = [:]
        for line in invoice.lines {
            guard let product = line.productId.flatMap(UUID.init(uuidString:)) else { continue }
            byProduct[product, default: 0] += line.totalCents
        }
        for (product, cents) in byProduct.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            try await tx.sql.raw("""
                INSERT INTO product_sales (id, clinic_id, product_id, practitioner_id, cents, issued_quarter_ms)
                VALUES (\(bind: UUID()), \(bind: clinic), \(bind: product), \(bind: invoice.practitioner?.rawValue), \(bind: Int64(sign * cents)),
                        \(bind: CreateReportTallies.quarter(issuedMs)))
                """).run()
        }
    }

    // MARK: Reading rows

    private static func load(_ id: InvoiceID, clinic: UUID, lock: Bool, keys: () async throws -> RealmKeys, in tx: ScopedSQL) async throws -> InvoiceRecord? {
        let lock = lock && tx.kind == .postgres ? " FOR UPDATE" : ""
        guard let row = try await tx.sql.raw("""
            SELECT \(unsafeRaw: columns) FROM invoices WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)\(unsafeRaw: lock)
            """).first() else { return nil }
        let keys = try await keys()
        var record = try open(row, keys: keys)
        record.payments = try await tx.sql.raw("""
            SELECT id, amount_cents, method, reference, recorded_by, received_at_ms FROM payments
            WHERE clinic_id = \(bind: clinic) AND invoice_id = \(bind: id.rawValue) ORDER BY received_at_ms, id
            """).all().map { row in
                let paymentID = try row.decode(column: "id", as: UUID.self)
                guard let method = PaymentMethod(rawValue: try row.decode(column: "method", as: String.self)) else { throw ClinicError.integrityFailure }
                return PaymentRecord(id: paymentID, amountCents: Int(try row.decode(column: "amount_cents", as: Int64.self)), method: method,
                                     reference: try keys.openColumn(row, table: paymentsTable, column: "reference", id: paymentID),
                                     recordedBy: UserID(try row.decode(column: "recorded_by", as: UUID.self)),
                                     receivedAt: Date(milliseconds: try row.decode(column: "received_at_ms", as: Int64.self)))
            }
        return record
    }

    private static func open(_ row: any SQLRow, keys: RealmKeys) throws -> InvoiceRecord {
        let id = InvoiceID(try row.decode(column: "id", as: UUID.self))
        let json = try keys.openRequiredColumn(row, table: table, column: "lines", id: id.rawValue)
        guard let lines = try? JSONDecoder().decode([InvoiceLine].self, from: Data(json.utf8)),
              let status = InvoiceStatus(rawValue: try row.decode(column: "status", as: String.self)) else { throw ClinicError.integrityFailure }
        return InvoiceRecord(
            id: id, patient: PatientID(try row.decode(column: "patient_id", as: UUID.self)),
            practitioner: try row.decode(column: "practitioner_id", as: UUID?.self).map(UserID.init),
            appointment: try row.decode(column: "appointment_id", as: UUID?.self).map(AppointmentID.init),
            number: try row.decode(column: "number", as: Int64?.self).map(Int.init), status: status, lines: lines,
            notes: try keys.openColumn(row, table: table, column: "notes", id: id.rawValue),
            voidReason: try keys.openColumn(row, table: table, column: "void_reason", id: id.rawValue),
            providerNumber: try row.decode(column: "provider_number", as: String?.self),
            totals: InvoiceTotals(lines), paidCents: Int(try row.decode(column: "paid_cents", as: Int64.self)),
            issuedAt: try row.decode(column: "issued_at_ms", as: Int64?.self).map(Date.init(milliseconds:)),
            createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
            updatedAt: Date(milliseconds: try row.decode(column: "updated_at_ms", as: Int64.self)), payments: [])
    }

    // MARK: Writing rows

    /// Internal, not private: the benchmark's synthetic history seals its invoices' lines the same way.
    static func sealLines(_ lines: [InvoiceLine], id: InvoiceID, keys: RealmKeys) throws -> Data {
        let json = String(decoding: try JSONEncoder().encode(lines), as: UTF8.self)
        return try keys.seal(json, table: table, column: "lines", row: id.rawValue).bytes
    }

    private static func seal(_ value: String?, column: String, id: InvoiceID, keys: RealmKeys) throws -> Data? {
        try value.map { try keys.seal($0, table: table, column: column, row: id.rawValue).bytes }
    }

    /// The practitioner must hold the practitioner role here, and an appointment must be this
    /// patient's. Answers the appointment's practitioner.
    private static func checkPeople(practitioner: UserID?, appointment: AppointmentID?, patient: PatientID, clinic: UUID,
                                    in tx: ScopedSQL) async throws -> UserID? {
        if let practitioner { try await ClinicReferences.requirePractitioner(practitioner, clinic: clinic, in: tx) }
        guard let appointment else { return nil }
        let row = try await tx.sql.raw("""
            SELECT patient_id, practitioner_id FROM appointments WHERE clinic_id = \(bind: clinic) AND id = \(bind: appointment.rawValue)
            """).first()
        guard let row, try row.decode(column: "patient_id", as: UUID.self) == patient.rawValue else {
            throw ClinicError.invalid("appointmentId", "No appointment of this patient with this id in this clinic.", code: "unknown_reference")
        }
        return UserID(try row.decode(column: "practitioner_id", as: UUID.self))
    }

    /// Lines as charged: catalogue lines take their name and price from the catalogue now.
    private static func resolve(_ submitted: [InvoiceLineSubmission], clinic: UUID, in tx: ScopedSQL) async throws -> [InvoiceLine] {
        guard (1...InvoiceLine.maximumLines).contains(submitted.count) else {
            throw ClinicError.invalid("lines", "Give from 1 to \(InvoiceLine.maximumLines) lines.")
        }
        var lines: [InvoiceLine] = []
        for (index, line) in submitted.enumerated() {
            let field = "lines[\(index)]"
            if line.appointmentTypeId != nil && line.productId != nil {
                throw ClinicError.invalid(field, "Name an appointment type or a product, not both.")
            }
            if let text = line.appointmentTypeId {
                let typeID = try BodyValue.id(text, field: field + ".appointmentTypeId", as: AppointmentTypeID.self)
                guard let type = try await AppointmentTypes.find(typeID, clinic: clinic, in: tx) else {
                    throw ClinicError.invalid(field + ".appointmentTypeId", "No appointment type with this id in this clinic.", code: "unknown_reference")
                }
                // A type without a price takes the one the line gives.
                guard let unitCents = type.kind.priceCents ?? line.unitCents, (0...ProductDetails.maximumPriceCents).contains(unitCents) else {
                    throw ClinicError.invalid(field + ".unitCents", "This appointment type has no price: give one from 0 to \(ProductDetails.maximumPriceCents) cents.")
                }
                // Health services are GST-free in Australia; a taxable service is a line of its own.
                lines.append(InvoiceLine(description: type.kind.name, quantity: try line.validatedQuantity(field: field + ".quantity"),
                                         unitCents: unitCents, gstApplies: false, appointmentTypeId: typeID.description))
            } else if let text = line.productId {
                let productID = try BodyValue.id(text, field: field + ".productId", as: ProductID.self)
                guard let product = try await ProductCatalogue.find(productID, clinic: clinic, in: tx), product.details.active else {
                    throw ClinicError.invalid(field + ".productId", "No product on sale with this id in this clinic.", code: "unknown_reference")
                }
                lines.append(InvoiceLine(description: product.details.name, quantity: try line.validatedQuantity(field: field + ".quantity"),
                                         unitCents: product.details.priceCents, gstApplies: product.details.gstApplies,
                                         productId: productID.description))
            } else {
                lines.append(try line.validatedOwnLine(field: field))
            }
        }
        return lines
    }

    /// How many issued invoices are still owed, and how much: sums of clear amounts, no record opened.
    func owing() async throws -> (count: Int, cents: Int) {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            let row = try await tx.sql.raw("""
                SELECT COUNT(*) AS invoices, CAST(COALESCE(SUM(total_cents - paid_cents), 0) AS BIGINT) AS owed
                FROM invoices WHERE clinic_id = \(bind: scope.realm) AND status = \(bind: InvoiceStatus.issued.rawValue)
                """).first()
            return (Int(try row?.decode(column: "invoices", as: Int64.self) ?? 0), Int(try row?.decode(column: "owed", as: Int64.self) ?? 0))
        }
    }

    static func providerNumber(of practitioner: UserID, clinic: UUID, in tx: ScopedSQL) async throws -> String? {
        try await tx.sql.raw("""
            SELECT provider_number FROM memberships WHERE clinic_id = \(bind: clinic) AND user_id = \(bind: practitioner.rawValue)
            """).first()?.decode(column: "provider_number", as: String?.self)
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
