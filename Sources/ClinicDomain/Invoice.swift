/// Where an invoice is in its life. A draft is still being written and may change; an issued
/// invoice has its number and never changes again; payments settle it; a void one is kept, not
/// deleted, so the numbering has no holes.
public enum InvoiceStatus: String, CaseIterable, Sendable, Codable {
    case draft, issued, paid, void

    /// What each status may become. A draft is issued (paid at once when it charges nothing) or
    /// voided; an issued invoice is paid in full or, with nothing paid on it, voided; a paid or
    /// void invoice is final, so an issued invoice's number and lines never change.
    public var next: Set<InvoiceStatus> {
        switch self {
        case .draft: [.issued, .paid, .void]
        case .issued: [.paid, .void]
        case .paid, .void: []
        }
    }

    /// Only a draft's lines, notes and people change.
    public var canChange: Bool { self == .draft }
    public var canIssue: Bool { self == .draft }
    /// Payments are taken against an issued invoice that is not yet paid.
    public var takesPayments: Bool { self == .issued }
    /// A void takes back what was charged, never what was paid.
    public func canVoid(paidCents: Int) -> Bool { next.contains(.void) && paidCents == 0 }

    public func checkedChange() throws(ClinicError) {
        guard canChange else { throw Self.locked }
    }

    /// Issuing: a total of 0 (a free visit) is issued as paid, there being nothing to settle.
    public func checkedIssue(totalCents: Int) throws(ClinicError) -> InvoiceStatus {
        guard canIssue else { throw Self.locked }
        return totalCents == 0 ? .paid : .issued
    }

    /// A payment of `amountCents` against what is still owed: the one that settles it marks the invoice paid.
    public func checkedPayment(amountCents: Int, balanceCents: Int) throws(ClinicError) -> InvoiceStatus {
        guard takesPayments else { throw Self.notIssued }
        guard amountCents <= balanceCents else { throw Self.overpaid }
        return amountCents == balanceCents ? .paid : .issued
    }

    public func checkedVoid(paidCents: Int) throws(ClinicError) {
        guard paidCents == 0 else { throw Self.hasPayments }
        guard canVoid(paidCents: paidCents) else { throw Self.locked }
    }

    public static let locked = ClinicError.conflict("invoice_locked", "Only a draft invoice can change; this one has been issued or voided.")
    public static let notIssued = ClinicError.conflict("invoice_not_issued", "Payments are recorded against an issued invoice that is not yet paid.",
                                                       field: "amountCents")
    public static let overpaid = ClinicError.conflict("payment_exceeds_balance", "That is more than is owed on this invoice.", field: "amountCents")
    public static let hasPayments = ClinicError.conflict("invoice_has_payments", "An invoice with payments recorded cannot be voided.")
}

/// One line of an invoice, as charged. Copied from the catalogue when the line is written, so a
/// later price change leaves issued invoices as they were.
public struct InvoiceLine: Sendable, Equatable, Codable {
    public var description: String
    public var quantity: Int
    /// Price of one, in cents, GST included when `gstApplies`.
    public var unitCents: Int
    public var gstApplies: Bool
    /// Where the line came from, when it came from the catalogue (ids as text: kept in the sealed lines).
    public var appointmentTypeId: String?
    public var productId: String?

    public init(description: String, quantity: Int, unitCents: Int, gstApplies: Bool, appointmentTypeId: String? = nil, productId: String? = nil) {
        self.description = description
        self.quantity = quantity
        self.unitCents = unitCents
        self.gstApplies = gstApplies
        self.appointmentTypeId = appointmentTypeId
        self.productId = productId
    }

    public var totalCents: Int { quantity * unitCents }

    /// The GST inside a GST-inclusive total: one eleventh (10% on top), to the nearest cent.
    public var gstCents: Int { gstApplies ? (totalCents + 5) / 11 : 0 }

    public static let maximumQuantity = 1000
    public static let maximumLines = 50
}

/// What a client sends for one line: an appointment type, a product, or a line of its own
/// (description and price). Prices and names of catalogue lines come from the catalogue.
public struct InvoiceLineSubmission: Sendable, Codable, Equatable {
    public var appointmentTypeId: String?
    public var productId: String?
    public var description: String?
    public var quantity: Int?
    public var unitCents: Int?
    public var gstApplies: Bool?

    public init(appointmentTypeId: String? = nil, productId: String? = nil, description: String? = nil, quantity: Int? = nil,
                unitCents: Int? = nil, gstApplies: Bool? = nil) {
        self.appointmentTypeId = appointmentTypeId
        self.productId = productId
        self.description = description
        self.quantity = quantity
        self.unitCents = unitCents
        self.gstApplies = gstApplies
    }

    /// The quantity asked for, 1 when left out.
    public func validatedQuantity(field: String) throws(ClinicError) -> Int {
        let quantity = self.quantity ?? 1
        guard (1...InvoiceLine.maximumQuantity).contains(quantity) else {
            throw .invalid(field, "Give a quantity from 1 to \(InvoiceLine.maximumQuantity).")
        }
        return quantity
    }

    /// A line of the client's own: a description and a price are required.
    public func validatedOwnLine(field: String) throws(ClinicError) -> InvoiceLine {
        let description = try FieldText.required(description, field: field + ".description", maximum: 200, singleLine: true,
                                                 message: "Name an appointment type, a product, or give a description and a price.")
        guard let unitCents, (0...ProductDetails.maximumPriceCents).contains(unitCents) else {
            throw .invalid(field + ".unitCents", "Give a price from 0 to \(ProductDetails.maximumPriceCents) cents.")
        }
        return InvoiceLine(description: description, quantity: try validatedQuantity(field: field + ".quantity"), unitCents: unitCents,
                           gstApplies: gstApplies ?? false)
    }
}

/// The sums of an invoice's lines.
public struct InvoiceTotals: Sendable, Equatable {
    public let totalCents: Int
    public let gstCents: Int

    public init(_ lines: [InvoiceLine]) {
        totalCents = lines.reduce(0) { $0 + $1.totalCents }
        gstCents = lines.reduce(0) { $0 + $1.gstCents }
    }
}

/// How a payment was received.
public enum PaymentMethod: String, CaseIterable, Sendable, Codable {
    case cash, card, eftpos, transfer, medicare, insurer
}

/// A payment as submitted: an amount no more than what is still owed, a method, and a reference
/// (a receipt or claim number) if there is one.
public struct PaymentSubmission: Sendable, Equatable {
    public let amountCents: Int
    public let method: PaymentMethod
    public let reference: String?

    public init(amountCents: Int?, method: String?, reference: String?) throws(ClinicError) {
        guard let amountCents, (1...ProductDetails.maximumPriceCents).contains(amountCents) else {
            throw .invalid("amountCents", "Give the amount received in cents, from 1 to \(ProductDetails.maximumPriceCents).")
        }
        guard let method, let parsed = PaymentMethod(rawValue: method) else {
            throw .invalid("method", "Use one of: " + PaymentMethod.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        self.amountCents = amountCents
        self.method = parsed
        self.reference = try FieldText.optional(reference, field: "reference", maximum: 100, singleLine: true) ?? nil
    }
}
