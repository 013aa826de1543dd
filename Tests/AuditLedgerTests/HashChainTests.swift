import Foundation
import Testing
@testable import AuditLedger

@Suite("Hash chain")
struct HashChainTests {
    let chain = UUID()

    func ledger(_ count: Int) -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        for index in 0..<count {
            let event = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)), actor: UUID(),
                                   action: index % 2 == 0 ? "patient.read" : "patient.update", resourceType: "patient",
                                   resource: UUID(), outcome: .success, address: "127.0.0.1", requestID: "r\(index)")
            entries.append(HashChain.append(event, after: entries.last.map { ChainHead(sequence: $0.sequence, hash: $0.hash) }))
        }
        return entries
    }

    func verify(_ entries: [LedgerEntry], head: ChainHead?) throws(ChainFault) {
        var verifier = ChainVerifier(chain: chain)
        for entry in entries { try verifier.check(entry) }
        try verifier.finish(recordedHead: head)
    }

    func head(_ entries: [LedgerEntry]) -> ChainHead { ChainHead(sequence: entries.last!.sequence, hash: entries.last!.hash) }

    // PRX-8, POR-8
    @Test("an untouched chain verifies to its head")
    func intact() throws {
        let entries = ledger(10)
        try verify(entries, head: head(entries))
    }

    @Test("an edited entry is named by its sequence")
    func editNamed() {
        var entries = ledger(10)
        let recorded = head(entries)
        entries[3].event.action = "patient.delete"
        #expect(throws: ChainFault(chain: chain, sequence: 4, reason: .hashMismatch)) { try verify(entries, head: recorded) }
    }

    @Test("a removed entry is named by the sequence that is missing")
    func removalNamed() {
        var entries = ledger(10)
        let recorded = head(entries)
        entries.remove(at: 5)
        #expect(throws: ChainFault(chain: chain, sequence: 6, reason: .sequenceBreak)) { try verify(entries, head: recorded) }
    }

    @Test("two swapped entries are caught at the first of them")
    func swapNamed() {
        var entries = ledger(10)
        let recorded = head(entries)
        let third = entries[2].event
        entries[2].event = entries[3].event
        entries[3].event = third
        #expect(throws: ChainFault(chain: chain, sequence: 3, reason: .hashMismatch)) { try verify(entries, head: recorded) }
    }

    @Test("entries cut from the end are caught against the recorded head")
    func truncationCaught() {
        let entries = ledger(10)
        #expect(throws: ChainFault(chain: chain, sequence: 9, reason: .headMismatch)) { try verify(Array(entries.prefix(8)), head: head(entries)) }
    }

    @Test("an entry added beyond the head is caught")
    func appendedOutsideCaught() {
        let entries = ledger(10)
        #expect(throws: ChainFault(chain: chain, sequence: 10, reason: .beyondHead)) {
            try verify(entries, head: ChainHead(sequence: 9, hash: entries[8].hash))
        }
    }

    @Test("an absent field encodes differently from an empty one")
    func absentIsNotEmpty() {
        let base = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: 0), actor: nil, action: "a", outcome: .success)
        var empty = base
        empty.detail = ""
        #expect(HashChain.hash(sequence: 1, event: base, previous: HashChain.genesis)
                != HashChain.hash(sequence: 1, event: empty, previous: HashChain.genesis))
    }

    @Test("times are kept to the millisecond, so a stored and reloaded event hashes the same")
    func millisecondTimes() {
        let event = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: 1_700_000_000.123_456), actor: nil, action: "a", outcome: .success)
        let reloaded = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: Double(event.occurredAtMilliseconds) / 1000), actor: nil, action: "a", outcome: .success)
        #expect(HashChain.hash(sequence: 1, event: event, previous: HashChain.genesis) == HashChain.hash(sequence: 1, event: reloaded, previous: HashChain.genesis))
    }
}
