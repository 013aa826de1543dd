/// What a clinic sells over the counter or dispenses: herbs by the gram, creams, supports.
/// Not personal data; tenant data all the same.
public struct ProductDetails: Sendable, Equatable {
    public var name: String
    /// The clinic's own code for it, if it keeps one.
    public var sku: String?
    /// Price for one unit, in cents, GST included when `gstApplies`.
    public var priceCents: Int
    /// Whether GST is charged on it (Australia: most goods yes, some medicines no).
    public var gstApplies: Bool
    public var active: Bool

    public init(name: String, sku: String? = nil, priceCents: Int, gstApplies: Bool = true, active: Bool = true) {
        self.name = name
        self.sku = sku
        self.priceCents = priceCents
        self.gstApplies = gstApplies
        self.active = active
    }

    public static let maximumPriceCents = 100_000_000
    /// Stock counts are whole units; nobody keeps a million of anything in a small clinic.
    public static let maximumStock = 1_000_000
}

/// What a client sends to create or change a product. For a change, what is left out stays.
/// Stock is not here: it moves only by counted changes (`StockChange`), so two people selling
/// the last jar at once cannot both succeed.
public struct ProductSubmission: Sendable, Codable {
    public var name: String?
    public var sku: String?
    public var priceCents: Int?
    public var gstApplies: Bool?
    public var active: Bool?

    public init(name: String? = nil, sku: String? = nil, priceCents: Int? = nil, gstApplies: Bool? = nil, active: Bool? = nil) {
        self.name = name
        self.sku = sku
        self.priceCents = priceCents
        self.gstApplies = gstApplies
        self.active = active
    }

    public func validatedForCreation() throws(ClinicError) -> ProductDetails {
        guard let priceCents else { throw .invalid("priceCents", "Give the price in cents.", code: "required") }
        var details = ProductDetails(name: try FieldText.required(name, field: "name", maximum: 200, singleLine: true), priceCents: try Self.price(priceCents))
        try apply(to: &details)
        return details
    }

    public func applied(to existing: ProductDetails) throws(ClinicError) -> ProductDetails {
        var details = existing
        if name != nil { details.name = try FieldText.required(name, field: "name", maximum: 200, singleLine: true) }
        if let priceCents { details.priceCents = try Self.price(priceCents) }
        try apply(to: &details)
        return details
    }

    private func apply(to details: inout ProductDetails) throws(ClinicError) {
        if case let .some(value) = try FieldText.optional(sku, field: "sku", maximum: 64, singleLine: true) { details.sku = value }
        if let gstApplies { details.gstApplies = gstApplies }
        if let active { details.active = active }
    }

    private static func price(_ cents: Int) throws(ClinicError) -> Int {
        guard (0...ProductDetails.maximumPriceCents).contains(cents) else {
            throw .invalid("priceCents", "Give a price from 0 to \(ProductDetails.maximumPriceCents) cents.")
        }
        return cents
    }
}

/// A counted change to a product's stock: received (+) or sold, used or written off (-).
public struct StockChange: Sendable, Equatable {
    public enum Reason: String, CaseIterable, Sendable {
        case received, sold, used, writtenOff = "written_off", counted
    }

    public let delta: Int
    public let reason: Reason

    public init(delta: Int?, reason: String?) throws(ClinicError) {
        // `magnitude`, not `abs`: abs(Int.min) traps, and a client may send exactly that.
        guard let delta, delta != 0, delta.magnitude <= UInt(ProductDetails.maximumStock) else {
            throw .invalid("change", "Give a change in whole units, not 0, at most \(ProductDetails.maximumStock) either way.")
        }
        guard let reason, let parsed = Reason(rawValue: reason) else {
            throw .invalid("reason", "Use one of: " + Reason.allCases.map(\.rawValue).joined(separator: ", ") + ".")
        }
        self.delta = delta
        self.reason = parsed
    }
}
