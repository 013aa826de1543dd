import Foundation
import Testing
@testable import Keyring

@Suite("Realm root keys")
struct RealmRootKeyTests {
    func temporaryStore() throws -> RealmRootKeyStore {
        try RealmRootKeyStore(directory: NSTemporaryDirectory() + "keystore-" + UUID().uuidString)
    }

    func provider() throws -> KeyFileProvider {
        try KeyFileProvider.openOrCreate(at: NSTemporaryDirectory() + "kek-\(UUID().uuidString).json").provider
    }

    // POR-4: kept outside the database, readable by its owner only
    @Test("a root key is stored wrapped, in a private file of a private directory")
    func storedPrivately() async throws {
        let store = try temporaryStore()
        let realm = UUID()
        _ = try await store.create(for: realm, provider: try provider())
        let directoryMode = try FileManager.default.attributesOfItem(atPath: store.directory)[.posixPermissions] as? NSNumber
        let fileMode = try FileManager.default.attributesOfItem(atPath: store.path(realm))[.posixPermissions] as? NSNumber
        #expect(directoryMode?.intValue == 0o700)
        #expect(fileMode?.intValue == 0o600)
        #expect(try store.realms() == [realm])
    }

    // Security review round 2, A16
    @Test("servers creating a realm's root key at the same moment all get the one that landed first")
    func concurrentCreationAgrees() async throws {
        let store = try temporaryStore(), kek = try provider()
        let realm = UUID()
        let keys = try await withThrowingTaskGroup(of: Data?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do {
                        return try await store.create(for: realm, provider: kek).key.withUnsafeBytes { Data($0) }
                    } catch KeyringError.keyStore {
                        return nil  // it saw the winner's file before it started: the caller loads it instead
                    }
                }
            }
            var all: [Data?] = []
            for try await key in group { all.append(key) }
            return all
        }
        let stored = try await store.load(realm, provider: kek).key.withUnsafeBytes { Data($0) }
        #expect(keys.compactMap { $0 }.allSatisfy { $0 == stored })
        #expect(!keys.compactMap { $0 }.isEmpty)
    }

    @Test("a data key wrapped by a realm's root key unwraps after a reload, and only for that realm")
    func wrapsForItsRealm() async throws {
        let store = try temporaryStore(), kek = try provider()
        let realm = UUID()
        let root = try await store.create(for: realm, provider: kek)
        let key = DataKey.generate(version: .first)
        let wrapped = try await root.wrap(key, realm: realm)
        let reloaded = try await store.load(realm, provider: kek)
        #expect(try await reloaded.unwrapDataKey(wrapped.bytes, keyID: RealmRootKey.keyID, realm: realm, version: .first).rawBytes == key.rawBytes)
        await #expect(throws: KeyringError.self) { _ = try await root.wrap(key, realm: UUID()) }
    }

    // DU-9: crypto-shredding
    @Test("a destroyed root key cannot be loaded again, even with the key-encryption key")
    func destroyed() async throws {
        let store = try temporaryStore(), kek = try provider()
        let realm = UUID()
        _ = try await store.create(for: realm, provider: kek)
        try store.destroy(realm)
        await #expect(throws: KeyringError.realmKeysDestroyed) { _ = try await store.load(realm, provider: kek) }
        #expect(try store.realms().isEmpty)
    }

    @Test("an existing root key is never replaced by create")
    func neverReplaced() async throws {
        let store = try temporaryStore(), kek = try provider()
        let realm = UUID()
        _ = try await store.create(for: realm, provider: kek)
        await #expect(throws: KeyringError.self) { _ = try await store.create(for: realm, provider: kek) }
    }
}
