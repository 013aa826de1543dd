import Foundation
import Testing
@testable import Keyring

@Suite("Key file provider")
struct KeyFileProviderTests {
    func temporaryPath() -> String { NSTemporaryDirectory() + "kek-\(UUID().uuidString).json" }

    // POR-4, DAO-9
    @Test("a new key file is created readable by its owner only")
    func createdPrivate() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (_, created) = try KeyFileProvider.openOrCreate(at: path)
        #expect(created)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try KeyFileProvider.openOrCreate(at: path).created == false)
    }

    // Security review round 2, A16: two servers starting together each wrote a key file and one
    // silently replaced the other.
    @Test("processes creating the key file at the same moment all end up with the one that landed first")
    func concurrentCreationAgrees() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let results = ThreadResults()
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            results.add(Result { let (provider, created) = try KeyFileProvider.openOrCreate(at: path); return (provider.keyIDs, created) })
        }
        let outcomes = try results.all.map { try $0.get() }
        #expect(outcomes.count == 16)
        #expect(outcomes.filter(\.1).count == 1)
        #expect(Set(outcomes.map(\.0)).count == 1)
        #expect(try KeyFileProvider.load(from: path).keyIDs == outcomes[0].0)
    }

    @Test("a key file readable by others is refused")
    func refusesLooseFile() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try KeyFileProvider.openOrCreate(at: path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: KeyringError.self) { try KeyFileProvider.load(from: path) }
    }

    @Test("a wrapped data key unwraps only for the realm, purpose and version it was wrapped for")
    func wrapBound() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let provider = try KeyFileProvider.openOrCreate(at: path).provider
        let realm = UUID()
        let key = DataKey.generate(version: .first)
        let wrapped = try await provider.wrap(key, realm: realm)
        #expect(!wrapped.bytes.contains(key.rawBytes))
        let unwrapped = try await provider.unwrapDataKey(wrapped.bytes, keyID: provider.currentKeyID, realm: realm, version: .first)
        #expect(unwrapped.rawBytes == key.rawBytes)
        await #expect(throws: KeyringError.authenticationFailed) {
            _ = try await provider.unwrapDataKey(wrapped.bytes, keyID: provider.currentKeyID, realm: UUID(), version: .first)
        }
        await #expect(throws: KeyringError.authenticationFailed) {
            _ = try await provider.unwrapIndexKey(wrapped.bytes, keyID: provider.currentKeyID, realm: realm, version: .first)
        }
    }

    @Test("another key file cannot unwrap")
    func otherKeyFile() async throws {
        let first = temporaryPath(), second = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: first); try? FileManager.default.removeItem(atPath: second) }
        let a = try KeyFileProvider.openOrCreate(at: first).provider
        let b = try KeyFileProvider.openOrCreate(at: second).provider
        let wrapped = try await a.wrap(DataKey.generate(version: .first), realm: UUID())
        await #expect(throws: KeyringError.self) {
            _ = try await b.unwrapDataKey(wrapped.bytes, keyID: a.currentKeyID, realm: UUID(), version: .first)
        }
    }

    @Test("a version-1 key file (one key) is still read")
    func readsFormatOne() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let key = Data(repeating: 7, count: 32).base64EncodedString()
        let file = "{\"format\": 1, \"keyId\": \"kek-old\", \"key\": \"\(key)\"}"
        #expect(FileManager.default.createFile(atPath: path, contents: Data(file.utf8), attributes: [.posixPermissions: 0o600]))
        let provider = try KeyFileProvider.load(from: path)
        #expect(provider.currentKeyID == "kek-old" && provider.keyIDs == ["kek-old"])
    }

    // DAO-9: a new key-encryption key while the old one still unwraps, then the old one retired
    @Test("a new key becomes current, the old one unwraps until it is retired, and another process follows the file")
    func addAndRetire() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let provider = try KeyFileProvider.openOrCreate(at: path).provider
        let elsewhere = try KeyFileProvider.load(from: path)
        let old = provider.currentKeyID
        let realm = UUID(), key = DataKey.generate(version: .first)
        let before = try await provider.wrap(key, realm: realm)
        let new = try provider.addKey()
        #expect(provider.keyIDs == [old, new])
        let after = try await elsewhere.wrap(key, realm: realm)
        #expect(after.keyID == new, "a wrap reads the file again and uses its current key")
        #expect(try await provider.unwrapDataKey(before.bytes, keyID: old, realm: realm, version: .first).rawBytes == key.rawBytes)
        #expect(throws: KeyringError.self) { try provider.retire(new) }
        try provider.retire(old)
        let restarted = try KeyFileProvider.load(from: path)
        await #expect(throws: KeyringError.unknownKeyEncryptionKey(old)) {
            _ = try await restarted.unwrapDataKey(before.bytes, keyID: old, realm: realm, version: .first)
        }
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
    }
}

/// Results gathered from several threads.
final class ThreadResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<([String], Bool), any Error>] = []

    func add(_ result: Result<([String], Bool), any Error>) { lock.lock(); results.append(result); lock.unlock() }
    var all: [Result<([String], Bool), any Error>] { lock.lock(); defer { lock.unlock() }; return results }
}
