import AuditLedger
import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// A clinic's key versions over time: a new version for new writes (`rotate`), every sealed
/// value and blind index moved to it while the clinic keeps working (`reencrypt`), and an old
/// version destroyed once nothing references it (`retire`). Each is an event in the clinic's
/// own audit chain.
struct KeyRotation: Sendable {
    let store: Store
    let keyring: RealmKeyring
    /// Names the operator's run in the events it records (there is no signed-in actor).
    let requestID: String
    /// How long after a rotation `reencrypt` waits before writing: every running server must
    /// hold the new version before a value sealed under it appears.
    var settle: TimeInterval = 2 * RealmKeyring.refreshInterval + 0.5

    struct VersionStatus: Sendable, Equatable {
        let version: KeyVersion
        let isCurrent: Bool
        let createdAt: Date
        let keyEncryptionKey: String
        /// Sealed values in the clinic's tables that name this version.
        let sealedValues: Int64
        /// Patients sealed (and indexed) under this version.
        let patients: Int64
    }

    /// Rows seen and values moved by one re-encryption; `unreadable` names rows (by table and
    /// id only) whose value did not open and so stays where it was.
    struct Progress: Sendable {
        var table = ""
        var rowsChecked: Int64 = 0
        var rowsResealed: Int64 = 0
        var unreadable: [String] = []
        /// This report is the table's last.
        var tableDone = false
    }

    enum Refusal: Error, CustomStringConvertible, Equatable {
        case noSuchVersion(KeyVersion)
        case isCurrent(KeyVersion)
        case stillReferenced(KeyVersion, Int64)

        var description: String {
            switch self {
            case .noSuchVersion(let version): "this clinic holds no key \(version)"
            case .isCurrent(let version): "\(version) is the current version; rotate first"
            case .stillReferenced(let version, let count):
                "\(count) sealed values still use \(version); run `keys reencrypt` first"
            }
        }
    }

    /// Rows per transaction in `reencrypt`: short enough that requests barely wait behind one.
    static let batchSize = 200

    func status(of clinic: UUID) async throws -> [VersionStatus] {
        try await store.transaction(realm: clinic) { tx in
            let counts = try await Self.sealedCounts(clinic, in: tx)
            let rows = try await tx.sql.raw("""
                SELECT version, kek_id, is_current, created_at_ms FROM realm_keys
                WHERE realm_id = \(bind: clinic) AND purpose = \(bind: WrapContext.Purpose.data.rawValue) ORDER BY version
                """).all()
            return try rows.map { row in
                let version = KeyVersion(rawValue: UInt32(try row.decode(column: "version", as: Int64.self)))
                return VersionStatus(version: version, isCurrent: try row.decode(column: "is_current", as: Int64.self) == 1,
                                     createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                                     keyEncryptionKey: try row.decode(column: "kek_id", as: String.self),
                                     sealedValues: counts.values[version] ?? 0, patients: counts.patients[version] ?? 0)
            }
        }
    }

    /// Adds the next data-key and blind-index-key version and makes it current: from now on
    /// this process seals with it, other servers within `RealmKeyring.refreshInterval`.
    @discardableResult
    func rotate(_ clinic: UUID) async throws -> KeyVersion {
        let keyring = self.keyring, requestID = self.requestID
        let version = try await store.transaction(realm: clinic) { tx -> KeyVersion in
            let provider = try await keyring.wrapper(for: clinic)
            let latest = try await tx.sql.raw("""
                SELECT MAX(version) AS version FROM realm_keys WHERE realm_id = \(bind: clinic)
                """).first()?.decode(column: "version", as: Int64?.self)
            guard let latest else { throw RealmKeyError.noKeys }
            let next = KeyVersion(rawValue: UInt32(latest) + 1)
            let dataKey = DataKey.generate(version: next), indexKey = BlindIndexKey.generate(version: next)
            let wrapped = [(WrapContext.Purpose.data, try await provider.wrap(dataKey, realm: clinic)),
                           (.index, try await provider.wrap(indexKey, realm: clinic))]
            try await tx.sql.raw("UPDATE realm_keys SET is_current = 0 WHERE realm_id = \(bind: clinic)").run()
            let now = Date().milliseconds
            for (purpose, key) in wrapped {
                try await tx.sql.raw("""
                    INSERT INTO realm_keys (realm_id, purpose, version, wrapped_key, kek_id, is_current, created_at_ms)
                    VALUES (\(bind: clinic), \(bind: purpose.rawValue), \(bind: Int64(next.rawValue)), \(bind: key.bytes),
                            \(bind: key.keyID), 1, \(bind: now))
                    """).run()
            }
            try await Ledger.append(Self.event(clinic, "keys.rotate", requestID: requestID,
                                               detail: "version=\(next) wrapped_by=\(wrapped[0].1.keyID)"), in: tx)
            return next
        }
        keyring.forget(clinic)
        return version
    }

