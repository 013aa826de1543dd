import Foundation
import Testing
@testable import Keyring

@Suite("Blind indexes")
struct BlindIndexTests {
    @Test("the same value and key give the same index; it is not the value")
    func deterministic() {
        let key = BlindIndexKey.generate(version: .first)
        let a = key.index("+61412345678", kind: .phone)
        #expect(a == key.index("+61412345678", kind: .phone))
        #expect(a.count == 32)
        #expect(!a.contains(Data("412345678".utf8)))
    }

    @Test("another clinic's key gives an unrelated index, so indexes cannot be compared across clinics")
    func keyedPerClinic() {
        #expect(BlindIndexKey.generate(version: .first).index("smith", kind: .nameToken)
                != BlindIndexKey.generate(version: .first).index("smith", kind: .nameToken))
    }

    @Test("the kind separates indexes of the same text")
    func kindSeparates() {
        let key = BlindIndexKey.generate(version: .first)
        #expect(key.index("a@b.example", kind: .email) != key.index("a@b.example", kind: .nameToken))
    }
}
