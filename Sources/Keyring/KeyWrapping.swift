import Crypto
import Foundation

/// AES-256-GCM key wrapping shared by every local wrapping key: nonce (12) || ciphertext ||
/// tag (16), with the `WrapContext` as associated data, so a wrapped key cannot be moved to
/// another realm, purpose or version.
enum KeyWrapping {
    static func wrap(_ keyBytes: Data, with key: SymmetricKey, context: WrapContext) throws -> Data {
        let box = try AES.GCM.seal(keyBytes, using: key, nonce: AES.GCM.Nonce(), authenticating: context.encoded)
        guard let combined = box.combined else { throw KeyringError.malformed }
        return combined
    }

    static func unwrap(_ wrapped: Data, with key: SymmetricKey, context: WrapContext) throws(KeyringError) -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: wrapped), using: key, authenticating: context.encoded)
        } catch {
            throw .authenticationFailed
        }
    }
}
