import Foundation

/// Who a clinic deals with besides its patients: the doctors who refer patients, insurers,
/// suppliers. A contact names a person, so every field but the kind is personal data, sealed
/// like a patient's.
public enum ContactKind: String, CaseIterable, Sendable, Codable {
    case referrer, insurer, supplier, other
}

public struct ContactDetails: Sendable, Equatable {
    public var kind: ContactKind
    public var name: String
    public var organisation: String?
    public var phone: PhoneNumber?
    public var email: EmailAddress?
    /// A referrer's provider number (Medicare's, in Australia): what a referral is billed under.
    public var providerNumber: ProviderNumber?
    public var notes: String?

    public init(kind: ContactKind, name: String, organisation: String? = nil, phone: PhoneNumber? = nil,
                email: EmailAddress? = nil, providerNumber: ProviderNumber? = nil, notes: String? = nil) {
        self.kind = kind
        self.name = name
        self.organisation = organisation
        self.phone = phone
        self.email = email
        self.providerNumber = providerNumber
        self.notes = notes
    }

    /// The names (never the values) of the fields that differ: safe to put in an audit event.
    public static func fieldNames(changedFrom old: ContactDetails, to new: ContactDetails) -> [String] {
        [("kind", old.kind != new.kind), ("name", old.name != new.name), ("organisation", old.organisation != new.organisation),
         ("phone", old.phone != new.phone), ("email", old.email != new.email),
         ("providerNumber", old.providerNumber != new.providerNumber), ("notes", old.notes != new.notes)]
            .filter(\.1).map(\.0)
    }
}

/// A practitioner's or referrer's provider number: letters and digits, as the payer issued it
/// (Medicare's are six digits, a location character and a check character, such as 2426621B).
public struct ProviderNumber: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    public init(parsing input: String, field: String = "providerNumber") throws(ClinicError) {
        let text = input.filter { !$0.isWhitespace }.uppercased()
        guard (2...20).contains(text.count), text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw .invalid(field, "Enter the provider number as issued: 2 to 20 letters and digits.")
        }
        value = text
    }

    /// A value read back from storage, already checked when it was written.
    public init(storedValue: String) { self.value = storedValue }
}

/// What a client sends to create or change a contact, as typed. For a change, a field left out
/// stays and an empty one is cleared (the name and kind cannot be cleared).
public struct ContactSubmission: Sendable, Codable {
    public var kind: String?
    public var name: String?
    public var organisation: String?
    public var phone: String?
    public var email: String?
    public var providerNumber: String?
    public var notes: String?

    public init(kind: String? = nil, name: String? = nil, organisation: String? = nil, phone: String? = nil,
                email: String? = nil, providerNumber: String? = nil, notes: String? = nil) {
        self.kind = kind
        self.name = name
        self.organisation = organisation
        self.phone = phone
        self.email = email
        self.providerNumber = providerNumber
        self.notes = notes
    }

    public func validatedForCreation(country: CountryCode) throws(ClinicError) -> ContactDetails {
        guard let kind else { throw .invalid("kind", Self.kindMessage, code: "required") }
        var details = ContactDetails(kind: try Self.kind(kind), name: try FieldText.required(name, field: "name", maximum: 200, singleLine: true))
        try apply(optionalFieldsTo: &details, country: country)
        return details
    }

    public func applied(to existing: ContactDetails, country: CountryCode) throws(ClinicError) -> ContactDetails {
        var details = existing
        if let kind { details.kind = try Self.kind(kind) }
        if name != nil { details.name = try FieldText.required(name, field: "name", maximum: 200, singleLine: true) }
        try apply(optionalFieldsTo: &details, country: country)
        return details
    }

    private func apply(optionalFieldsTo details: inout ContactDetails, country: CountryCode) throws(ClinicError) {
        if case let .some(value) = try FieldText.optional(organisation, field: "organisation", maximum: 200, singleLine: true) { details.organisation = value }
        if case let .some(value) = try FieldText.optional(notes, field: "notes", maximum: 2000) { details.notes = value }
        if let phone { details.phone = FieldText.isBlank(phone) ? nil : try PhoneNumber(parsing: phone, country: country) }
        if let email { details.email = FieldText.isBlank(email) ? nil : try EmailAddress(parsing: email) }
        if let providerNumber { details.providerNumber = FieldText.isBlank(providerNumber) ? nil : try ProviderNumber(parsing: providerNumber) }
    }

    private static let kindMessage = "Use one of: " + ContactKind.allCases.map(\.rawValue).joined(separator: ", ") + "."

    private static func kind(_ text: String) throws(ClinicError) -> ContactKind {
        guard let kind = ContactKind(rawValue: text) else { throw .invalid("kind", kindMessage) }
        return kind
    }
}
