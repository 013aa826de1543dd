import AuditLedger
import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// A patient as the API returns it: opened, with its stored times.
struct PatientRecord: Sendable {
    let id: PatientID
    let details: PatientDetails
    let createdAt: Date
    let updatedAt: Date
}

/// Narrows a patient list; an empty filter lists the most recent patients.
struct PatientFilter: Sendable {
    var nameQuery: String?
    var phone: PhoneNumber?
    var email: EmailAddress?
    var paging = Paging(limit: PageSizes.records.standard)

    var isSearch: Bool { nameQuery != nil || phone != nil || email != nil }
}

/// The only way to patient rows: every statement is inside a transaction scoped to the
/// request's clinic, filters on that clinic, seals on the way in, opens on the way out, and
/// appends its audit event in the same transaction.
struct PatientRepository: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "patients"
    static let columns = "id, given_name, family_name, birth_date, phone, email, address, medicare_number, sex, postcode, created_at_ms, updated_at_ms"

    func create(_ details: PatientDetails) async throws -> PatientRecord {
        let id = PatientID.random()
        let now = Date()
        let scope = self.scope, keyring = services.keyring
        try await services.store.transaction(realm: scope.realm) { tx in
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let sealed = try SealedPatient(details, id: id, keys: keys)
            try await tx.sql.raw("""
                INSERT INTO patients (id, clinic_id, given_name, family_name, birth_date, phone, email, address, medicare_number,
                                      sex, postcode, phone_index, email_index, medicare_index, created_at_ms, updated_at_ms)
                VALUES (\(bind: id.rawValue), \(bind: scope.realm), \(bind: sealed.givenName), \(bind: sealed.familyName),
                        \(bind: sealed.birthDate), \(bind: sealed.phone), \(bind: sealed.email), \(bind: sealed.address),
                        \(bind: sealed.medicareNumber), \(bind: sealed.sex), \(bind: sealed.postcode), \(bind: sealed.phoneIndex), \(bind: sealed.emailIndex),
                        \(bind: sealed.medicareIndex), \(bind: now.milliseconds), \(bind: now.milliseconds))
                """).run()
            try await Self.writeNameTokens(sealed.nameTokenIndexes, patient: id, clinic: scope.realm, in: tx)
            try await Ledger.append(scope.event("patient.create", resourceType: "patient", resource: id.rawValue), in: tx)
        }
        return PatientRecord(id: id, details: details, createdAt: Date(milliseconds: now.milliseconds), updatedAt: Date(milliseconds: now.milliseconds))
    }

    func find(_ id: PatientID) async throws -> PatientRecord {
        let scope = self.scope, keyring = services.keyring
        let found = try await services.store.transaction(realm: scope.realm) { tx -> PatientRecord? in
            let row = try await tx.sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM patients WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).first()
            guard let row else {
                // Recorded and committed: a probe for an id this clinic does not hold is itself evidence.
                try await Ledger.append(scope.event("patient.read", resourceType: "patient", resource: id.rawValue, outcome: .failure), in: tx)
                return nil
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let record = try Self.open(row, keys: keys)
            try await Ledger.append(scope.event("patient.read", resourceType: "patient", resource: id.rawValue), in: tx)
            return record
        }
        guard let found else { throw ClinicError.notFound }
        return found
    }

    func list(_ filter: PatientFilter) async throws -> [PatientRecord] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx in
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            guard let query = Self.listQuery(filter, realm: scope.realm, keys: keys) else { return [] }
            let records = try await tx.sql.raw(query).all().map { try Self.open($0, keys: keys) }
            // Ids only: which records this list showed, for "who saw this patient".
            let shown = records.map(\.id.description).joined(separator: ",")
            try await Ledger.append(scope.event(filter.isSearch ? "patient.search" : "patient.list", resourceType: "patient",
                                                detail: shown.isEmpty ? nil : shown), in: tx)
            return records
        }
    }

    /// The list or search statement; nil when a name search has no token to look for.
    static func listQuery(_ filter: PatientFilter, realm: UUID, keys: RealmKeys) -> SQLQueryString? {
        var query = SQLQueryString("SELECT \(unsafeRaw: columns) FROM patients WHERE clinic_id = \(bind: realm)")
        // Under every live index key: during a re-encryption some rows still carry the old one.
        func matchAny(_ column: String, _ indexes: [Data]) {
            query.appendInterpolation(unsafeRaw: indexes.count == 1 ? " AND \(column) = " : " AND \(column) IN (")
            for (position, index) in indexes.enumerated() {
                if position > 0 { query.appendInterpolation(unsafeRaw: ", ") }
                query.appendInterpolation(bind: index)
            }
            if indexes.count > 1 { query.appendInterpolation(unsafeRaw: ")") }
        }
        if let phone = filter.phone { matchAny("phone_index", keys.blindIndexes(phone.e164, kind: .phone)) }
        if let email = filter.email { matchAny("email_index", keys.blindIndexes(email.value, kind: .email)) }
        if let nameQuery = filter.nameQuery {
            let tokens = Array(NameTokens.tokens(nameQuery).prefix(8))
            if tokens.isEmpty { return nil }
            // Every token must match: the intersection of each token's patients. Each arm is an
            // equality on the token table's key (clinic, token); a GROUP BY over all of them let
            // SQLite walk the clinic's whole token index in patient order instead.
            query.appendInterpolation(unsafeRaw: " AND id IN (")
            for (position, token) in tokens.enumerated() {
                if position > 0 { query.appendInterpolation(unsafeRaw: " INTERSECT ") }
                query.appendInterpolation(unsafeRaw: "SELECT patient_id FROM patient_name_tokens WHERE clinic_id = ")
                query.appendInterpolation(bind: realm)
                matchAny("token_index", keys.blindIndexes(token, kind: .nameToken))
            }
            query.appendInterpolation(unsafeRaw: ")")
        }
        // A search orders by an expression, which no index can serve, so the planner starts from
        // the search's own index. Ordered by the column, SQLite walked the clinic's patients in
        // date order checking each one: a phone search at 100,000 patients was 25 times slower
        // than at 1,000 (bench/run, issue 9). A plain list keeps the index order and stops at LIMIT.
        query.appendInterpolation(unsafeRaw: filter.isSearch ? " ORDER BY created_at_ms + 0 DESC, id LIMIT " : " ORDER BY created_at_ms DESC, id LIMIT ")
        query.appendInterpolation(bind: filter.paging.limit)
        query.appendInterpolation(unsafeRaw: " OFFSET ")
        query.appendInterpolation(bind: filter.paging.offset)
        return query
    }

    /// Several patients by id, a page's worth of queries (500 ids each) and one event naming
    /// those shown (a page that names the patients of its rows); ids this clinic does not hold
    /// are simply absent.
    func records(of ids: Set<PatientID>) async throws -> [PatientID: PatientRecord] {
        guard !ids.isEmpty else { return [:] }
        let scope = self.scope, keyring = services.keyring
        let sorted = ids.sorted { $0.description < $1.description }
        return try await services.store.transaction(realm: scope.realm) { tx in
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            var records: [PatientRecord] = []
            for start in stride(from: 0, to: sorted.count, by: 500) {
                var query = SQLQueryString("SELECT \(unsafeRaw: Self.columns) FROM patients WHERE clinic_id = \(bind: scope.realm) AND id IN (")
                for (position, id) in sorted[start..<min(start + 500, sorted.count)].enumerated() {
                    if position > 0 { query.appendInterpolation(unsafeRaw: ", ") }
                    query.appendInterpolation(bind: id.rawValue)
                }
                query.appendInterpolation(unsafeRaw: ")")
                records += try await tx.sql.raw(query).all().map { try Self.open($0, keys: keys) }
            }
            let shown = records.map(\.id.description).joined(separator: ",")
            try await Ledger.append(scope.event("patient.list", resourceType: "patient", detail: shown.isEmpty ? nil : shown), in: tx)
            return Dictionary(records.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    func update(_ id: PatientID, with submission: PatientSubmission) async throws -> PatientRecord {
        let scope = self.scope, keyring = services.keyring
        let updated = try await services.store.transaction(realm: scope.realm) { tx -> PatientRecord? in
            let lock = tx.kind == .postgres ? " FOR UPDATE" : ""
            let row = try await tx.sql.raw("""
                SELECT \(unsafeRaw: Self.columns) FROM patients WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)\(unsafeRaw: lock)
                """).first()
            guard let row else {
                try await Ledger.append(scope.event("patient.update", resourceType: "patient", resource: id.rawValue, outcome: .failure), in: tx)
                return nil
            }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let existing = try Self.open(row, keys: keys)
            let details = try submission.applied(to: existing.details, country: scope.country)
            let now = Date()
            // Every field is sealed again, so a change also moves the row to the current key version.
            let sealed = try SealedPatient(details, id: id, keys: keys)
            try await tx.sql.raw("""
                UPDATE patients SET given_name = \(bind: sealed.givenName), family_name = \(bind: sealed.familyName),
                    birth_date = \(bind: sealed.birthDate), phone = \(bind: sealed.phone), email = \(bind: sealed.email),
                    address = \(bind: sealed.address), medicare_number = \(bind: sealed.medicareNumber),
                    sex = \(bind: sealed.sex), postcode = \(bind: sealed.postcode),
                    phone_index = \(bind: sealed.phoneIndex), email_index = \(bind: sealed.emailIndex),
                    medicare_index = \(bind: sealed.medicareIndex), updated_at_ms = \(bind: now.milliseconds)
                WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue)
                """).run()
            try await tx.sql.raw("DELETE FROM patient_name_tokens WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: id.rawValue)").run()
            try await Self.writeNameTokens(sealed.nameTokenIndexes, patient: id, clinic: scope.realm, in: tx)
            let changed = PatientDetails.fieldNames(changedFrom: existing.details, to: details)
            try await Ledger.append(scope.event("patient.update", resourceType: "patient", resource: id.rawValue,
                                                detail: changed.isEmpty ? nil : "fields=" + changed.joined(separator: ",")), in: tx)
            return PatientRecord(id: id, details: details, createdAt: existing.createdAt, updatedAt: Date(milliseconds: now.milliseconds))
        }
        guard let updated else { throw ClinicError.notFound }
        return updated
    }

    func delete(_ id: PatientID) async throws {
        let scope = self.scope
        let deleted = try await services.store.transaction(realm: scope.realm) { tx -> Outcome<Bool> in
            // Clinical and booking records must be kept for their retention period; they are
            // never removed as a side effect of removing the person they are about.
            // A break-glass grant is evidence for the owners and is kept the same way.
            for table in ["appointments", "consultations", "prescriptions", "files", "invoices", "break_glass_grants"] {
                let held = try await tx.sql.raw("""
                    SELECT 1 AS held FROM \(unsafeRaw: table) WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: id.rawValue) LIMIT 1
                    """).first()
                if held != nil {
                    try await Ledger.append(scope.event("patient.delete", resourceType: "patient", resource: id.rawValue,
                                                        outcome: .failure, detail: "has=\(table)"), in: tx)
                    return .refused(.conflict("patient_has_records", "This patient has appointments, clinical records, files or invoices, which are kept; the patient cannot be deleted."))
                }
            }
            // A care team names who may read the record; with no record left, it goes with the patient.
            try await tx.sql.raw("DELETE FROM care_team_members WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: id.rawValue)").run()
            // So are the channels they accept messages on.
            try await tx.sql.raw("DELETE FROM patient_contact_preferences WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: id.rawValue)").run()
            let gone = try await tx.sql.raw("""
                DELETE FROM patients WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id.rawValue) RETURNING id
                """).first() != nil
            try await Ledger.append(scope.event("patient.delete", resourceType: "patient", resource: id.rawValue,
                                                outcome: gone ? .success : .failure), in: tx)
            return .done(gone)
        }.get()
        guard deleted else { throw ClinicError.notFound }
    }

    fileprivate static func writeNameTokens(_ indexes: [Data], patient: PatientID, clinic: UUID, in tx: ScopedSQL) async throws {
        for index in indexes {
            try await tx.sql.raw("""
                INSERT INTO patient_name_tokens (clinic_id, token_index, patient_id) VALUES (\(bind: clinic), \(bind: index), \(bind: patient.rawValue))
                """).run()
        }
    }

    static func open(_ row: any SQLRow, keys: RealmKeys) throws -> PatientRecord {
        let id = PatientID(try row.decode(column: "id", as: UUID.self))
        func field(_ column: String) throws -> String? { try keys.openColumn(row, table: table, column: column, id: id.rawValue) }
        guard let givenName = try field("given_name"), let familyName = try field("family_name") else { throw ClinicError.integrityFailure }
        var details = PatientDetails(givenName: givenName, familyName: familyName)
        details.birthDate = try field("birth_date").flatMap { try? BirthDate(parsing: $0) }
        details.phone = try field("phone").map(PhoneNumber.init(storedE164:))
        details.email = try field("email").map(EmailAddress.init(storedValue:))
        details.address = try field("address")
        details.medicareNumber = try field("medicare_number").map(MedicareNumber.init(storedValue:))
        details.sex = try field("sex").flatMap { Sex(rawValue: $0) }
        details.postcode = try field("postcode").map(Postcode.init(storedValue:))
        return PatientRecord(id: id, details: details,
                             createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                             updatedAt: Date(milliseconds: try row.decode(column: "updated_at_ms", as: Int64.self)))
    }
}

extension PatientRepository {
    static let sealedColumns = ["given_name", "family_name", "birth_date", "phone", "email", "address", "medicare_number", "sex", "postcode"]

    /// Moves one stored patient to the current key version: every sealed column sealed again
    /// (opened and sealed in memory, byte for byte the same plaintext) and every blind index
    /// computed again under the current index key, name tokens included. Written only if the row
    /// is still as read (its `given_name` bytes, new on every write, are the witness), so a change
    /// made meanwhile by a request is never overwritten. Returns whether it wrote.
    ///
    /// A row's columns and indexes always move together (a write seals the whole row), so the
    /// version of a patient's `given_name` is also the version of its blind indexes: `keys status`
    /// and `keys retire` count index keys by it.
    static func reseal(_ row: any SQLRow, realm: UUID, keys: RealmKeys, in tx: ScopedSQL) async throws -> Bool {
        let id = PatientID(try row.decode(column: "id", as: UUID.self))
        var columns: [String: Data?] = [:]
        var stale = false
        for column in sealedColumns {
            guard let bytes = try row.decode(column: column, as: Data?.self) else { columns[column] = .some(nil); continue }
            let sealed = try SealedField(bytes: bytes)
            if let resealed = try keys.resealed(sealed, table: table, column: column, row: id.rawValue) {
                columns[column] = resealed.bytes
                stale = true
            } else {
                columns[column] = bytes
            }
        }
        guard stale else { return false }
        let details = try open(row, keys: keys).details
        let witness = try row.decode(column: "given_name", as: Data.self)
        let written = try await tx.sql.raw("""
            UPDATE patients SET given_name = \(bind: columns["given_name"]!), family_name = \(bind: columns["family_name"]!),
                birth_date = \(bind: columns["birth_date"]!), phone = \(bind: columns["phone"]!), email = \(bind: columns["email"]!),
                address = \(bind: columns["address"]!), medicare_number = \(bind: columns["medicare_number"]!),
                sex = \(bind: columns["sex"]!), postcode = \(bind: columns["postcode"]!),
                phone_index = \(bind: details.phone.map { keys.blindIndex($0.e164, kind: .phone) }),
                email_index = \(bind: details.email.map { keys.blindIndex($0.value, kind: .email) }),
                medicare_index = \(bind: details.medicareNumber.map { keys.blindIndex($0.value, kind: .medicareNumber) })
            WHERE clinic_id = \(bind: realm) AND id = \(bind: id.rawValue) AND given_name = \(bind: witness)
            RETURNING id
            """).first() != nil
        guard written else { return false }
        try await tx.sql.raw("DELETE FROM patient_name_tokens WHERE clinic_id = \(bind: realm) AND patient_id = \(bind: id.rawValue)").run()
        try await writeNameTokens(details.nameTokens.map { keys.blindIndex($0, kind: .nameToken) }, patient: id, clinic: realm, in: tx)
        return true
    }
}

/// A patient's columns as stored: sealed values bound to their row, and blind indexes.
private struct SealedPatient {
    let givenName: Data, familyName: Data
    let birthDate: Data?, phone: Data?, email: Data?, address: Data?, medicareNumber: Data?, sex: Data?, postcode: Data?
    let phoneIndex: Data?, emailIndex: Data?, medicareIndex: Data?
    let nameTokenIndexes: [Data]

    init(_ details: PatientDetails, id: PatientID, keys: RealmKeys) throws {
        func seal(_ value: String?, _ column: String) throws -> Data? {
            guard let value else { return nil }
            return try keys.seal(value, table: PatientRepository.table, column: column, row: id.rawValue).bytes
        }
        givenName = try seal(details.givenName, "given_name")!
        familyName = try seal(details.familyName, "family_name")!
        birthDate = try seal(details.birthDate?.description, "birth_date")
        phone = try seal(details.phone?.e164, "phone")
        email = try seal(details.email?.value, "email")
        address = try seal(details.address, "address")
        medicareNumber = try seal(details.medicareNumber?.value, "medicare_number")
        sex = try seal(details.sex?.rawValue, "sex")
        postcode = try seal(details.postcode?.value, "postcode")
        phoneIndex = details.phone.map { keys.blindIndex($0.e164, kind: .phone) }
        emailIndex = details.email.map { keys.blindIndex($0.value, kind: .email) }
        medicareIndex = details.medicareNumber.map { keys.blindIndex($0.value, kind: .medicareNumber) }
        nameTokenIndexes = details.nameTokens.map { keys.blindIndex($0, kind: .nameToken) }
    }
}
