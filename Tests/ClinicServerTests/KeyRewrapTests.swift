@testable import ClinicServer
import ClinicTestSupport
import Foundation
import Keyring
import SQLKit
import Testing
import Vapor

@Suite("Key-encryption key rewrap")
struct KeyRewrapTests {
    static func rewrap(_ app: ClinicTestApp) throws -> KeyRewrap {
        let provider = try #require(app.services.keyring.provider as? KeyFileProvider)
        return KeyRewrap(store: app.services.store, keyring: app.services.keyring, provider: provider, requestID: "test-rewrap")
    }

    // DAO-9, POR-4: the key-encryption key is replaced and the old one retired without losing a thing.
    // SQLite only here: PostgreSQL tests share one key file and key store, which a rewrap changes
    // under every other test at once; e2e/test_key_rewrap.py runs it on PostgreSQL against a server.
    @Test("after a rewrap everything is wrapped by the new key, the old one is gone, and a restarted server reads everything")
    func rewrapThenRestart() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let (patient, _) = try await app.createPatient(owner)
            let legacy = try await app.signUpClinic()
            let (legacyPatient, _) = try await app.createPatient(legacy)
            try await LegacyKeys.unroot(UUID(uuidString: legacy.clinicID)!, app: app)
            let provider = try #require(app.services.keyring.provider as? KeyFileProvider)

            let summary = try await Self.rewrap(app).run { _ in }
            #expect(summary.legacyRealmKeys == 2)
            #expect(summary.rootKeys >= 2)
            #expect(!summary.retired.contains(summary.current))
            // The key file itself, read as a restarted server reads it.
            let restarted = try KeyFileProvider.load(from: provider.path)
            #expect(restarted.keyIDs == [summary.current])
            let store = app.services.store
            for clinic in [owner.clinicID, legacy.clinicID].map({ UUID(uuidString: $0)! }) {
                let kekIDs = try await app.asOwner(realm: clinic.uuidString) { sql in
                    try await sql.raw("SELECT kek_id FROM realm_keys WHERE realm_id = \(bind: clinic)").all().map { try $0.decode(column: "kek_id", as: String.self) }
                }
                #expect(Set(kekIDs) == [RealmRootKey.keyID])
                #expect(try app.services.keyring.rootKeys.keyEncryptionKeyID(of: clinic) == summary.current)
                let fresh = RealmKeyring(provider: restarted, rootKeys: app.services.keyring.rootKeys)
                _ = try await store.transaction(realm: clinic) { tx in try await fresh.keys(for: clinic, in: tx) }
            }
            _ = try await AuditSigningKeys.load(store: store, provider: restarted, pins: SigningKeyPins(directory: app.settings.keystorePath),
                                                logger: app.app.logger)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(patient)", as: owner).status == .ok)
            #expect(try await app.send(.GET, "/api/v1/clinics/\(legacy.clinicID)/patients/\(legacyPatient)", as: legacy).status == .ok)
            #expect(try await app.identityActions().contains("keys.rewrap"))
        }
    }

    @Test("a rewrap stopped after its new key was made is finished by the next run, with that same key")
    func resumed() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let owner = try await app.signUpClinic()
            let (patient, _) = try await app.createPatient(owner)
            let provider = try #require(app.services.keyring.provider as? KeyFileProvider)
            let first = provider.currentKeyID
            let old = try await provider.beginRewrap()
            #expect(old == [first])
            let added = provider.currentKeyID
            let summary = try await Self.rewrap(app).run { _ in }
            #expect(summary.retired == [first] && summary.current == added)
            #expect(try KeyFileProvider.load(from: provider.path).keyIDs == [added])
            #expect(try await app.send(.GET, "/api/v1/clinics/\(owner.clinicID)/patients/\(patient)", as: owner).status == .ok)
        }
    }

    @Test("the signing keys refuse every change but a new wrapping", arguments: TestDatabase.allCases)
    func signingKeysStillAppendOnly(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            for statement in ["UPDATE audit_signing_keys SET public_key = wrapped_key", "UPDATE audit_signing_keys SET version = version + 100",
                              "DELETE FROM audit_signing_keys"] {
                await #expect(throws: (any Error).self, "\(statement)") {
                    try await app.asOwner(realm: IdentityRealm.id.uuidString) { sql in try await sql.raw(SQLQueryString(statement)).run() }
                }
            }
        }
    }
}
