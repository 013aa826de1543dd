import Crypto
import Foundation

/// The secret that links a chain's entries: each entry's hash is an HMAC-SHA-256 under it, so
/// someone who can write the database but does not hold the key cannot make an entry that
/// verifies, backdated or not.
///
/// It is derived (HKDF-SHA-256, its own label) from the checkpoint-signing key of the same
/// version, which the key provider holds wrapped: whoever can unwrap the signing key can extend
/// the chain, and nobody else. Verifying a chain needs it too, so `audit verify` runs with the
/// key provider, like the server.
public struct ChainKey: Sendable {
    public let version: UInt32
    let key: SymmetricKey

    public init(version: UInt32, rawKey: Data) {
        self.version = version
        self.key = SymmetricKey(data: rawKey)
    }

    public static func derived(from signer: CheckpointSigner) -> ChainKey {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: signer.rawPrivateKey),
                                             salt: Data("clinickeep.audit".utf8),
                                             info: Data("clinickeep.audit.chain-key.v\(signer.version)".utf8), outputByteCount: 32)
        return ChainKey(version: signer.version, rawKey: derived.withUnsafeBytes { Data($0) })
    }
}
