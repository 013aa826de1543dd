import Foundation
import Testing
@testable import Keyring

@Suite("Key versions")
struct KeyVersionsTests {
    let clinic = UUID()
    let row = UUID()
    let v1 = DataKey.generate(version: .first)
    let v2 = DataKey.generate(version: KeyVersion(rawValue: 2))
    let index1 = BlindIndexKey.generate(version: .first)
    let index2 = BlindIndexKey.generate(version: KeyVersion(rawValue: 2))

    func rotated() throws -> RealmKeys {
        try RealmKeys(realm: clinic, dataKeys: [v1, v2], current: v2.version, indexKey: index2, olderIndexKeys: [index1, index2])
    }

    // DAO-9
    @Test("a value of an older version is sealed again under the current one and opens to the same text")
    func resealMovesForward() throws {
        let before = try RealmKeys(realm: clinic, dataKeys: [v1], current: .first, indexKey: index1)
        let old = try before.seal("Marguerite", table: "patients", column: "given_name", row: row)
        let keys = try rotated()
        let moved = try #require(try keys.resealed(old, table: "patients", column: "given_name", row: row))
        #expect(moved.keyVersion == v2.version)
        #expect(try keys.open(moved, table: "patients", column: "given_name", row: row) == "Marguerite")
        #expect(try keys.resealed(moved, table: "patients", column: "given_name", row: row) == nil)
    }

    @Test("a re-seal keeps the value bound to its row: one moved to another row does not open")
    func resealKeepsContext() throws {
        let before = try RealmKeys(realm: clinic, dataKeys: [v1], current: .first, indexKey: index1)
        let old = try before.seal("Marguerite", table: "patients", column: "given_name", row: row)
        #expect(throws: KeyringError.authenticationFailed) {
            try rotated().resealed(old, table: "patients", column: "given_name", row: UUID())
        }
    }

    @Test("a search computes an index under every live index key, the current one first; a write only the current")
    func searchUnderEveryIndexKey() throws {
        let keys = try rotated()
        let indexes = keys.blindIndexes("+61412345678", kind: .phone)
        #expect(indexes == [index2.index("+61412345678", kind: .phone), index1.index("+61412345678", kind: .phone)])
        #expect(keys.blindIndex("+61412345678", kind: .phone) == indexes[0])
        #expect(indexes[0] != indexes[1])
    }

    @Test("a value of a version the realm no longer holds cannot be moved")
    func retiredVersionRefused() throws {
        let before = try RealmKeys(realm: clinic, dataKeys: [v1], current: .first, indexKey: index1)
        let old = try before.seal("x", table: "t", column: "c", row: row)
        let retired = try RealmKeys(realm: clinic, dataKeys: [v2], current: v2.version, indexKey: index2)
        #expect(throws: KeyringError.unknownKeyVersion(1)) { try retired.resealed(old, table: "t", column: "c", row: row) }
    }
}
