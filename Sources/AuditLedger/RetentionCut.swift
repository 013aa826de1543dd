import Crypto
import Foundation

/// A signed statement that a chain's entries up to `sequence` (ending in `headHash`) were
/// removed on purpose, because they were older than `olderThan` when the retention period ran out.
///
/// After a purge the chain starts at `sequence + 1` with `headHash` as its predecessor. Only the
/// holder of the signing key makes a cut, so someone with database access cannot pass off the
/// removal of recent entries, or of a chain's start, as retention. Signed under its own label:
/// a checkpoint's signature can never be replayed as a cut.
public struct RetentionCut: Sendable, Equatable {
    public var chain: UUID
    /// The last entry removed.
    public var sequence: Int64
    /// That entry's hash: what the first kept entry links to.
    public var headHash: Data
    /// The retention boundary the purge applied: every removed entry occurred before it.
    public var olderThanMilliseconds: Int64
    public var signedAtMilliseconds: Int64
    public var keyVersion: UInt32
    public var signature: Data

    public init(chain: UUID, sequence: Int64, headHash: Data, olderThanMilliseconds: Int64, signedAtMilliseconds: Int64,
                keyVersion: UInt32, signature: Data) {
        self.chain = chain
        self.sequence = sequence
        self.headHash = headHash
        self.olderThanMilliseconds = olderThanMilliseconds
        self.signedAtMilliseconds = signedAtMilliseconds
        self.keyVersion = keyVersion
        self.signature = signature
    }

    /// The exact bytes the signature covers.
    var signedBytes: Data {
        var out = Data("clinickeep.retention-cut.v1".utf8)
        out.append(CanonicalEncoding.uuid(chain))
        out.append(CanonicalEncoding.bigEndian(UInt64(bitPattern: sequence)))
        out.append(headHash)
        out.append(CanonicalEncoding.bigEndian(UInt64(bitPattern: olderThanMilliseconds)))
        out.append(CanonicalEncoding.bigEndian(UInt64(bitPattern: signedAtMilliseconds)))
        out.append(CanonicalEncoding.bigEndian32(keyVersion))
        return out
    }
}

extension CheckpointSigner {
    public func signCut(chain: UUID, through head: ChainHead, olderThanMilliseconds: Int64, signedAtMilliseconds: Int64) throws -> RetentionCut {
        var cut = RetentionCut(chain: chain, sequence: head.sequence, headHash: head.hash, olderThanMilliseconds: olderThanMilliseconds,
                               signedAtMilliseconds: signedAtMilliseconds, keyVersion: version, signature: Data())
        cut.signature = try signature(for: cut.signedBytes)
        return cut
    }
}

extension CheckpointKeys {
    public func isValid(_ cut: RetentionCut) -> Bool {
        isValidSignature(cut.signature, for: cut.signedBytes, version: cut.keyVersion)
    }
}
