import Crypto
import Foundation

/// A signed statement that a chain had reached `sequence` with `headHash` at `signedAt`.
///
/// The hash chain alone cannot stop someone with write access from rewriting entries and
/// recomputing every hash after them; a checkpoint can, because only the holder of the signing
/// key makes new ones, and an exported copy kept elsewhere also catches a chain cut back to
/// before it.
public struct Checkpoint: Sendable, Equatable {
    public var chain: UUID
    public var sequence: Int64
    public var headHash: Data
    public var signedAtMilliseconds: Int64
    public var keyVersion: UInt32
    public var signature: Data

    public init(chain: UUID, sequence: Int64, headHash: Data, signedAtMilliseconds: Int64, keyVersion: UInt32, signature: Data) {
        self.chain = chain
        self.sequence = sequence
        self.headHash = headHash
        self.signedAtMilliseconds = signedAtMilliseconds
        self.keyVersion = keyVersion
        self.signature = signature
    }

    /// The exact bytes the signature covers.
    var signedBytes: Data {
        var out = Data("clinickeep.checkpoint.v1".utf8)
        out.append(CanonicalEncoding.uuid(chain))
        out.append(CanonicalEncoding.bigEndian(UInt64(bitPattern: sequence)))
        out.append(headHash)
        out.append(CanonicalEncoding.bigEndian(UInt64(bitPattern: signedAtMilliseconds)))
        out.append(CanonicalEncoding.bigEndian32(keyVersion))
        return out
    }
}

/// The private half of one version of the checkpoint-signing key. Lives only in memory; stored
/// only wrapped by the key provider.
public struct CheckpointSigner: Sendable {
    public let version: UInt32
    private let key: Curve25519.Signing.PrivateKey

    public init(version: UInt32, rawPrivateKey: Data) throws {
        self.version = version
        self.key = try Curve25519.Signing.PrivateKey(rawRepresentation: rawPrivateKey)
    }

    /// A fresh key from the system CSPRNG.
    public static func generate(version: UInt32) -> CheckpointSigner {
        // Force-try: 32 fresh random bytes are always a valid Ed25519 seed.
        try! CheckpointSigner(version: version, rawPrivateKey: Curve25519.Signing.PrivateKey().rawRepresentation)
    }

    public var rawPrivateKey: Data { key.rawRepresentation }
    public var publicKey: Data { key.publicKey.rawRepresentation }

    public func sign(chain: UUID, head: ChainHead, signedAtMilliseconds: Int64) throws -> Checkpoint {
        var checkpoint = Checkpoint(chain: chain, sequence: head.sequence, headHash: head.hash,
                                    signedAtMilliseconds: signedAtMilliseconds, keyVersion: version, signature: Data())
        checkpoint.signature = try signature(for: checkpoint.signedBytes)
        return checkpoint
    }

    func signature(for bytes: Data) throws -> Data {
        try key.signature(for: bytes)
    }
}

/// The public halves of every signing-key version, to check checkpoints with.
public struct CheckpointKeys: Sendable {
    private var byVersion: [UInt32: Curve25519.Signing.PublicKey] = [:]

    public init() {}

    public mutating func add(version: UInt32, publicKey: Data) throws {
        byVersion[version] = try Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
    }

    public var versions: [UInt32] { byVersion.keys.sorted() }

    public func publicKey(version: UInt32) -> Data? { byVersion[version]?.rawRepresentation }

    public func isValid(_ checkpoint: Checkpoint) -> Bool {
        isValidSignature(checkpoint.signature, for: checkpoint.signedBytes, version: checkpoint.keyVersion)
    }

    func isValidSignature(_ signature: Data, for bytes: Data, version: UInt32) -> Bool {
        guard let key = byVersion[version] else { return false }
        return key.isValidSignature(signature, for: bytes)
    }
}