    /// Moves every sealed value and blind index of the clinic to the current version, a batch of
    /// rows per transaction, while the clinic keeps working. Nothing is remembered between runs:
    /// a row already on the current version is skipped, so a run killed at any point is finished
    /// by running it again, and no row is written twice.
    func reencrypt(_ clinic: UUID, report: @Sendable (Progress) -> Void) async throws -> Progress {
        let requestID = self.requestID
        let (target, createdAt) = try await store.transaction(realm: clinic) { tx in
            let row = try await tx.sql.raw("""
                SELECT version, created_at_ms FROM realm_keys
                WHERE realm_id = \(bind: clinic) AND purpose = \(bind: WrapContext.Purpose.data.rawValue) ORDER BY version DESC LIMIT 1
                """).first()
            guard let row else { throw RealmKeyError.noKeys }
            return (KeyVersion(rawValue: UInt32(try row.decode(column: "version", as: Int64.self))),
                    Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)))
        }
        let settle = createdAt.addingTimeInterval(self.settle).timeIntervalSinceNow
        if settle > 0 { try await Task.sleep(nanoseconds: UInt64(settle * 1_000_000_000)) }
        try await store.transaction(realm: clinic) { tx in
            try await Ledger.append(Self.event(clinic, "keys.reencrypt.start", requestID: requestID, detail: "version=\(target)"), in: tx)
        }
        var total = Progress()
        for table in SealedTable.clinic {
            var progress = Progress(table: table.name)
            var after: UUID?
            while true {
                let batch = try await reencryptBatch(table, clinic: clinic, after: after)
                progress.rowsChecked += batch.rows
                progress.rowsResealed += batch.resealed
                progress.unreadable += batch.unreadable
                progress.tableDone = batch.last == nil
                report(progress)
                guard let last = batch.last else { break }
                after = last
            }
            total.rowsChecked += progress.rowsChecked
            total.rowsResealed += progress.rowsResealed
            total.unreadable += progress.unreadable
        }
        let finished = total
        try await store.transaction(realm: clinic) { tx in
            try await Ledger.append(Self.event(clinic, "keys.reencrypt", requestID: requestID,
                                               outcome: finished.unreadable.isEmpty ? .success : .failure,
                                               detail: "version=\(target) rows=\(finished.rowsChecked) resealed=\(finished.rowsResealed) unreadable=\(finished.unreadable.count)"), in: tx)
        }
        return total
    }

    private struct Batch: Sendable {
        var rows: Int64 = 0
        var resealed: Int64 = 0
        var unreadable: [String] = []
        var last: UUID?
    }

    private func reencryptBatch(_ table: SealedTable, clinic: UUID, after: UUID?) async throws -> Batch {
        let keyring = self.keyring
        return try await store.transaction(realm: clinic) { tx in
            let keys = try await keyring.keys(for: clinic, in: tx)
            let selected = table.name == SealedTable.patients.name ? PatientRepository.columns : "id, " + table.columns.joined(separator: ", ")
            var query = SQLQueryString("SELECT \(unsafeRaw: selected) FROM \(unsafeRaw: table.name) WHERE clinic_id = \(bind: clinic)")
            if let after { query.appendInterpolation(unsafeRaw: " AND id > "); query.appendInterpolation(bind: after) }
            query.appendInterpolation(unsafeRaw: " ORDER BY id LIMIT \(Self.batchSize)")
            let rows = try await tx.sql.raw(query).all()
            var batch = Batch(rows: Int64(rows.count))
            for row in rows {
                let id = try row.decode(column: "id", as: UUID.self)
                batch.last = id
                do {
                    let wrote = table.name == SealedTable.patients.name
                        ? try await PatientRepository.reseal(row, realm: clinic, keys: keys, in: tx)
                        : try await Self.reseal(row, id: id, table: table, clinic: clinic, keys: keys, in: tx)
                    if wrote { batch.resealed += 1 }
                } catch let error where error is KeyringError || (error as? ClinicError) == .integrityFailure {
                    batch.unreadable.append("\(table.name)/\(id)")
                }
            }
            return batch
        }
    }

    /// One row's sealed columns, each written only if it still holds the bytes that were read.
    /// A locked record (a signed consultation, an amendment, a prescription) admits exactly this
    /// change: see `AllowLockedReseal`.
    private static func reseal(_ row: any SQLRow, id: UUID, table: SealedTable, clinic: UUID, keys: RealmKeys,
                               in tx: ScopedSQL) async throws -> Bool {
        var wrote = false
        for column in table.columns {
            guard let bytes = try row.decode(column: column, as: Data?.self) else { continue }
            guard let resealed = try keys.resealed(try SealedField(bytes: bytes), table: table.name, column: column, row: id) else { continue }
            let hit = try await tx.sql.raw("""
                UPDATE \(unsafeRaw: table.name) SET \(unsafeRaw: column) = \(bind: resealed.bytes)
                WHERE clinic_id = \(bind: clinic) AND id = \(bind: id) AND \(unsafeRaw: column) = \(bind: bytes) RETURNING id
                """).first()
            if hit != nil { wrote = true }
        }
        return wrote
    }

    /// Destroys a version's wrapped data and index keys, once no sealed value names it.
    func retire(_ clinic: UUID, version: KeyVersion) async throws {
        let requestID = self.requestID
        try await store.transaction(realm: clinic) { tx in
            let row = try await tx.sql.raw("""
                SELECT is_current FROM realm_keys
                WHERE realm_id = \(bind: clinic) AND purpose = \(bind: WrapContext.Purpose.data.rawValue) AND version = \(bind: Int64(version.rawValue))
                """).first()
            guard let row else { throw Refusal.noSuchVersion(version) }
            guard try row.decode(column: "is_current", as: Int64.self) == 0 else { throw Refusal.isCurrent(version) }
            let counts = try await Self.sealedCounts(clinic, in: tx)
            let referenced = (counts.values[version] ?? 0) + (counts.patients[version] ?? 0)
            guard referenced == 0 else { throw Refusal.stillReferenced(version, counts.values[version] ?? 0) }
            try await tx.sql.raw("""
                DELETE FROM realm_keys WHERE realm_id = \(bind: clinic) AND version = \(bind: Int64(version.rawValue))
                """).run()
            try await Ledger.append(Self.event(clinic, "keys.retire", requestID: requestID, detail: "version=\(version)"), in: tx)
        }
        keyring.forget(clinic)
    }

    /// Sealed values per key version, read from each blob's header (bytes 2-5), and patients per
    /// version (a patient's blind indexes are always of its `given_name`'s version).
    private static func sealedCounts(_ clinic: UUID, in tx: ScopedSQL) async throws -> (values: [KeyVersion: Int64], patients: [KeyVersion: Int64]) {
        var values: [KeyVersion: Int64] = [:], patients: [KeyVersion: Int64] = [:]
        for table in SealedTable.clinic {
            for column in table.columns {
                let rows = try await tx.sql.raw("""
                    SELECT substr(\(unsafeRaw: column), 2, 4) AS version, COUNT(*) AS count FROM \(unsafeRaw: table.name)
                    WHERE clinic_id = \(bind: clinic) AND \(unsafeRaw: column) IS NOT NULL GROUP BY substr(\(unsafeRaw: column), 2, 4)
                    """).all()
                for row in rows {
                    let header = try row.decode(column: "version", as: Data.self)
                    guard header.count == 4 else { continue }
                    let version = KeyVersion(rawValue: header.reduce(0) { ($0 << 8) | UInt32($1) })
                    let count = try row.decode(column: "count", as: Int64.self)
                    values[version, default: 0] += count
                    if table.name == SealedTable.patients.name && column == "given_name" { patients[version, default: 0] += count }
                }
            }
        }
        return (values, patients)
    }

    private static func event(_ clinic: UUID, _ action: String, requestID: String, outcome: AuditEvent.Outcome = .success,
                              detail: String) -> AuditEvent {
        AuditEvent(chain: clinic, actor: nil, action: action, resourceType: "clinic_key", resource: clinic,
                   outcome: outcome, requestID: requestID, detail: detail)
    }
}
