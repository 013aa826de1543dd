/// Where an invoice is in its life. A draft is still being written and may change; an issued
/// invoice has its number and never changes again; payments settle it; a void one is kept, not
/// deleted, so the numbering has no holes.
public enum InvoiceStatus: String, CaseIterable, Sendable, Codable {
    case draft, issued, paid, void
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
