import Crypto
import Foundation

/// The key provider of the embedded install: key-encryption keys in a file outside the database,
/// readable only by its owner (mode 0600).
///
/// File format (JSON), version 2: `{"format": 2, "current": "kek-…", "keys": [{"keyId": "kek-…",
/// "key": "<base64 of 32 bytes>"}, …]}`; version 1 (`{"format": 1, "keyId", "key"}`, one key) is
/// still read. Several keys are there only while `keys rewrap` moves everything from the old key
/// to the new one; it then removes the old. Wrapped keys are `KeyWrapping`'s AES-256-GCM.
///
/// The file is read again whenever a key is wrapped (rare: a new clinic, a rotation) and when a
/// wrapped key names a key it does not hold, so a running server follows a rewrap made by
/// another process without a restart.
public final class KeyFileProvider: KeyProvider, @unchecked Sendable {
    public let path: String
    private let lock = NSLock()
    // Guarded by `lock`.
    private var keys: KeySet

    struct KeySet {
        var current: String
        var keys: [String: SymmetricKey]
        /// In the order the file lists them, oldest first.
        var order: [String]
    }

    private struct FileContents: Codable {
        struct Entry: Codable {
            var keyId: String
            var key: String
        }
        var format: Int
        // Format 1.
        var keyId: String?
        var key: String?
        // Format 2.
        var current: String?
        var keys: [Entry]?
    }

    private init(path: String, keys: KeySet) {
        self.path = path
        self.keys = keys
    }

    public var currentKeyID: String { lock.withLock { keys.current } }

    /// Every key the file holds, oldest first.
    public var keyIDs: [String] { lock.withLock { keys.order } }

    /// Opens the key file at `path`, creating it (0600) when it does not exist yet.
    /// Returns whether it was created, so the caller can tell the operator.
    public static func openOrCreate(at path: String) throws -> (provider: KeyFileProvider, created: Bool) {
        if FileManager.default.fileExists(atPath: path) {
            return (try load(from: path), false)
        }
        let id = newKeyID()
        let keys = KeySet(current: id, keys: [id: SymmetricKey(size: .bits256)], order: [id])
        // Another process may create it at the same moment: whichever file landed first is the key.
        guard try PrivateFile.create(at: path, contents: try encode(keys)) else { return (try load(from: path), false) }
        return (KeyFileProvider(path: path, keys: keys), true)
    }

    public static func load(from path: String) throws -> KeyFileProvider {
        KeyFileProvider(path: path, keys: try read(path))
    }

    public func wrap(_ keyBytes: Data, context: WrapContext) async throws -> WrappedKey {
        let (id, key) = try lock.withLock { () throws -> (String, SymmetricKey) in
            keys = try Self.read(path)
            return (keys.current, keys.keys[keys.current]!)
        }
        return WrappedKey(bytes: try KeyWrapping.wrap(keyBytes, with: key, context: context), keyID: id)
    }

    public func unwrap(_ wrapped: Data, keyID: String, context: WrapContext) async throws -> Data {
        let key = try lock.withLock { () throws -> SymmetricKey in
            if let key = keys.keys[keyID] { return key }
            keys = try Self.read(path)
            guard let key = keys.keys[keyID] else { throw KeyringError.unknownKeyEncryptionKey(keyID) }
            return key
        }
        return try KeyWrapping.unwrap(wrapped, with: key, context: context)
    }

    /// Adds a new key and makes it the one new wraps use; the old keys stay until `retire`.
    /// Written whole to a private temporary file and renamed over the old file.
    @discardableResult
    public func addKey() throws -> String {
        try lock.withLock {
            var next = try Self.read(path)
            let id = Self.newKeyID()
            next.keys[id] = SymmetricKey(size: .bits256)
            next.order.append(id)
            next.current = id
            try PrivateFile.replace(at: path, contents: try Self.encode(next))
            keys = next
            return id
        }
    }

    /// Removes a key that is not the current one. Whatever it still wraps can never be opened again.
    public func retire(_ keyID: String) throws {
        try lock.withLock {
            var next = try Self.read(path)
            guard keyID != next.current else { throw KeyringError.keyFile("the current key-encryption key cannot be retired") }
            guard next.keys.removeValue(forKey: keyID) != nil else { return }
            next.order.removeAll { $0 == keyID }
            try PrivateFile.replace(at: path, contents: try Self.encode(next))
            keys = next
        }
    }

    private static func newKeyID() -> String {
        "kek-" + SymmetricKey(size: SymmetricKeySize(bitCount: 64)).withUnsafeBytes { Data($0) }.map { String(format: "%02x", $0) }.joined()
    }

    private static func read(_ path: String) throws -> KeySet {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let mode = attributes[.posixPermissions] as? NSNumber, mode.intValue & 0o077 != 0 {
            throw KeyringError.keyFile("the key file is readable by other users; run chmod 600 on it")
        }
        let invalid = KeyringError.keyFile("the key file is not a ClinicKeep key file")
        guard let data = FileManager.default.contents(atPath: path),
              let contents = try? JSONDecoder().decode(FileContents.self, from: data) else { throw invalid }
        let entries: [FileContents.Entry], current: String
        switch contents.format {
        case 1:
            guard let id = contents.keyId, let key = contents.key else { throw invalid }
            entries = [FileContents.Entry(keyId: id, key: key)]
            current = id
        case 2:
            guard let listed = contents.keys, let named = contents.current else { throw invalid }
            entries = listed
            current = named
        default:
            throw invalid
        }
        var keys: [String: SymmetricKey] = [:]
        for entry in entries {
            guard let bytes = Data(base64Encoded: entry.key), bytes.count == 32 else { throw invalid }
            keys[entry.keyId] = SymmetricKey(data: bytes)
        }
        guard keys[current] != nil else { throw invalid }
        return KeySet(current: current, keys: keys, order: entries.map(\.keyId))
    }

    private static func encode(_ set: KeySet) throws -> Data {
        let entries = set.order.map { id in
            FileContents.Entry(keyId: id, key: set.keys[id]!.withUnsafeBytes { Data($0) }.base64EncodedString())
        }
        return try JSONEncoder().encode(FileContents(format: 2, current: set.current, keys: entries))
    }
}

extension KeyFileProvider: RewrappableKeyProvider {
    public func beginRewrap() async throws -> [String] {
        let held = try Self.read(path)
        if held.order.count > 1 { return held.order.filter { $0 != held.current } }
        try addKey()
        return [held.current]
    }

    public func finishRewrap(retiring: [String]) async throws {
        for id in retiring { try retire(id) }
    }
}
