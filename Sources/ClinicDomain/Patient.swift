import Foundation

/// A patient's demographics in the clear, as the clinic sees them. Every field here is
/// personal data: it is sealed before it reaches a database and never written to a log.
public struct PatientDetails: Sendable, Equatable {
    public var givenName: String
    public var familyName: String
    public var birthDate: BirthDate?
    public var phone: PhoneNumber?
    public var email: EmailAddress?
    public var address: String?
    public var medicareNumber: MedicareNumber?
    public var sex: Sex?
    public var postcode: Postcode?

    public init(givenName: String, familyName: String, birthDate: BirthDate? = nil, phone: PhoneNumber? = nil,
                email: EmailAddress? = nil, address: String? = nil, medicareNumber: MedicareNumber? = nil,
                sex: Sex? = nil, postcode: Postcode? = nil) {
        self.givenName = givenName
        self.familyName = familyName
        self.birthDate = birthDate
        self.phone = phone
        self.email = email
        self.address = address
        self.medicareNumber = medicareNumber
        self.sex = sex
        self.postcode = postcode
    }

    /// The name tokens a search by `?q=` can match.
    public var nameTokens: [String] { NameTokens.tokens(givenName + " " + familyName) }
}

/// What a client sends to create or change a patient: text as typed, not yet checked.
/// For a change, a field left out stays as it was and an empty one is cleared.
public struct PatientSubmission: Sendable, Codable {
    public var givenName: String?
    public var familyName: String?
    public var birthDate: String?
    public var phone: String?
    public var email: String?
    public var address: String?
    public var medicareNumber: String?
    public var sex: String?
    public var postcode: String?

    public init(givenName: String? = nil, familyName: String? = nil, birthDate: String? = nil, phone: String? = nil,
                email: String? = nil, address: String? = nil, medicareNumber: String? = nil, sex: String? = nil,
                postcode: String? = nil) {
        self.givenName = givenName
        self.familyName = familyName
        self.birthDate = birthDate
        self.phone = phone
        self.email = email
        self.address = address
        self.medicareNumber = medicareNumber
        self.sex = sex
        self.postcode = postcode
    }

    /// Checks a new patient; names are required.
    public func validatedForCreation(country: CountryCode) throws(ClinicError) -> PatientDetails {
        var details = PatientDetails(givenName: "", familyName: "")
        details.givenName = try Self.name(givenName, field: "givenName")
        details.familyName = try Self.name(familyName, field: "familyName")
        try apply(optionalFieldsTo: &details, country: country)
        return details
    }

    /// Applies a partial change to existing details.
    public func applied(to existing: PatientDetails, country: CountryCode) throws(ClinicError) -> PatientDetails {
        var details = existing
        if let givenName { details.givenName = try Self.name(givenName, field: "givenName") }
        if let familyName { details.familyName = try Self.name(familyName, field: "familyName") }
        try apply(optionalFieldsTo: &details, country: country)
        return details
    }

    private func apply(optionalFieldsTo details: inout PatientDetails, country: CountryCode) throws(ClinicError) {
        if let birthDate { details.birthDate = Self.blank(birthDate) ? nil : try BirthDate(parsing: birthDate) }
        if let phone { details.phone = Self.blank(phone) ? nil : try PhoneNumber(parsing: phone, country: country) }
        if let email { details.email = Self.blank(email) ? nil : try EmailAddress(parsing: email) }
        if let address { details.address = Self.blank(address) ? nil : try Self.text(address, field: "address", maximum: 500) }
        if let medicareNumber {
            details.medicareNumber = Self.blank(medicareNumber) ? nil : try MedicareNumber(parsing: medicareNumber, country: country)
        }
        if let sex { details.sex = Self.blank(sex) ? nil : try Sex(parsing: sex) }
        if let postcode { details.postcode = Self.blank(postcode) ? nil : try Postcode(parsing: postcode, country: country) }
    }

    private static func blank(_ text: String) -> Bool { FieldText.isBlank(text) }

    private static func name(_ value: String?, field: String) throws(ClinicError) -> String {
        try FieldText.required(value, field: field, maximum: 100, message: "This name is required.")
    }

    private static func text(_ value: String, field: String, maximum: Int) throws(ClinicError) -> String {
        try FieldText.checked(value, field: field, maximum: maximum)
    }
}

extension PatientDetails {
    /// The names (never the values) of the fields that differ: safe to put in an audit event.
    public static func fieldNames(changedFrom old: PatientDetails, to new: PatientDetails) -> [String] {
        var names: [String] = []
        if old.givenName != new.givenName { names.append("givenName") }
        if old.familyName != new.familyName { names.append("familyName") }
        if old.birthDate != new.birthDate { names.append("birthDate") }
        if old.phone != new.phone { names.append("phone") }
        if old.email != new.email { names.append("email") }
        if old.address != new.address { names.append("address") }
        if old.medicareNumber != new.medicareNumber { names.append("medicareNumber") }
        if old.sex != new.sex { names.append("sex") }
        if old.postcode != new.postcode { names.append("postcode") }
        return names
    }
}
