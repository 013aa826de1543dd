import Crypto
import Foundation
import Testing
@testable import Keyring

@Suite("Sealed fields")
struct SealedFieldTests {
    let clinic = UUID()
    let row = UUID()

    func keys(version: UInt32 = 1, extra: [DataKey] = []) throws -> RealmKeys {
        let key = DataKey.generate(version: KeyVersion(rawValue: version))
        return try RealmKeys(realm: clinic, dataKeys: [key] + extra, current: key.version, indexKey: .generate(version: .first))
    }

    // DAO-5, DC-2, DU-1
    @Test("a sealed value opens to the same text with the same context")
    func roundTrip() throws {
        let keys = try keys()
        let sealed = try keys.seal("Wilhelmina", table: "patients", column: "given_name", row: row)
        #expect(try keys.open(sealed, table: "patients", column: "given_name", row: row) == "Wilhelmina")
    }

    @Test("the blob is self-describing: format 1, key version, 12-byte nonce, ciphertext, 16-byte tag")
    func blobLayout() throws {
        let keys = try keys(version: 7)
        let sealed = try keys.seal("abc", table: "t", column: "c", row: row)
        #expect(sealed.bytes.first == 1)
        #expect(sealed.keyVersion == KeyVersion(rawValue: 7))
        #expect(sealed.bytes.count == 1 + 4 + 12 + 3 + 16)
        #expect(!sealed.bytes.contains(Data("abc".utf8)))
    }

    @Test("sealing the same text twice gives different ciphertexts (random nonce)")
    func freshNonce() throws {
        let keys = try keys()
        let a = try keys.seal("same", table: "t", column: "c", row: row)
        let b = try keys.seal("same", table: "t", column: "c", row: row)
        #expect(a.bytes != b.bytes)
        #expect(a.bytes[5..<17] != b.bytes[5..<17])
    }

    @Test("a value copied to another row does not open", arguments: ["row", "column", "table", "clinic"])
    func boundToContext(_ moved: String) throws {
        let keys = try keys()
        let sealed = try keys.seal("0412345678", table: "patients", column: "phone", row: row)
        switch moved {
        case "row":
            #expect(throws: KeyringError.authenticationFailed) { try keys.open(sealed, table: "patients", column: "phone", row: UUID()) }
        case "column":
            #expect(throws: KeyringError.authenticationFailed) { try keys.open(sealed, table: "patients", column: "email", row: row) }
        case "table":
            #expect(throws: KeyringError.authenticationFailed) { try keys.open(sealed, table: "users", column: "phone", row: row) }
        default:
            // Another clinic with the same key bytes still cannot open it: the clinic is in the associated data.
            let other = try RealmKeys(realm: UUID(), dataKeys: [keys.current], current: keys.current.version, indexKey: keys.indexKey)
            #expect(throws: KeyringError.authenticationFailed) { try other.open(sealed, table: "patients", column: "phone", row: row) }
        }
    }

    @Test("a flipped bit anywhere is detected")
    func tamperDetected() throws {
        let keys = try keys()
        let sealed = try keys.seal("Quartermaine", table: "t", column: "c", row: row)
        for index in [5, 20, sealed.bytes.count - 1] {
            var bytes = sealed.bytes
            bytes[index] ^= 0x01
            #expect(throws: KeyringError.authenticationFailed) { try keys.open(try SealedField(bytes: bytes), table: "t", column: "c", row: row) }
        }
    }

    @Test("changing the key version in the header is detected, not silently tried with another key")
    func headerBound() throws {
        let old = DataKey.generate(version: .first)
        let keys = try RealmKeys(realm: clinic, dataKeys: [old, .generate(version: KeyVersion(rawValue: 2))], current: KeyVersion(rawValue: 2), indexKey: .generate(version: .first))
        var bytes = try keys.seal("x", table: "t", column: "c", row: row).bytes
        bytes[4] = 1
        #expect(throws: KeyringError.authenticationFailed) { try keys.open(try SealedField(bytes: bytes), table: "t", column: "c", row: row) }
    }

    // POR-6
    @Test("old key versions keep opening while new values use the current version")
    func oldVersionsOpen() throws {
        let v1 = DataKey.generate(version: .first)
        let before = try RealmKeys(realm: clinic, dataKeys: [v1], current: .first, indexKey: .generate(version: .first))
        let sealed = try before.seal("kept", table: "t", column: "c", row: row)
        let v2 = DataKey.generate(version: KeyVersion(rawValue: 2))
        let after = try RealmKeys(realm: clinic, dataKeys: [v1, v2], current: v2.version, indexKey: before.indexKey)
        #expect(try after.open(sealed, table: "t", column: "c", row: row) == "kept")
        #expect(try after.seal("new", table: "t", column: "c", row: row).keyVersion == v2.version)
    }

    @Test("an unknown key version is named, not guessed")
    func unknownVersion() throws {
        let sealed = try keys(version: 9).seal("x", table: "t", column: "c", row: row)
        #expect(throws: KeyringError.unknownKeyVersion(9)) { try keys(version: 1).open(sealed, table: "t", column: "c", row: row) }
    }

    @Test("truncated or foreign blobs are refused before decryption")
    func malformed() {
        #expect(throws: KeyringError.malformed) { try SealedField(bytes: Data([1, 0, 0, 0, 1])) }
        #expect(throws: KeyringError.unsupportedFormat(2)) { try SealedField(bytes: Data([2] + [UInt8](repeating: 0, count: 40))) }
    }

    @Test("the format matches raw AES-256-GCM from swift-crypto with the documented associated data")
    func interoperatesWithRawAESGCM() throws {
        let keys = try keys()
        let sealed = try keys.seal("vector", table: "patients", column: "email", row: row)
        let bytes = sealed.bytes
        let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: bytes[5..<17]), ciphertext: bytes[17..<(bytes.count - 16)], tag: bytes[(bytes.count - 16)...])
        let aad = Data(bytes[0..<5]) + SealContext(realm: clinic, table: "patients", column: "email", row: row).encoded
        #expect(try AES.GCM.open(box, using: keys.current.key, authenticating: aad) == Data("vector".utf8))
    }
}
