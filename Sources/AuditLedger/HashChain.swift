import Crypto
import Foundation

/// Links each entry to the one before it: hash = HMAC-SHA-256(chain key, previous hash ||
/// canonical entry). Changing, removing or reordering any entry changes every hash after it, and
/// without the chain key nobody can compute a hash that verifies.
///
/// Entries written before the chain was keyed (no key version) were linked by plain SHA-256;
/// they verify as they are, but only where a signed checkpoint covers them (see `ChainVerifier`).
public enum HashChain {
    /// The "previous hash" of a chain's first entry.
    public static let genesis = Data(repeating: 0, count: 32)

    /// The hash of an entry; `key` nil for an entry written before chains were keyed.
    public static func hash(sequence: Int64, event: AuditEvent, previous: Data, key: ChainKey?) -> Data {
        guard let key else {
            var hasher = SHA256()
            hasher.update(data: previous)
            hasher.update(data: CanonicalEncoding.encode(sequence: sequence, event: event))
            return Data(hasher.finalize())
        }
        var mac = HMAC<SHA256>(key: key.key)
        mac.update(data: previous)
        mac.update(data: CanonicalEncoding.encode(sequence: sequence, event: event, keyVersion: key.version))
        return Data(mac.finalize())
    }

    /// The entry that follows `head` (or starts the chain when there is none).
    public static func append(_ event: AuditEvent, after head: ChainHead?, key: ChainKey) -> LedgerEntry {
        let sequence = (head?.sequence ?? 0) + 1
        return LedgerEntry(sequence: sequence, event: event, hash: hash(sequence: sequence, event: event, previous: head?.hash ?? genesis, key: key),
                           keyVersion: key.version)
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
