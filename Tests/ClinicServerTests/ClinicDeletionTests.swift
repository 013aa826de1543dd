@testable import ClinicServer
import ClinicTestSupport
import Foundation
import Keyring
import NIOConcurrencyHelpers
import SQLKit
import Testing
import Vapor

@Suite("Clinic deletion")
struct ClinicDeletionTests {
    static func delete(_ app: ClinicTestApp, _ clinic: String) async throws -> ClinicDeletion.Outcome {
        try await ClinicDeletion(store: app.services.store, keyring: app.services.keyring, files: FileFolder(root: app.settings.filesPath))
            .delete(UUID(uuidString: clinic)!, context: RequestContext(actor: nil, address: nil, requestID: "test"))
    }

    // DU-9, DAO-11: deleted on request; the keys go, and with them every way back to the data
    @Test("a deleted clinic's wrapped keys, as any earlier copy of the database holds them, no longer open; other clinics read on", arguments: TestDatabase.allCases)
    func copyUnreadable(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let gone = try await app.signUpClinic()
            let kept = try await app.signUpClinic()
            let (goneOwnPatient, _) = try await app.createPatient(gone)
            let (keptPatient, _) = try await app.createPatient(kept)
            let clinic = UUID(uuidString: gone.clinicID)!
            // What a backup taken now holds of the clinic's keys.
            let copy = try await app.asOwner(realm: gone.clinicID) { sql in
                try await sql.raw("SELECT purpose, version, wrapped_key, kek_id FROM realm_keys WHERE realm_id = \(bind: clinic)").all()
            }
            #expect(copy.count == 2)

            let outcome = try await Self.delete(app, gone.clinicID)
            #expect(outcome == ClinicDeletion.Outcome(shreddedEverywhere: true, alreadyDeleted: false))

            // Every key material that survives: the provider's key-encryption key and the key store.
            let survivor = RealmKeyring(provider: app.services.keyring.provider, rootKeys: try RealmRootKeyStore(directory: app.settings.keystorePath))
            for row in copy {
                let kekID = try row.decode(column: "kek_id", as: String.self)
                #expect(kekID == RealmRootKey.keyID)
                await #expect(throws: KeyringError.realmKeysDestroyed) { try await survivor.rootKey(for: clinic) }
                // Nor does the key-encryption key open it directly.
                await #expect(throws: (any Error).self) {
                    _ = try await survivor.provider.unwrapDataKey(try row.decode(column: "wrapped_key", as: Data.self), keyID: kekID, realm: clinic,
                                                                  version: .first)
                }
            }
            #expect(try await app.send(.GET, "/api/v1/clinics/\(gone.clinicID)/patients/\(goneOwnPatient)", as: gone).status == .notFound)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(kept.clinicID)/patients/\(keptPatient)", as: kept).status == .ok)
            let me = try await app.send(.GET, "/api/v1/me", as: gone)
            #expect((me.json["memberships"] as? [[String: Any]])?.isEmpty == true)
            #expect(try await Self.delete(app, gone.clinicID).alreadyDeleted)
            #expect(try await app.verifyLedger(clinic: gone.clinicID).fault == nil)
        }
    }

    // DU-9: literally a copy of the SQLite file, opened by a server with the surviving key material
    @Test("a server started on a copy of the SQLite file taken before the deletion cannot read the deleted clinic")
    func sqliteCopyUnreadable() async throws {
        let copyDirectory = NSTemporaryDirectory() + "clinickeep-copy-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: copyDirectory) }
        // The surviving key store, copied out of the way of the first app's cleanup.
        let keystore = copyDirectory + "/surviving-keystore"
        let captured = NIOLockedValueBox<(gone: TestSession, kept: TestSession, gonePatient: String, keptPatient: String)?>(nil)
        try await ClinicTestApp.with(.sqlite) { app in
            let gone = try await app.signUpClinic()
            let kept = try await app.signUpClinic()
            let (gonePatient, _) = try await app.createPatient(gone)
            let (keptPatient, _) = try await app.createPatient(kept)
            captured.withLockedValue { $0 = (gone, kept, gonePatient, keptPatient) }
            _ = try await app.serverConnectionWithoutRealm.raw("PRAGMA wal_checkpoint(TRUNCATE)").all()
            try FileManager.default.createDirectory(atPath: copyDirectory, withIntermediateDirectories: true)
            for file in ["clinickeep.sqlite", "key-encryption-key.json"] {
                try FileManager.default.copyItem(atPath: app.settings.dataDirectory + "/" + file, toPath: copyDirectory + "/" + file)
            }
            _ = try await Self.delete(app, gone.clinicID)
            try FileManager.default.copyItem(atPath: app.settings.keystorePath, toPath: keystore)
        }
        let (gone, kept, gonePatient, keptPatient) = try #require(captured.withLockedValue { $0 })
        try await ClinicTestApp.with(.sqlite, adjust: { settings in
            settings.dataDirectory = copyDirectory
            settings.keystoreDirectory = keystore
        }) { restored in
            let read = try await restored.send(.GET, "/api/v1/clinics/\(gone.clinicID)/patients/\(gonePatient)", as: gone)
            #expect(read.status == .gone)
            #expect(read.errorCode == "clinic_deleted")
            #expect(try await restored.send(.GET, "/api/v1/clinics/\(kept.clinicID)/patients/\(keptPatient)", as: kept).status == .ok)
        }
    }

    @Test("a clinic created before root keys is deleted too, and says its older copies are not shredded", arguments: TestDatabase.allCases)
    func legacyClinic(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            // As an install from before root keys left it: the clinic's keys wrapped by the key-encryption key itself.
            let clinic = UUID(uuidString: owner.clinicID)!
            try await LegacyKeys.unroot(clinic, app: app)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients", as: owner).status == .ok)
            let outcome = try await Self.delete(app, owner.clinicID)
            #expect(outcome == ClinicDeletion.Outcome(shreddedEverywhere: false, alreadyDeleted: false))
        }
    }
}

