import AuditLedger
import ClinicTestSupport
import Foundation
import Keyring
import SQLKit
import Testing
import Vapor
@testable import ClinicServer

/// Security review round 2, A15: the checkpoint-signing keys the database holds are trusted
/// only as far as the pins in the key store, outside the database, allow. SQLite only: a key
/// row added to the shared PostgreSQL database would stay (the table is append-only) and
/// reach every other test.
@Suite("Checkpoint-signing key pins")
struct SigningKeyPinTests {
    func load(_ app: ClinicTestApp) async throws -> (signer: CheckpointSigner, keys: CheckpointKeys, chainKeys: [ChainKey]) {
        try await AuditSigningKeys.load(store: app.services.store, provider: app.services.keyring.provider,
                                        pins: SigningKeyPins(directory: app.settings.keystorePath), logger: app.app.logger)
    }

    @Test("the first start pins the signing key's public half in the key store")
    func pinnedAtFirstStart() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let stored = try await app.asOwner(realm: IdentityRealm.id.uuidString.lowercased()) { sql in
                try await sql.raw("SELECT public_key FROM audit_signing_keys WHERE version = 1").all().map { try $0.decode(column: "public_key", as: Data.self) }
            }
            let pins = try #require(try SigningKeyPins(directory: app.settings.keystorePath).read())
            #expect(pins == [1: try #require(stored.first)])
        }
    }

    @Test("a signing key added to the database, wrapped by the real provider, is never used to sign or to verify")
    func unpinnedVersionIgnored() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let planted = CheckpointSigner.generate(version: 2)
            let wrapped = try await app.services.keyring.provider.wrap(planted.rawPrivateKey, context: AuditSigningKeys.context(version: 2))
            try await app.asOwner(realm: IdentityRealm.id.uuidString.lowercased()) { sql in
                try await sql.raw("""
                    INSERT INTO audit_signing_keys (version, public_key, wrapped_key, kek_id, created_at_ms)
                    VALUES (2, \(bind: planted.publicKey), \(bind: wrapped.bytes), \(bind: wrapped.keyID), 0)
                    """).run()
            }
            let restarted = try await load(app)
            #expect(restarted.signer.version == 1)
            #expect(restarted.keys.versions == [1] && restarted.keys.publicKey(version: 2) == nil)
            #expect(restarted.chainKeys.count == 1)
            // Nor when the pins are gone (a key store restored from before pinning): only version 1 is pinned again.
            let pins = SigningKeyPins(directory: app.settings.keystorePath)
            let first = try #require(try pins.read()?[1])
            try FileManager.default.removeItem(atPath: pins.path)
            let repinned = try await load(app)
            #expect(repinned.signer.version == 1 && repinned.keys.versions == [1])
            #expect(try pins.read() == [1: first])
        }
    }

    @Test("a pinned key that no longer matches the database stops the start")
    func changedPinRefused() async throws {
        try await ClinicTestApp.with(.sqlite) { app in
            let pins = SigningKeyPins(directory: app.settings.keystorePath)
            let other = CheckpointSigner.generate(version: 1)
            let file = "{\"format\": 1, \"keys\": {\"1\": \"\(other.publicKey.base64EncodedString())\"}}"
            try Data(file.utf8).write(to: URL(fileURLWithPath: pins.path))
            await #expect(throws: LedgerError.self) { _ = try await load(app) }
        }
    }
}
