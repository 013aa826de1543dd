import Foundation
import Testing
@testable import AuditLedger

@Suite("Hash chain")
struct HashChainTests {
    let chain = UUID()
    let key = ChainKey.derived(from: CheckpointSigner.generate(version: 1))

    func ledger(_ count: Int) -> [LedgerEntry] {
        var entries: [LedgerEntry] = []
        for index in 0..<count {
            let event = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)), actor: UUID(),
                                   action: index % 2 == 0 ? "patient.read" : "patient.update", resourceType: "patient",
                                   resource: UUID(), outcome: .success, address: "127.0.0.1", requestID: "r\(index)")
            entries.append(HashChain.append(event, after: entries.last.map { ChainHead(sequence: $0.sequence, hash: $0.hash) }, key: key))
        }
        return entries
    }

    func verify(_ entries: [LedgerEntry], head: ChainHead?) throws(ChainFault) {
        var verifier = ChainVerifier(chain: chain, chainKeys: [key])
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
        #expect(HashChain.hash(sequence: 1, event: base, previous: HashChain.genesis, key: key)
                != HashChain.hash(sequence: 1, event: empty, previous: HashChain.genesis, key: key))
    }

    @Test("times are kept to the millisecond, so a stored and reloaded event hashes the same")
    func millisecondTimes() {
        let event = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: 1_700_000_000.123_456), actor: nil, action: "a", outcome: .success)
        let reloaded = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: Double(event.occurredAtMilliseconds) / 1000), actor: nil, action: "a", outcome: .success)
        #expect(HashChain.hash(sequence: 1, event: event, previous: HashChain.genesis, key: key) == HashChain.hash(sequence: 1, event: reloaded, previous: HashChain.genesis, key: key))
    }

    // Security review round 2, A14 (HIGH): a database writer without the chain key cannot
    // extend the chain, however carefully the hash and head are recomputed.
    @Test("an entry linked without the chain key is caught, even with the head moved to it")
    func unkeyedForgeryCaught() {
        var entries = ledger(10)
        let forgedEvent = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: 1_600_000_000), actor: UUID(),
                                     action: "patient.read", resourceType: "patient", resource: UUID(), outcome: .success)
        let plain = LedgerEntry(sequence: 11, event: forgedEvent, hash: HashChain.hash(sequence: 11, event: forgedEvent, previous: entries[9].hash, key: nil))
        entries.append(plain)
        #expect(throws: ChainFault(chain: chain, sequence: 11, reason: .unkeyedEntry)) { try verify(entries, head: head(entries)) }
        let guessedKey = ChainKey(version: key.version, rawKey: Data(repeating: 7, count: 32))
        entries[10] = HashChain.append(forgedEvent, after: ChainHead(sequence: 10, hash: entries[9].hash), key: guessedKey)
        #expect(throws: ChainFault(chain: chain, sequence: 11, reason: .hashMismatch)) { try verify(entries, head: head(entries)) }
        entries[10].keyVersion = 9
        #expect(throws: ChainFault(chain: chain, sequence: 11, reason: .unknownChainKey)) { try verify(entries, head: head(entries)) }
    }

    @Test("entries from before chains were keyed verify where a signed checkpoint covers them, and only there")
    func legacyEntriesNeedACheckpoint() throws {
        let signer = CheckpointSigner.generate(version: 1)
        var keys = CheckpointKeys()
        try keys.add(version: 1, publicKey: signer.publicKey)
        var entries: [LedgerEntry] = []
        for index in 0..<6 {
            let event = AuditEvent(chain: chain, occurredAt: Date(timeIntervalSince1970: 1_700_000_000 + Double(index)), actor: nil, action: "a", outcome: .success)
            let previous = entries.last?.hash ?? HashChain.genesis
            entries.append(LedgerEntry(sequence: Int64(index + 1), event: event, hash: HashChain.hash(sequence: Int64(index + 1), event: event, previous: previous, key: nil)))
        }
        let checkpoint = try signer.sign(chain: chain, head: ChainHead(sequence: 4, hash: entries[3].hash), signedAtMilliseconds: 0)
        var verifier = ChainVerifier(chain: chain, checkpoints: [checkpoint], keys: keys, chainKeys: [key])
        for entry in entries.prefix(4) { try verifier.check(entry) }
        #expect(throws: ChainFault(chain: chain, sequence: 5, reason: .unkeyedEntry)) { try verifier.check(entries[4]) }
    }

    @Test("before a checkpoint is signed, the entries since the last one are checked from it")
    func resumingFromACheckpoint() throws {
        let signer = CheckpointSigner.generate(version: 1)
        var keys = CheckpointKeys()
        try keys.add(version: 1, publicKey: signer.publicKey)
        var entries = ledger(10)
        let checkpoint = try signer.sign(chain: chain, head: head(Array(entries.prefix(5))), signedAtMilliseconds: 0)
        var verifier = try ChainVerifier.resuming(from: checkpoint, chain: chain, keys: keys, chainKeys: [key])
        for entry in entries.suffix(5) { try verifier.check(entry) }
        try verifier.finish(recordedHead: head(entries))
        entries[7].event.action = "patient.delete"
        var again = try ChainVerifier.resuming(from: checkpoint, chain: chain, keys: keys, chainKeys: [key])
        #expect(throws: ChainFault(chain: chain, sequence: 8, reason: .hashMismatch)) { for entry in entries.suffix(5) { try again.check(entry) } }
        var forged = checkpoint
        forged.sequence = 6
        #expect(throws: ChainFault(chain: chain, sequence: 6, reason: .checkpointSignature)) {
            _ = try ChainVerifier.resuming(from: forged, chain: chain, keys: keys, chainKeys: [key])
        }
    }
}
