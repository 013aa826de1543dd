/// A kind of record a clinic can take anywhere as a CSV file (`GET …/exports/{kind}.csv`). Each
/// needs the read permission of the records it holds, so an export never shows anyone more than
/// they could page through in the API: the matrix decides, kind by kind.
public enum ExportKind: String, CaseIterable, Sendable {
    case patients, appointments, contacts, products, formulas
    /// One row per herb of every formula: formula id, formula name, herb, grams.
    case herbs

    /// The records this kind holds, whose read permission it needs.
    public var resource: ClinicResource {
        switch self {
        case .patients: .patient
        case .appointments: .schedule
        case .contacts: .contact
        case .products: .catalogue
        case .formulas, .herbs: .formulary
        }
    }

    /// The file's first row: the API's field names, so a column means what it means there.
    public var header: [String] {
        switch self {
        case .patients:
            ["id", "givenName", "familyName", "birthDate", "sex", "phone", "email", "address", "postcode", "medicareNumber", "createdAt", "updatedAt"]
        case .appointments:
            ["id", "patientId", "practitionerId", "appointmentTypeId", "startsAt", "endsAt", "status", "reason", "createdAt", "updatedAt"]
        case .contacts:
            ["id", "kind", "name", "organisation", "phone", "email", "providerNumber", "notes", "createdAt", "updatedAt"]
        case .products:
            ["id", "name", "sku", "priceCents", "gstApplies", "stock", "active", "createdAt", "updatedAt"]
        case .formulas:
            ["id", "name", "herbs", "instructions", "updatedAt"]
        case .herbs:
            ["formulaId", "formulaName", "herb", "grams"]
        }
    }

    /// Whether its rows name patients: each page's audit event then names them, so "who saw
    /// this patient" finds an export as it finds a list.
    public var namesPatients: Bool { self == .patients || self == .appointments }
}