/// Puts a clinic's keys back the way a version before root keys stored them.
enum LegacyKeys {
    static func unroot(_ clinic: UUID, app: ClinicTestApp) async throws {
        let keyring = app.services.keyring
        let provider = keyring.provider
        try await app.services.store.transaction(realm: clinic) { tx in
            let keys = try await keyring.keys(for: clinic, in: tx)
            try await tx.sql.raw("DELETE FROM realm_keys WHERE realm_id = \(bind: clinic)").run()
            for (purpose, wrapped) in [(WrapContext.Purpose.data, try await provider.wrap(keys.current, realm: clinic)),
                                       (.index, try await provider.wrap(keys.indexKey, realm: clinic))] {
                try await tx.sql.raw("""
                    INSERT INTO realm_keys (realm_id, purpose, version, wrapped_key, kek_id, is_current, created_at_ms)
                    VALUES (\(bind: clinic), \(bind: purpose.rawValue), 1, \(bind: wrapped.bytes), \(bind: wrapped.keyID), 1, 0)
                    """).run()
            }
        }
        try keyring.destroy(clinic)
    }
}

@Suite("Clinic deletion through the API")
struct ClinicDeletionAPITests {
    // DU-9, DAO-11: the owner deletes on request, with their password and the clinic's id typed again
    @Test("the owner deletes the clinic with their password and its id; anyone else, a wrong password or no confirmation is refused", arguments: TestDatabase.allCases)
    func ownerDeletes(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let admin = try await app.addMember(to: owner, roles: ["admin"])
            let (patient, _) = try await app.createPatient(owner)
            let path = "/api/v1/clinics/\(owner.clinicID)"
            let asAdmin = try await app.send(.DELETE, path, json: ["password": admin.password, "confirmClinicId": owner.clinicID], as: admin)
            #expect(asAdmin.status == .forbidden)
            let unconfirmed = try await app.send(.DELETE, path, json: ["password": owner.password], as: owner)
            #expect(unconfirmed.status == .badRequest && unconfirmed.errorField == "confirmClinicId")
            let wrong = try await app.send(.DELETE, path, json: ["password": "not the password at all", "confirmClinicId": owner.clinicID], as: owner)
            #expect(wrong.status == .badRequest && wrong.errorCode == "invalid_credentials")
            #expect(try await app.send(.GET, "\(path)/patients/\(patient)", as: owner).status == .ok)

            let deleted = try await app.send(.DELETE, path, json: ["password": owner.password, "confirmClinicId": owner.clinicID], as: owner)
            #expect(deleted.status == .noContent)
            #expect(try await app.send(.GET, "\(path)/patients/\(patient)", as: owner).status == .notFound)
            #expect(!app.services.keyring.rootKeys.contains(UUID(uuidString: owner.clinicID)!))
            #expect(try await app.identityActions().contains("clinic.delete"))
        }
    }
}
