import Foundation
import Testing
@testable import AuditLedger

/// Security review round 2, A10 (DAO-5, DC-2): client addresses were kept in the ledger in clear.
@Suite("Addresses in the ledger")
struct AddressPseudonymTests {
    let pseudonyms = AddressPseudonym.derived(from: CheckpointSigner.generate(version: 1))

    @Test("an address is kept as its network and a keyed hash: the same in one chain, different across chains")
    func networkAndHash() {
        let chain = UUID(), other = UUID()
        let kept = pseudonyms.pseudonym("203.0.113.77", chain: chain)
        #expect(kept.hasPrefix("203.0.113.0/24 h=") && !kept.contains("203.0.113.77"))
        #expect(pseudonyms.pseudonym("203.0.113.77", chain: chain) == kept)
        #expect(pseudonyms.pseudonym("203.0.113.78", chain: chain) != kept)
        #expect(pseudonyms.pseudonym("203.0.113.77", chain: other) != kept)
        let another = AddressPseudonym.derived(from: CheckpointSigner.generate(version: 1))
        #expect(another.pseudonym("203.0.113.77", chain: chain) != kept)
    }

    @Test("IPv6 addresses keep their /48; anything else only the hash")
    func otherForms() {
        #expect(AddressPseudonym.network(of: "2001:db8:abcd:12::1") == "2001:db8:abcd::/48")
        #expect(AddressPseudonym.network(of: "::1") == "0:0:0::/48")
        #expect(AddressPseudonym.network(of: "not an address") == nil)
        #expect(pseudonyms.pseudonym("in-process", chain: UUID()).hasPrefix("h="))
    }
}
