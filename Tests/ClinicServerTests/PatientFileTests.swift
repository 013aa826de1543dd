@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Crypto
import Foundation
import Keyring
import NIOCore
import SQLKit
import Testing
import Vapor

@Suite("Patient files")
struct PatientFileTests {
    /// A PDF-looking file of `size` bytes with a canary written all through it.
    static func scan(_ size: Int, canary: String) -> Data {
        var bytes = Data("%PDF-1.7\n".utf8)
        let line = Data(" \(canary) ".utf8)
        while bytes.count < size { bytes.append(line) }
        return bytes.prefix(size)
    }

    static func storedBytes(_ app: ClinicTestApp, clinic: String) throws -> Data {
        let folder = app.settings.filesPath + "/" + clinic.lowercased()
        var all = Data()
        for name in try FileManager.default.contentsOfDirectory(atPath: folder) {
            all.append(try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)))
        }
        return all
    }

    // DAO-3: no file route answers without a session
    @Test("without a session, a file, its bytes and a patient's list of files answer 401 and show nothing")
    func noSessionNoFile() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let team = try await app.clinicTeam()
            let text = "Referral \(Canary.word("Rf"))"
            let uploaded = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=referral.txt"), as: team.receptionist,
                                              bytes: Data(text.utf8))
            let id = try #require(uploaded.json["id"] as? String)
            for path in ["files/\(id)", "files/\(id)/content", "patients/\(team.patientID)/files"] {
                let answer = try await app.send(.GET, team.path(path))
                #expect(answer.status == .unauthorized && !answer.text.contains(text) && !answer.text.contains("referral"), "\(path)")
            }
        }
    }

    // Security review round 2, A6
    @Test("a download is named with the extension of what it is, not what the uploader called it")
    func downloadNamedByKind() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let team = try await app.clinicTeam()
            let name = "run\u{202E}lmth.html".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let uploaded = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=\(name)"), as: team.receptionist,
                                              bytes: Data("Referral: knee pain".utf8))
            let id = try #require(uploaded.json["id"] as? String)
            let downloaded = try await app.send(.GET, team.path("files/\(id)/content"), as: team.practitioner)
            #expect(downloaded.headers.first(name: .contentDisposition) == "attachment; filename*=UTF-8''runlmth.txt")
        }
    }

    // DAO-6: files are encrypted at rest, in chunks, under keys the clinic's keys seal
    @Test("a file round-trips through upload and download, and neither its bytes nor its name are stored in the clear", arguments: TestDatabase.allCases)
    func roundTrip(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let canary = Canary.word("Scan")
            let name = "Consent \(Canary.word("Nm")).pdf"
            let scan = Self.scan(3 * FileCipher.chunkSize + 1234, canary: canary)
            let query = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let uploaded = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=\(query)"), as: team.receptionist, bytes: scan)
            #expect(uploaded.status == .created, "\(uploaded.text)")
            let id = try #require(uploaded.json["id"] as? String)
            let versions = try #require(uploaded.json["versions"] as? [[String: Any]])
            let hash = SHA256.hash(data: scan).map { String(format: "%02x", $0) }.joined()
            #expect(versions.count == 1 && versions[0]["sha256"] as? String == hash && versions[0]["mediaType"] as? String == "application/pdf")
            #expect(versions[0]["size"] as? Int == scan.count)

            let downloaded = try await app.send(.GET, team.path("files/\(id)/content"), as: team.practitioner)
            #expect(downloaded.status == .ok && downloaded.body == scan)
            #expect(downloaded.headers.contentType?.serialize() == "application/pdf")
            #expect(downloaded.headers.first(name: .contentDisposition)?.hasPrefix("attachment; filename*=UTF-8''Consent%20") == true)
            #expect(downloaded.headers.first(name: "Repr-Digest") == "sha-256=:\(Data(SHA256.hash(data: scan)).base64EncodedString()):")

            let stored = try Self.storedBytes(app, clinic: team.clinic)
            #expect(stored.count > scan.count)
            #expect(!stored.contains(Data(canary.utf8)) && !stored.contains(Data("%PDF".utf8)))
            let row = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("SELECT f.name, v.file_key, v.sha256 FROM files f JOIN file_versions v ON v.file_id = f.id").first()!
            }
            for column in ["name", "file_key", "sha256"] {
                let bytes = try row.decode(column: column, as: Data.self)
                #expect(bytes.first == 1 && !bytes.contains(Data(name.utf8)) && !bytes.contains(Data(hash.utf8)))
            }
        }
    }

    // DAO-6: versioning, so an overwritten file can be recovered
    @Test("a new version is added beside the old one, and each version downloads as it was", arguments: TestDatabase.allCases)
    func versionsAreKept(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let first = Data("First referral letter\n".utf8), second = Data("Second referral letter, corrected\n".utf8)
            let created = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=referral.txt"), as: team.practitioner, bytes: first)
            let id = try #require(created.json["id"] as? String)
            let added = try await app.send(.POST, team.path("files/\(id)/versions"), as: team.receptionist, bytes: second)
            #expect(added.status == .created)
            #expect((added.json["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 2])
            #expect(try await app.send(.GET, team.path("files/\(id)/content"), as: team.owner).body == second)
            #expect(try await app.send(.GET, team.path("files/\(id)/content?version=1"), as: team.owner).body == first)
            #expect(try await app.send(.GET, team.path("files/\(id)/content?version=3"), as: team.owner).status == .notFound)
            #expect(try await app.send(.GET, team.path("files/\(id)/content?version=x"), as: team.owner).status == .badRequest)
            let listed = try await app.send(.GET, team.path("patients/\(team.patientID)/files"), as: team.receptionist)
            #expect((listed.json["files"] as? [[String: Any]])?.map { $0["name"] as? String } == ["referral.txt"])
            // The database keeps them too: the server's role cannot remove a version.
            let removal = try? await app.services.store.transaction(realm: UUID(uuidString: team.clinic)!) { tx in
                try await tx.sql.raw("DELETE FROM file_versions WHERE file_id = \(bind: UUID(uuidString: id)!)").run()
            }
            #expect(removal == nil)
            let actions = try await app.asOwner(realm: team.clinic) { sql in
                try await sql.raw("SELECT action FROM audit_events WHERE chain_id = \(bind: UUID(uuidString: team.clinic)!) AND action LIKE 'file.%' ORDER BY sequence").all()
                    .map { try $0.decode(column: "action", as: String.self) }
            }
            #expect(actions == ["file.create", "file.version", "file.read", "file.read", "file.list"])
        }
    }

    @Test("a file's kind is told from its content: markup, programs and empty files are refused whatever their name", arguments: TestDatabase.allCases)
    func kindFromContent(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let path = team.path("patients/\(team.patientID)/files?name=scan.pdf")
            for refused in [Data("<html><script>alert(1)</script></html>".utf8), Data("  <svg onload=alert(1)>".utf8), Data([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]),
                            Data([0x4D, 0x5A, 0x90, 0x00])] {
                let answer = try await app.send(.POST, path, as: team.receptionist, headers: ["Content-Type": "application/pdf"], bytes: refused)
                #expect(answer.status == .unsupportedMediaType && answer.errorCode == "unsupported_file_kind")
            }
            let empty = try await app.send(.POST, path, as: team.receptionist, bytes: Data())
            #expect(empty.status == .badRequest && empty.errorCode == "empty_file")
            let png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])
            let named = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=notes.txt"), as: team.receptionist, bytes: png)
            #expect((named.json["versions"] as? [[String: Any]])?.first?["mediaType"] as? String == "image/png")
            let badName = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=a/b"), as: team.receptionist, bytes: png)
            #expect(badName.status == .badRequest && badName.errorField == "name")
            // Nothing refused was left on disk.
            let left = try FileManager.default.contentsOfDirectory(atPath: app.settings.filesPath + "/" + team.clinic.lowercased())
            #expect(left.count == 1)
        }
    }

    @Test("an upload larger than the limit is refused, declared or not", arguments: TestDatabase.allCases)
    func sizeBound(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.maximumUploadBytes = 100_000 }) { app in
            let team = try await app.clinicTeam()
            let path = team.path("patients/\(team.patientID)/files?name=big.pdf")
            let big = Self.scan(100_001, canary: "x")
            let answer = try await app.send(.POST, path, as: team.receptionist, bytes: big)
            #expect(answer.status == .payloadTooLarge && answer.errorCode == "file_too_large")
            #expect(try await app.send(.POST, path, as: team.receptionist, bytes: Self.scan(100_000, canary: "x")).status == .created)
        }
    }

    // DAO-3, PRX-5: files are never reachable without an authorised session of the right role and clinic
    @Test("bookkeepers see no files; another clinic's file or patient is not found", arguments: TestDatabase.allCases)
    func permissionsAndTenancy(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let team = try await app.clinicTeam()
            let created = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=a.txt"), as: team.owner, bytes: Data("hello".utf8))
            let id = try #require(created.json["id"] as? String)
            #expect(try await app.send(.GET, team.path("files/\(id)/content"), as: team.bookkeeper).status == .forbidden)
            #expect(try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=b.txt"), as: team.bookkeeper, bytes: Data("x".utf8)).status == .forbidden)
            let other = try await app.signUpClinic()
            let otherPath = "/api/v1/clinics/\(other.clinicID)"
            #expect(try await app.send(.GET, "\(otherPath)/files/\(id)/content", as: other).status == .notFound)
            #expect(try await app.send(.GET, "\(otherPath)/files/\(id)", as: other).status == .notFound)
            #expect(try await app.send(.POST, "\(otherPath)/files/\(id)/versions", as: other, bytes: Data("x".utf8)).status == .notFound)
            #expect(try await app.send(.GET, "\(otherPath)/patients/\(team.patientID)/files", as: other).status == .notFound)
            let foreign = try await app.send(.POST, "\(otherPath)/patients/\(team.patientID)/files?name=c.txt", as: other, bytes: Data("x".utf8))
            #expect(foreign.status == .badRequest && foreign.errorCode == "unknown_reference")
            #expect(try await app.send(.GET, team.path("files/\(id)/content"), as: other).status == .notFound)
            // A patient with files is kept with them.
            #expect(try await app.send(.DELETE, team.path("patients/\(team.patientID)"), as: team.owner).status == .conflict)
        }
    }

    @Test("stored bytes that were altered, cut short or swapped for another version's do not open")
    func tamperedBytesDoNotOpen() async throws {
        let folder = FileFolder(root: NSTemporaryDirectory() + "clinickeep-files-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(atPath: folder.root) }
        let clinic = UUID(), key = SymmetricKey(size: .bits256)
        let plaintext = Self.scan(2 * FileCipher.chunkSize + 10, canary: "c")
        func write(_ version: UUID) async throws -> FileFolder.Written {
            let parts = stride(from: 0, to: plaintext.count, by: 10_000).map { ByteBuffer(data: plaintext[$0..<min($0 + 10_000, plaintext.count)]) }
            return try await folder.write(parts.async, clinic: clinic, version: version, key: key, limit: 1 << 30)
        }
        func read(_ version: UUID) async throws -> Data {
            var out = Data()
            try await folder.read(clinic: clinic, version: version, key: key, size: Int64(plaintext.count)) { out.append(Data(buffer: $0)) }
            return out
        }
        let a = UUID(), b = UUID()
        #expect(try await write(a).size == Int64(plaintext.count))
        _ = try await write(b)
        #expect(try await read(a) == plaintext)
        let pathA = folder.path(clinic: clinic, version: a)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: pathA))
        bytes[bytes.startIndex + FileCipher.headerSize + 100] ^= 1
        try bytes.write(to: URL(fileURLWithPath: pathA))
        await #expect(throws: KeyringError.self) { _ = try await read(a) }
        try Data(bytes.prefix(FileCipher.headerSize + FileCipher.storedChunkSize)).write(to: URL(fileURLWithPath: pathA))
        await #expect(throws: KeyringError.self) { _ = try await read(a) }
        try FileManager.default.removeItem(atPath: pathA)
        try FileManager.default.copyItem(atPath: folder.path(clinic: clinic, version: b), toPath: pathA)
        await #expect(throws: KeyringError.self) { _ = try await read(a) }
    }
}

