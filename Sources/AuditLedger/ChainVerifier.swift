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
        /// A stored checkpoint's signature does not verify: it was replaced or forged.
        case checkpointSignature = "checkpoint signature does not verify (replaced or forged)"
        /// The chain differs from what a stored checkpoint signed: rewritten with recomputed hashes.
        case checkpointMismatch = "chain differs from the signed checkpoint here (rewritten after it was signed)"
        /// A stored checkpoint names an entry the chain no longer has.
        case checkpointBeyondChain = "chain ends before a signed checkpoint (entries removed from the end)"
        /// The chain differs from an exported checkpoint: rewritten after the export.
        case exportedCheckpointMismatch = "chain differs from the exported checkpoint here (rewritten after the export)"
        /// An exported checkpoint names an entry the chain no longer has.
        case exportedCheckpointBeyondChain = "chain ends before an exported checkpoint (truncated after the export)"
        /// The chain claims its start was purged for retention, but the cut is not signed by the installation's key.
        case retentionCutSignature = "retention cut signature does not verify (entries removed without a signed purge)"
        /// An entry linked by plain SHA-256, where only keyed entries are written: made by someone without the chain key.
        case unkeyedEntry = "entry is not linked under the chain key and no signed checkpoint covers it (written outside the ledger)"
        /// An entry names a chain-key version this installation never had.
        case unknownChainKey = "entry names a chain key this installation does not hold (written outside the ledger)"
    }

    public let chain: UUID
    /// The sequence number of the first bad entry (for a missing entry, the one expected there).
    public let sequence: Int64
    public let reason: Reason

    public var description: String {
        "chain \(chain.uuidString.lowercased()) entry \(sequence): \(reason.rawValue)"
    }
}

/// Recomputes one chain entry by entry, keeping only the running hash (and the chain's
/// checkpoints, a few per thousand entries), so memory stays flat however long the chain is.
/// Feed entries in stored sequence order.
public struct ChainVerifier: Sendable {
    public let chain: UUID
    private var expectedSequence: Int64 = 1
    private var previousHash = HashChain.genesis
    public private(set) var verifiedCount: Int64 = 0
    /// The last sequence number checked so far (0 before the first).
    public var verifiedThrough: Int64 { expectedSequence - 1 }
    /// Checkpoints still ahead, in sequence order; `exported` when they came from a file kept elsewhere.
    private var checkpoints: [(checkpoint: Checkpoint, exported: Bool)]
    private var nextCheckpoint = 0
    private let keys: CheckpointKeys
    private let chainKeys: [UInt32: ChainKey]
    /// Entries up to here may be unkeyed (written before chains were keyed): a validly signed
    /// checkpoint covers them. Beyond it every entry must be a MAC under a chain key.
    private var unkeyedThrough: Int64

    /// - Parameters:
    ///   - checkpoints: those stored beside the ledger; `exported`: those from a file kept elsewhere.
    ///   - keys: the public signing keys every checkpoint must verify under.
    ///   - chainKeys: the keys entries are linked under.
    public init(chain: UUID, checkpoints: [Checkpoint] = [], exported: [Checkpoint] = [], keys: CheckpointKeys = CheckpointKeys(),
                chainKeys: [ChainKey] = []) {
        self.chain = chain
        self.keys = keys
        self.chainKeys = Dictionary(chainKeys.map { ($0.version, $0) }, uniquingKeysWith: { first, _ in first })
        let all = checkpoints.map { ($0, false) } + exported.map { ($0, true) }
        self.checkpoints = all.filter { $0.0.chain == chain }.sorted { ($0.0.sequence, $0.1 ? 1 : 0) < ($1.0.sequence, $1.1 ? 1 : 0) }
        self.unkeyedThrough = self.checkpoints.filter { keys.isValid($0.checkpoint) }.map(\.checkpoint.sequence).max() ?? 0
    }

