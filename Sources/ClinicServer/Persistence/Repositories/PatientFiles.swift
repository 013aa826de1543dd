import ClinicDomain
import Crypto
import Foundation
import Keyring
import NIOCore
import SQLKit

struct StoredFileVersion: Sendable {
    let id: UUID
    let version: Int64
    let size: Int64
    let kind: FileKind
    let sha256: String
    let createdBy: UUID
    let createdAt: Date
}

struct StoredFile: Sendable {
    let id: UUID
    let patient: PatientID
    let name: String
    let createdAt: Date
    /// Oldest first; the last is the current one.
    let versions: [StoredFileVersion]
}

/// A patient's files. Each upload is a new version, sealed in chunks under a key of its own
/// (`FileFolder`); the key and the plaintext's hash are sealed with the clinic's keys in the
/// version's row. No version is ever changed or removed. Every list, upload and download is in
/// the clinic's audit chain, naming the patient.
///
/// An upload streams to disk before its row is written, outside any transaction, so a long
/// upload holds no database lock; the row, written last, is what makes the version exist.
struct PatientFiles: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let filesTable = "files"
    static let versionsTable = "file_versions"

    var folder: FileFolder { FileFolder(root: services.settings.filesPath) }

    func create<Body: AsyncSequence & Sendable>(patient: PatientID, name: String?, body: Body) async throws -> StoredFile
        where Body.Element == ByteBuffer {
        let name = try FileName.validated(name)
        let scope = self.scope, keyring = services.keyring
        try await services.store.transaction(realm: scope.realm) { tx -> Outcome<Void> in
            try await Self.requirePatient(patient, scope: scope, in: tx)
            // As for notes: adding to a record needs involvement already.
            if let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .document, in: tx) { return .refused(refusal) }
            return .done(())
        }.get()
        let file = UUID()
        let version = try await store(body) { written, fileKey, versionID in
            try await services.store.transaction(realm: scope.realm) { tx in
                try await Self.requirePatient(patient, scope: scope, in: tx)
                let keys = try await keyring.keys(for: scope.realm, in: tx)
                let now = Date().milliseconds
                try await tx.sql.raw("""
                    INSERT INTO files (id, clinic_id, patient_id, name, created_by, created_at_ms)
                    VALUES (\(bind: file), \(bind: scope.realm), \(bind: patient.rawValue),
                            \(bind: try keys.seal(name, table: Self.filesTable, column: "name", row: file).bytes), \(bind: scope.actor.rawValue), \(bind: now))
                    """).run()
                return try await Self.insertVersion(1, of: file, id: versionID, written: written, fileKey: fileKey, keys: keys,
                                                    scope: scope, now: now, action: "file.create", patient: patient,
                                                    quota: services.settings.clinicStorageQuota, in: tx)
            }
        }
        return StoredFile(id: file, patient: patient, name: name, createdAt: version.createdAt, versions: [version])
    }

    func addVersion<Body: AsyncSequence & Sendable>(to file: UUID, body: Body) async throws -> StoredFile where Body.Element == ByteBuffer {
        let scope = self.scope, keyring = services.keyring
        try await services.store.transaction(realm: scope.realm) { tx -> Outcome<Void> in
            let row = try await Self.fileRow(file, scope: scope, in: tx)
            return try await Self.involvement(row, scope: scope, in: tx)
        }.get()
        _ = try await store(body) { written, fileKey, versionID in
            try await services.store.transaction(realm: scope.realm) { tx in
                // Locks the file's row on PostgreSQL, so two uploads at once take the next two numbers.
                let row = try await Self.fileRow(file, scope: scope, in: tx, lock: true)
                let next = (try await tx.sql.raw("""
                    SELECT MAX(version) AS latest FROM file_versions WHERE clinic_id = \(bind: scope.realm) AND file_id = \(bind: file)
                    """).first()?.decode(column: "latest", as: Int64?.self) ?? 0) + 1
                let keys = try await keyring.keys(for: scope.realm, in: tx)
                return try await Self.insertVersion(next, of: file, id: versionID, written: written, fileKey: fileKey, keys: keys, scope: scope,
                                                    now: Date().milliseconds, action: "file.version",
                                                    patient: PatientID(try row.decode(column: "patient_id", as: UUID.self)),
                                                    quota: services.settings.clinicStorageQuota, in: tx)
            }
        }
        return try await describe(file, audited: false)
    }

    /// One file with all its versions.
    func describe(_ file: UUID, audited: Bool = true) async throws -> StoredFile {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<StoredFile> in
            let row = try await Self.fileRow(file, scope: scope, in: tx)
            if case let .refused(refusal) = try await Self.involvement(row, scope: scope, in: tx) { return .refused(refusal) }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let found = try await Self.files([row], keys: keys, scope: scope, in: tx)[0]
            if audited {
                try await Ledger.append(scope.event("file.describe", resourceType: "file", resource: file, detail: "patient=\(found.patient)"), in: tx)
            }
            return .done(found)
        }.get()
    }

    /// A patient's files, newest first.
    func list(patient: PatientID) async throws -> [StoredFile] {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<[StoredFile]> in
            try await Self.requirePatient(patient, scope: scope, in: tx, absent: ClinicError.notFound)
            if let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .document, in: tx) { return .refused(refusal) }
            let rows = try await tx.sql.raw("""
                SELECT id, patient_id, name, created_at_ms FROM files
                WHERE clinic_id = \(bind: scope.realm) AND patient_id = \(bind: patient.rawValue) ORDER BY created_at_ms DESC, id
                """).all()
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let found = try await Self.files(rows, keys: keys, scope: scope, in: tx)
            try await Ledger.append(scope.event("file.list", resourceType: "patient", resource: patient.rawValue, detail: "files=\(found.count)"), in: tx)
            return .done(found)
        }.get()
    }

    /// What a download needs: the file, the version asked for (the current one by default) and
    /// its key. The read is recorded before a byte is sent.
    struct Download: Sendable {
        let file: StoredFile
        let version: StoredFileVersion
        let key: SymmetricKey
    }

    func download(_ file: UUID, version number: Int64?) async throws -> Download {
        let scope = self.scope, keyring = services.keyring
        return try await services.store.transaction(realm: scope.realm) { tx -> Outcome<Download> in
            let row = try await Self.fileRow(file, scope: scope, in: tx)
            if case let .refused(refusal) = try await Self.involvement(row, scope: scope, in: tx) { return .refused(refusal) }
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let found = try await Self.files([row], keys: keys, scope: scope, in: tx)[0]
            guard let version = number.map({ n in found.versions.first { $0.version == n } }) ?? found.versions.last else {
                throw ClinicError.notFound
            }
            let keyRow = try await tx.sql.raw("""
                SELECT id, file_key FROM file_versions WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: version.id)
                """).first()
            guard let keyRow, let key = Data(base64Encoded: try keys.openRequiredColumn(keyRow, table: Self.versionsTable, column: "file_key", id: version.id)),
                  key.count == 32 else { throw ClinicError.integrityFailure }
            try await Ledger.append(scope.event("file.read", resourceType: "file", resource: file,
                                                detail: "patient=\(found.patient) version=\(version.version)"), in: tx)
            return .done(Download(file: found, version: version, key: SymmetricKey(data: key)))
        }.get()
    }

    /// Case-based access for the patient a file row belongs to (`PatientInvolvement`).
    private static func involvement(_ row: any SQLRow, scope: ClinicScope, in tx: ScopedSQL) async throws -> Outcome<Void> {
        let patient = PatientID(try row.decode(column: "patient_id", as: UUID.self))
        if let refusal = try await PatientInvolvement.refusal(scope, patient: patient, .document, in: tx) { return .refused(refusal) }
        return .done(())
    }

    // MARK: - Steps

    /// Streams `body` into a new version's file under a fresh key, then runs `record`; if the
    /// record is not written, the bytes are removed again.
    private func store<Body: AsyncSequence & Sendable>(
        _ body: Body, record: (FileFolder.Written, SymmetricKey, UUID) async throws -> StoredFileVersion
    ) async throws -> StoredFileVersion where Body.Element == ByteBuffer {
        let fileKey = SymmetricKey(size: .bits256), versionID = UUID(), folder = self.folder, clinic = scope.realm
        // The clinic's quota (review round 2, A13): what is left of it bounds this upload too.
        let quota = services.settings.clinicStorageQuota
        let room = quota - (try await services.store.transaction(realm: clinic) { tx in try await Self.bytesStored(scope: self.scope, in: tx) })
        guard room > 0 else { throw ClinicError.storageFull }
        let limit = min(services.settings.maximumUploadBytes, room)
        let written: FileFolder.Written
        do {
            written = try await folder.write(body, clinic: clinic, version: versionID, key: fileKey, limit: limit)
        } catch FileRefusal.tooLarge where limit < services.settings.maximumUploadBytes {
            throw ClinicError.storageFull
        } catch let refusal as FileRefusal {
            throw refusal.clinicError
        }
        do {
            return try await record(written, fileKey, versionID)
        } catch {
            try? FileManager.default.removeItem(atPath: folder.path(clinic: clinic, version: versionID))
            throw error
        }
    }

    /// Every version's bytes the clinic keeps.
    static func bytesStored(scope: ClinicScope, in tx: ScopedSQL) async throws -> Int64 {
        try await tx.sql.raw("SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) AS used FROM file_versions WHERE clinic_id = \(bind: scope.realm)").first()?
            .decode(column: "used", as: Int64.self) ?? 0
    }

    private static func insertVersion(_ number: Int64, of file: UUID, id: UUID, written: FileFolder.Written, fileKey: SymmetricKey,
                                      keys: RealmKeys, scope: ClinicScope, now: Int64, action: String, patient: PatientID,
                                      quota: Int64, in tx: ScopedSQL) async throws -> StoredFileVersion {
        // Checked again as the version is written: uploads that ran side by side may not pass the quota together.
        guard try await bytesStored(scope: scope, in: tx) + written.size <= quota else { throw ClinicError.storageFull }
        let keyText = fileKey.withUnsafeBytes { Data($0).base64EncodedString() }
        try await tx.sql.raw("""
            INSERT INTO file_versions (id, clinic_id, file_id, version, size_bytes, kind, file_key, sha256, created_by, created_at_ms)
            VALUES (\(bind: id), \(bind: scope.realm), \(bind: file), \(bind: number), \(bind: written.size), \(bind: written.kind.rawValue),
                    \(bind: try keys.seal(keyText, table: versionsTable, column: "file_key", row: id).bytes),
                    \(bind: try keys.seal(written.sha256, table: versionsTable, column: "sha256", row: id).bytes),
                    \(bind: scope.actor.rawValue), \(bind: now))
            """).run()
        try await Ledger.append(scope.event(action, resourceType: "file", resource: file,
                                            detail: "patient=\(patient) version=\(number) kind=\(written.kind.rawValue) size=\(written.size)"), in: tx)
        return StoredFileVersion(id: id, version: number, size: written.size, kind: written.kind, sha256: written.sha256,
                                 createdBy: scope.actor.rawValue, createdAt: Date(milliseconds: now))
    }

    private static func requirePatient(_ patient: PatientID, scope: ClinicScope, in tx: ScopedSQL,
                                       absent: ClinicError = .invalid("patientId", "No patient with this id in this clinic.", code: "unknown_reference")) async throws {
        let row = try await tx.sql.raw("SELECT id FROM patients WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: patient.rawValue)").first()
        guard row != nil else { throw absent }
    }

    private static func fileRow(_ file: UUID, scope: ClinicScope, in tx: ScopedSQL, lock: Bool = false) async throws -> any SQLRow {
        let row = try await tx.sql.raw("""
            SELECT id, patient_id, name, created_at_ms FROM files WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: file)
            \(unsafeRaw: lock && tx.kind == .postgres ? "FOR UPDATE" : "")
            """).first()
        guard let row else { throw ClinicError.notFound }
        return row
    }

    /// Opens the names of `rows` (files) and reads their versions.
    private static func files(_ rows: [any SQLRow], keys: RealmKeys, scope: ClinicScope, in tx: ScopedSQL) async throws -> [StoredFile] {
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.decode(column: "id", as: UUID.self) }
        var versions: [UUID: [StoredFileVersion]] = [:]
        let versionRows = try await tx.sql.raw("""
            SELECT id, file_id, version, size_bytes, kind, sha256, created_by, created_at_ms FROM file_versions
            WHERE clinic_id = \(bind: scope.realm) AND file_id IN (\(binds: ids)) ORDER BY file_id, version
            """).all()
        for row in versionRows {
            let id = try row.decode(column: "id", as: UUID.self)
            guard let kind = FileKind(rawValue: try row.decode(column: "kind", as: String.self)) else { throw ClinicError.integrityFailure }
            versions[try row.decode(column: "file_id", as: UUID.self), default: []].append(StoredFileVersion(
                id: id, version: try row.decode(column: "version", as: Int64.self), size: try row.decode(column: "size_bytes", as: Int64.self),
                kind: kind, sha256: try keys.openRequiredColumn(row, table: versionsTable, column: "sha256", id: id),
                createdBy: try row.decode(column: "created_by", as: UUID.self),
                createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self))))
        }
        return try zip(rows, ids).map { row, id in
            StoredFile(id: id, patient: PatientID(try row.decode(column: "patient_id", as: UUID.self)),
                       name: try keys.openRequiredColumn(row, table: filesTable, column: "name", id: id),
                       createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                       versions: versions[id] ?? [])
        }
    }
}

extension ClinicError {
    static let storageFull = ClinicError.conflict("storage_full", "This clinic's file storage is full: remove old files or ask the operator for more room.")
}
