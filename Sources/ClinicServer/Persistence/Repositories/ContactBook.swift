import ClinicDomain
import Foundation
import Keyring
import SQLKit

struct ContactRecord: Sendable {
    let id: ContactID
    let details: ContactDetails
    let createdAt: Date
    let updatedAt: Date
}

struct ContactFilter: Sendable {
    var kind: ContactKind?
    var paging = Paging(limit: PageSizes.registers.standard)
}

/// The only way to a clinic's contacts: scoped to the request's clinic, every field but the kind
/// sealed to its row, and every read, list and change in the clinic's audit chain (a contact
/// names a person). Lists are by kind and newest first; there is no search by name, which would
/// need blind indexes like the patients'.
struct ContactBook: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "contacts"
    static let sealedColumns = ["name", "organisation", "phone", "email", "provider_number", "notes"]
    static let columns = "id, kind, " + sealedColumns.joined(separator: ", ") + ", created_at_ms, updated_at_ms"

    func create(_ details: ContactDetails) async throws -> ContactRecord {
        let id = ContactID.random(), now = Date().milliseconds
        let scope = self.scope, keyring = services.keyring
        try await services.store.transaction(realm: scope.realm) { tx in
            let sealed = try Self.seal(details, id: id, keys: try await keyring.keys(for: scope.realm, in: tx))
            try await tx.sql.raw("""
                INSERT INTO contacts (id, clinic_id, kind, name, organisation, phone, email, provider_number, notes, created_at_ms, updated_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: details.kind.rawValue), \(bind: sealed[0]), \(bind: sealed[1]),
                        \(bind: sealed[2]), \(bind: sealed[3]), \(bind: sealed[4]), \(bind: sealed[5]), \(bind: now), \(bind: now))
                """).run()
            try await Ledger.append(scope.event("contact.create", resourceType: "contact", resource: id.rawValue), in: tx)
        }
        return ContactRecord(id: id, details: details, createdAt: Date(milliseconds: now), updatedAt: Date(milliseconds: now))
    }

    func find(_ id: ContactID) async throws -> ContactRecord {
        let scope = self.scope, keyring = services.keyring
        let found = try await services.store.transaction(realm: scope.realm) { tx -> ContactRecord? in
            guard let row = try await Self.row(id, clinic: scope.realm, lock: false, in: tx) else {
                try await Ledger.append(scope.event("contact.read", resourceType: "contact", resource: id.rawValue, outcome: .failure), in: tx)
                return nil
            }
            let record = try Self.open(row, keys: try await keyring.keys(for: scope.realm, in: tx))
            try await Ledger.append(scope.event("contact.read", resourceType: "contact", resource: id.rawValue), in: tx)
            return record
        }
        guard let found else { throw ClinicError.notFound }
        return found
    }

    func list(_ filter: ContactFilter) async throws -> [ContactRecord] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx in
            var query = SQLQueryString("SELECT \(unsafeRaw: Self.columns) FROM contacts WHERE clinic_id = \(bind: scope.realm)")
            if let kind = filter.kind {
                query.appendInterpolation(unsafeRaw: " AND kind = ")
                query.appendInterpolation(bind: kind.rawValue)
            }
            query.appendInterpolation(unsafeRaw: " ORDER BY created_at_ms DESC, id LIMIT ")
            query.appendInterpolation(bind: filter.paging.limit)
            query.appendInterpolation(unsafeRaw: " OFFSET ")
            query.appendInterpolation(bind: filter.paging.offset)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let records = try await tx.sql.raw(query).all().map { try Self.open($0, keys: keys) }
            // Ids only: which contacts this list showed.
            let shown = records.map(\.id.description).joined(separator: ",")
            try await Ledger.append(scope.event("contact.list", resourceType: "contact", detail: shown.isEmpty ? nil : shown), in: tx)
            return records
        }
    }

    func update(_ id: ContactID, with submission: ContactSubmission) async throws -> ContactRecord {
        let scope = self.scope, keyring = services.keyring
        let updated = try await services.store.transaction(realm: scope.realm) { tx -> ContactRecord? in
            guard let row = try await Self.row(id, clinic: scope.realm, lock: true, in: tx) else {
                try await Ledger.append(scope.event("contact.update", resourceType: "contact", resource: id.rawValue, outcome: .failure), in: tx)
                return nil
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let existing = try Self.open(row, keys: keys)
            let details = try submission.applied(to: existing.details, country: scope.country)
            let now = Date().milliseconds
            // Every field sealed again: a change also moves the row to the current key version.
            let sealed = try Self.seal(details, id: id, keys: keys)
            try await tx.sql.raw("""
                UPDATE contacts SET kind = \(bind: details.kind.rawValue), name = \(bind: sealed[0]), organisation = \(bind: sealed[1]),
                    phone = \(bind: sealed[2]), email = \(bind: sealed[3]), provider_number = \(bind: sealed[4]), notes = \(bind: sealed[5]),
                    updated_at_ms = \(bind: now)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).run()
            let changed = ContactDetails.fieldNames(changedFrom: existing.details, to: details)
            try await Ledger.append(scope.event("contact.update", resourceType: "contact", resource: id.rawValue,
                                                detail: changed.isEmpty ? nil : "fields=" + changed.joined(separator: ",")), in: tx)
            return ContactRecord(id: id, details: details, createdAt: existing.createdAt, updatedAt: Date(milliseconds: now))
        }
        guard let updated else { throw ClinicError.notFound }
        return updated
    }

    func delete(_ id: ContactID) async throws {
        let scope = self.scope
        let gone = try await services.store.transaction(realm: scope.realm) { tx -> Bool in
            let gone = try await tx.sql.raw("""
                DELETE FROM contacts WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) RETURNING id
                """).first() != nil
            try await Ledger.append(scope.event("contact.delete", resourceType: "contact", resource: id.rawValue,
                                                outcome: gone ? .success : .failure), in: tx)
            return gone
        }
        guard gone else { throw ClinicError.notFound }
    }

    private static func row(_ id: ContactID, clinic: UUID, lock: Bool, in tx: ScopedSQL) async throws -> (any SQLRow)? {
        let lock = lock && tx.kind == .postgres ? " FOR UPDATE" : ""
        return try await tx.sql.raw("""
            SELECT \(unsafeRaw: columns) FROM contacts WHERE clinic_id = \(bind: clinic) AND id = \(bind: id.rawValue)\(unsafeRaw: lock)
            """).first()
    }

    /// The sealed columns, in `sealedColumns` order.
    private static func seal(_ details: ContactDetails, id: ContactID, keys: RealmKeys) throws -> [Data?] {
        let values = [details.name, details.organisation, details.phone?.e164, details.email?.value, details.providerNumber?.value, details.notes]
        return try zip(values, sealedColumns).map { value, column in
            try value.map { try keys.seal($0, table: table, column: column, row: id.rawValue).bytes }
        }
    }

    static func open(_ row: any SQLRow, keys: RealmKeys) throws -> ContactRecord {
        let id = ContactID(try row.decode(column: "id", as: UUID.self))
        func field(_ column: String) throws -> String? { try keys.openColumn(row, table: table, column: column, id: id.rawValue) }
        guard let kind = ContactKind(rawValue: try row.decode(column: "kind", as: String.self)), let name = try field("name") else {
            throw ClinicError.integrityFailure
        }
        var details = ContactDetails(kind: kind, name: name)
        details.organisation = try field("organisation")
        details.phone = try field("phone").map(PhoneNumber.init(storedE164:))
        details.email = try field("email").map(EmailAddress.init(storedValue:))
        details.providerNumber = try field("provider_number").map(ProviderNumber.init(storedValue:))
        details.notes = try field("notes")
        return ContactRecord(id: id, details: details,
                             createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                             updatedAt: Date(milliseconds: try row.decode(column: "updated_at_ms", as: Int64.self)))
    }
}