extension Array where Element: Sendable {
    /// The elements as an asynchronous sequence, as a request body arrives.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}

/// Security review round 2, A13: one clinic could fill the server's disk.
@Suite("File storage quota")
struct FileQuotaTests {
    @Test("past the clinic's quota an upload answers 409 storage_full and keeps nothing; another clinic still uploads", arguments: TestDatabase.allCases)
    func quota(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database, adjust: { $0.clinicStorageQuota = 150_000 }) { app in
            let team = try await app.clinicTeam()
            let text = Data(String(repeating: "Referral note line\n", count: 5_000).utf8)  // 95,000 bytes
            let first = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=a.txt"), as: team.receptionist, bytes: text)
            #expect(first.status == .created)
            let second = try await app.send(.POST, team.path("patients/\(team.patientID)/files?name=b.txt"), as: team.receptionist, bytes: text)
            #expect(second.status == .conflict && second.errorCode == "storage_full")
            let listed = try await app.send(.GET, team.path("patients/\(team.patientID)/files"), as: team.practitioner)
            #expect((listed.json["files"] as? [Any])?.count == 1)
            let other = try await app.clinicTeam()
            #expect(try await app.send(.POST, other.path("patients/\(other.patientID)/files?name=a.txt"), as: other.receptionist, bytes: text).status == .created)
        }
    }
}
