/// A kind of record a clinic can take anywhere as a CSV file (`GET …/exports/{kind}.csv`). A
/// file of every patient, booking or contact is a different exposure from reading them a page
/// at a time, so those kinds need the matrix's `export` permission (owners and admins); the
/// clinic's own knowledge and goods (the formulary, products) need only what reading them does.
public enum ExportKind: String, CaseIterable, Sendable {
    case patients, appointments, contacts, products, formulas
    /// One row per herb of every formula: formula id, formula name, herb, grams.
    case herbs

    /// What exporting this kind needs: the route names it, the permission matrix decides.
    public var permission: (ClinicResource, ClinicAction) {
        switch self {
        case .patients, .appointments, .contacts: (.export, .read)
        case .products: (.catalogue, .read)
        case .formulas, .herbs: (.formulary, .read)
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

    /// Whether its rows name people (patients, or contacts such as referrers): each page's audit
    /// event then names them, as a list's does, so "who saw this patient" finds an export.
    public var namesPeople: Bool { self == .patients || self == .appointments || self == .contacts }
}
