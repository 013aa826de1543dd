@testable import ClinicServer
import ClinicDomain
import ClinicTestSupport
import Crypto
import Foundation
import Keyring
import SQLKit
import Testing

/// Security review round 2, A8 and A15: rows in the database must not choose a realm's keys.
@Suite("Keys the database cannot choose")
struct KeyChoiceTests {
    @Test("a stored key of a clinic with a root key that names the key-encryption key directly is refused", arguments: TestDatabase.allCases)
    func providerWrappedKeyRefused(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let clinic = try #require(UUID(uuidString: owner.clinicID))
            let keyring = app.services.keyring, store = app.services.store
            // A key the writer knows, wrapped by the provider (as someone able to ask KMS to encrypt could).
            let chosen = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            let wrapped = try await keyring.provider.wrap(chosen, context: WrapContext(realm: clinic, purpose: .data, version: .first))
            try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("""
                    UPDATE realm_keys SET wrapped_key = \(bind: wrapped.bytes), kek_id = \(bind: wrapped.keyID)
                    WHERE realm_id = \(bind: clinic) AND purpose = 'data' AND version = 1
                    """).run()
            }
            keyring.forget(clinic)
            await #expect(throws: RealmKeyError.self) {
                try await store.transaction(realm: clinic) { tx in _ = try await keyring.keys(for: clinic, in: tx) }
            }
        }
    }

    // A15: the current version was whichever row said so.
    @Test("the newest key version is current, whichever row the database marks current", arguments: TestDatabase.allCases)
    func newestIsCurrent(_ database: TestDatabase) async throws {
        try await ClinicTestApp.with(database) { app in
            let owner = try await app.signUpClinic()
            let clinic = try #require(UUID(uuidString: owner.clinicID))
            let keyring = app.services.keyring, store = app.services.store
            let rotated = try await KeyRotationTests.rotation(app).rotate(clinic)
            try await app.asOwner(realm: owner.clinicID) { sql in
                try await sql.raw("UPDATE realm_keys SET is_current = CASE WHEN version = 1 THEN 1 ELSE 0 END WHERE realm_id = \(bind: clinic)").run()
            }
            keyring.forget(clinic)
            let current = try await store.transaction(realm: clinic) { tx in try await keyring.keys(for: clinic, in: tx).current.version }
            #expect(current == rotated)
        }
    }
}
