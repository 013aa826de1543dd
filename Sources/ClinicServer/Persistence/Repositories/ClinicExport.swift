import ClinicDomain
import Foundation
import SQLKit

/// One kind of a clinic's records as CSV cells, a page at a time (`ExportKind`; who may ask is
/// the route's permission). Pages follow
/// the rows' ids: each starts after the last id of the one before, so a page is one index seek
/// however far the export has gone, and memory stays a page however many rows there are. Rows
/// are opened with the clinic's keys and cells written as the API shows them. The clinic's
/// audit chain gets the export (its kind and how many rows it held) before the first row is
/// read, and each page of a kind that names people gets an event naming them, so "who saw
/// this patient" finds an export as it finds a list.
struct ClinicExport: Sendable {
    let scope: ClinicScope
    let services: ClinicServices
    /// Rows a page: a few hundred keeps memory flat and the write lock short.
    var pageSize: Int64 = 500

    struct Page: Sendable {
        let rows: [[String]]
        /// Where the next page starts; nil after the last.
        let next: UUID?
    }

    /// Records the export and answers how many rows it holds now; the event is committed
    /// before any row is read.
    func begin(_ kind: ExportKind) async throws -> Int {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            let rows = try await Self.count(kind, clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("export.start", resourceType: "clinic", resource: scope.realm,
                                                detail: "kind=\(kind.rawValue) rows=\(rows)"), in: tx)
            return rows
        }
    }

    /// The rows after `after` (the first page when nil).
    func page(_ kind: ExportKind, after: UUID?) async throws -> Page {
        let scope = self.scope, keyring = services.keyring, pageSize = self.pageSize
        return try await services.store.transaction(realm: scope.realm) { tx in
            let found = try await tx.sql.raw(Self.select(kind, clinic: scope.realm, after: after, limit: pageSize)).all()
            let next = found.count == Int(pageSize) ? try found.last?.decode(column: "id", as: UUID.self) : nil
            var rows: [[String]] = []
            var patients: [PatientID] = []
            var contacts: [String] = []
            switch kind {
            case .patients:
                let keys = try await keyring.keys(for: scope.realm, in: tx)
                for row in found {
                    let patient = try PatientRepository.open(row, keys: keys)
                    let details = patient.details
                    patients.append(patient.id)
                    rows.append([patient.id.description, details.givenName, details.familyName, details.birthDate?.description ?? "",
                                 details.sex?.rawValue ?? "", details.phone?.e164 ?? "", details.email?.value ?? "", details.address ?? "",
                                 details.postcode?.value ?? "", details.medicareNumber?.value ?? "",
                                 Timestamp.string(patient.createdAt), Timestamp.string(patient.updatedAt)])
                }
            case .appointments:
                let keys = try await keyring.keys(for: scope.realm, in: tx)
                for row in found {
                    let visit = try AppointmentBook.open(row, keys: keys)
                    patients.append(visit.patient)
                    rows.append([visit.id.description, visit.patient.description, visit.practitioner.description, visit.type.description,
                                 Timestamp.string(Date(milliseconds: visit.slot.start)), Timestamp.string(Date(milliseconds: visit.slot.end)),
                                 visit.status.rawValue, visit.reason ?? "", Timestamp.string(visit.createdAt), Timestamp.string(visit.updatedAt)])
                }
            case .contacts:
                let keys = try await keyring.keys(for: scope.realm, in: tx)
                for row in found {
                    let contact = try ContactBook.open(row, keys: keys)
                    let details = contact.details
                    contacts.append(contact.id.description)
                    rows.append([contact.id.description, details.kind.rawValue, details.name, details.organisation ?? "", details.phone?.e164 ?? "",
                                 details.email?.value ?? "", details.providerNumber?.value ?? "", details.notes ?? "",
                                 Timestamp.string(contact.createdAt), Timestamp.string(contact.updatedAt)])
                }
            case .products:
                for row in found {
                    let product = try ProductCatalogue.record(row)
                    let details = product.details
                    rows.append([product.id.description, details.name, details.sku ?? "", "\(details.priceCents)", details.gstApplies ? "true" : "false",
                                 "\(product.stock)", details.active ? "true" : "false", Timestamp.string(product.createdAt), Timestamp.string(product.updatedAt)])
                }
            case .formulas:
                for row in found {
                    let formula = try Formulary.record(row)
                    let herbs = formula.formula.herbs.map { "\($0.herb) \(Self.grams($0.grams)) g" }.joined(separator: "; ")
                    rows.append([formula.id.description, formula.formula.name, herbs, formula.formula.instructions ?? "", Timestamp.string(formula.updatedAt)])
                }
            case .herbs:
                for row in found {
                    let formula = try Formulary.record(row)
                    for dose in formula.formula.herbs {
                        rows.append([formula.id.description, formula.formula.name, dose.herb, Self.grams(dose.grams)])
                    }
                }
            }
            // As a list names what it showed: patients by `patients=` (found by PatientsTouched),
            // contacts by their ids.
            let shown = kind == .contacts ? (contacts.isEmpty ? nil : "contacts=" + contacts.joined(separator: ",")) : PatientRecordListing.shownPatients(patients)
            if kind.namesPeople, let shown {
                try await Ledger.append(scope.event("export.page", resourceType: "clinic", resource: scope.realm,
                                                    detail: "kind=\(kind.rawValue) " + shown), in: tx)
            }
            return Page(rows: rows, next: next)
        }
    }

    /// Grams as a person writes them: 9, not 9.0; 4.5 as it is.
    static func grams(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    private static func select(_ kind: ExportKind, clinic: UUID, after: UUID?, limit: Int64) -> SQLQueryString {
        let query: SQLQueryString
        switch kind {
        case .patients: query = "SELECT \(unsafeRaw: PatientRepository.columns) FROM patients WHERE clinic_id = \(bind: clinic)"
        case .appointments: query = "SELECT \(unsafeRaw: AppointmentBook.columns) FROM appointments WHERE clinic_id = \(bind: clinic)"
        case .contacts: query = "SELECT \(unsafeRaw: ContactBook.columns) FROM contacts WHERE clinic_id = \(bind: clinic)"
        case .products: query = "SELECT \(unsafeRaw: ProductCatalogue.columns) FROM products WHERE clinic_id = \(bind: clinic)"
        case .formulas, .herbs: query = "SELECT \(unsafeRaw: Formulary.columns) FROM formulas WHERE clinic_id = \(bind: clinic)"
        }
        let start: SQLQueryString = after.map { " AND id > \(bind: $0)" } ?? ""
        return query + start + " ORDER BY id LIMIT \(bind: limit)"
    }

    private static func count(_ kind: ExportKind, clinic: UUID, in tx: ScopedSQL) async throws -> Int {
        let query: SQLQueryString
        switch kind {
        case .patients: query = "SELECT COUNT(*) AS n FROM patients WHERE clinic_id = \(bind: clinic)"
        case .appointments: query = "SELECT COUNT(*) AS n FROM appointments WHERE clinic_id = \(bind: clinic)"
        case .contacts: query = "SELECT COUNT(*) AS n FROM contacts WHERE clinic_id = \(bind: clinic)"
        case .products: query = "SELECT COUNT(*) AS n FROM products WHERE clinic_id = \(bind: clinic)"
        case .formulas: query = "SELECT COUNT(*) AS n FROM formulas WHERE clinic_id = \(bind: clinic)"
        case .herbs:
            // A row per herb line: the formulary is a clinic's library (tens of formulas), read whole.
            return try await tx.sql.raw("SELECT \(unsafeRaw: Formulary.columns) FROM formulas WHERE clinic_id = \(bind: clinic)").all()
                .reduce(0) { try $0 + Formulary.record($1).formula.herbs.count }
        }
        return try await tx.sql.raw(query).first()?.decode(column: "n", as: Int.self) ?? 0
    }
}