    /// A verifier for the entries after a signed checkpoint: what is checked before the next
    /// checkpoint is signed, so a checkpoint never vouches for entries that do not verify.
    /// `acceptingUnkeyed` admits entries written before chains were keyed (once, when an
    /// installation first runs with keyed chains); otherwise every entry must be keyed.
    public static func resuming(from checkpoint: Checkpoint?, chain: UUID, keys: CheckpointKeys, chainKeys: [ChainKey],
                                acceptingUnkeyed: Bool = false) throws(ChainFault) -> ChainVerifier {
        var verifier = ChainVerifier(chain: chain, keys: keys, chainKeys: chainKeys)
        if let checkpoint {
            guard checkpoint.chain == chain, keys.isValid(checkpoint) else {
                throw ChainFault(chain: chain, sequence: checkpoint.sequence, reason: .checkpointSignature)
            }
            verifier.expectedSequence = checkpoint.sequence + 1
            verifier.previousHash = checkpoint.headHash
        }
        verifier.unkeyedThrough = acceptingUnkeyed ? Int64.max : verifier.expectedSequence - 1
        return verifier
    }

    /// A verifier for a chain whose entries up to `cut.sequence` were purged for retention: it
    /// starts after the cut, linked to the cut's hash. Checkpoints of purged entries can no
    /// longer be checked and are passed over; one at the cut itself must agree with it.
    public static func resuming(after cut: RetentionCut, checkpoints: [Checkpoint] = [], exported: [Checkpoint] = [],
                                keys: CheckpointKeys, chainKeys: [ChainKey] = []) throws(ChainFault) -> ChainVerifier {
        guard keys.isValid(cut) else { throw ChainFault(chain: cut.chain, sequence: cut.sequence, reason: .retentionCutSignature) }
        var verifier = ChainVerifier(chain: cut.chain, checkpoints: checkpoints.filter { $0.sequence >= cut.sequence },
                                     exported: exported.filter { $0.sequence >= cut.sequence }, keys: keys, chainKeys: chainKeys)
        verifier.unkeyedThrough = max(verifier.unkeyedThrough, cut.sequence)
        verifier.expectedSequence = cut.sequence + 1
        verifier.previousHash = cut.headHash
        try verifier.checkCheckpoints(at: cut.sequence, hash: cut.headHash)
        return verifier
    }

    public mutating func check(_ entry: LedgerEntry) throws(ChainFault) {
        guard entry.sequence == expectedSequence, entry.event.chain == chain else {
            throw ChainFault(chain: chain, sequence: expectedSequence, reason: .sequenceBreak)
        }
        let key: ChainKey?
        if let version = entry.keyVersion {
            guard let known = chainKeys[version] else { throw ChainFault(chain: chain, sequence: entry.sequence, reason: .unknownChainKey) }
            key = known
        } else {
            guard entry.sequence <= unkeyedThrough else { throw ChainFault(chain: chain, sequence: entry.sequence, reason: .unkeyedEntry) }
            key = nil
        }
        let recomputed = HashChain.hash(sequence: entry.sequence, event: entry.event, previous: previousHash, key: key)
        guard recomputed == entry.hash else {
            throw ChainFault(chain: chain, sequence: entry.sequence, reason: .hashMismatch)
        }
        try checkCheckpoints(at: entry.sequence, hash: recomputed)
        previousHash = recomputed
        expectedSequence += 1
        verifiedCount += 1
    }

    private mutating func checkCheckpoints(at sequence: Int64, hash: Data) throws(ChainFault) {
        while nextCheckpoint < checkpoints.count, checkpoints[nextCheckpoint].checkpoint.sequence <= sequence {
            let (checkpoint, exported) = checkpoints[nextCheckpoint]
            nextCheckpoint += 1
            guard keys.isValid(checkpoint) else {
                throw ChainFault(chain: chain, sequence: checkpoint.sequence, reason: .checkpointSignature)
            }
            guard checkpoint.sequence == sequence, checkpoint.headHash == hash else {
                throw ChainFault(chain: chain, sequence: checkpoint.sequence, reason: exported ? .exportedCheckpointMismatch : .checkpointMismatch)
            }
        }
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
        if nextCheckpoint < checkpoints.count {
            let (checkpoint, exported) = checkpoints[nextCheckpoint]
            guard keys.isValid(checkpoint) else {
                throw ChainFault(chain: chain, sequence: checkpoint.sequence, reason: .checkpointSignature)
            }
            throw ChainFault(chain: chain, sequence: last + 1, reason: exported ? .exportedCheckpointBeyondChain : .checkpointBeyondChain)
        }
    }
}
