import Foundation

/// The first place a chain stops holding.
public struct ChainFault: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        /// The entry's contents or hash were changed.
        case hashMismatch = "hash does not match its contents and predecessor"
        /// An entry is missing, or entries were reordered.
        case sequenceBreak = "sequence number out of order (an entry is missing or was moved)"
        /// Entries at the end were removed, or the recorded head was changed.
        case headMismatch = "chain does not end at the recorded head (entries removed from the end, or the head changed)"
        /// Entries were added after the recorded head without going through the ledger.
        case beyondHead = "entry lies beyond the recorded head (added outside the ledger)"
    }

    public let chain: UUID
    /// The sequence number of the first bad entry (for a missing entry, the one expected there).
    public let sequence: Int64
    public let reason: Reason

    public var description: String {
        "chain \(chain.uuidString.lowercased()) entry \(sequence): \(reason.rawValue)"
    }
}

/// Recomputes one chain entry by entry, keeping only the running hash, so memory stays flat
/// however long the chain is. Feed entries in stored sequence order.
public struct ChainVerifier: Sendable {
    public let chain: UUID
    private var expectedSequence: Int64 = 1
    private var previousHash = HashChain.genesis
    public private(set) var verifiedCount: Int64 = 0

    public init(chain: UUID) { self.chain = chain }

    public mutating func check(_ entry: LedgerEntry) throws(ChainFault) {
        guard entry.sequence == expectedSequence, entry.event.chain == chain else {
            throw ChainFault(chain: chain, sequence: expectedSequence, reason: .sequenceBreak)
        }
        let recomputed = HashChain.hash(sequence: entry.sequence, event: entry.event, previous: previousHash)
        guard recomputed == entry.hash else {
            throw ChainFault(chain: chain, sequence: entry.sequence, reason: .hashMismatch)
        }
        previousHash = recomputed
        expectedSequence += 1
        verifiedCount += 1
    }

    /// Checks that the chain reaches the head recorded separately when each entry was appended.
    public func finish(recordedHead: ChainHead?) throws(ChainFault) {
        let head = recordedHead ?? ChainHead(sequence: 0, hash: HashChain.genesis)
        let last = expectedSequence - 1
        if head.sequence > last {
            throw ChainFault(chain: chain, sequence: last + 1, reason: .headMismatch)
        }
        if head.sequence < last {
            throw ChainFault(chain: chain, sequence: head.sequence + 1, reason: .beyondHead)
        }
        guard head.hash == previousHash else {
            throw ChainFault(chain: chain, sequence: head.sequence, reason: .headMismatch)
        }
    }
}
