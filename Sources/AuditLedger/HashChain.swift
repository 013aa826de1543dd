import Crypto
import Foundation

/// Links each entry to the one before it: hash = SHA-256(previous hash || canonical entry).
/// Changing, removing or reordering any entry changes every hash after it.
public enum HashChain {
    /// The "previous hash" of a chain's first entry.
    public static let genesis = Data(repeating: 0, count: 32)

    public static func hash(sequence: Int64, event: AuditEvent, previous: Data) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: CanonicalEncoding.encode(sequence: sequence, event: event))
        return Data(hasher.finalize())
    }

    /// The entry that follows `head` (or starts the chain when there is none).
    public static func append(_ event: AuditEvent, after head: ChainHead?) -> LedgerEntry {
        let sequence = (head?.sequence ?? 0) + 1
        return LedgerEntry(sequence: sequence, event: event, hash: hash(sequence: sequence, event: event, previous: head?.hash ?? genesis))
    }
}

/// Where a chain ends: the last sequence number and its hash.
public struct ChainHead: Sendable, Equatable {
    public var sequence: Int64
    public var hash: Data

    public init(sequence: Int64, hash: Data) {
        self.sequence = sequence
        self.hash = hash
    }
}
