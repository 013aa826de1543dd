/// Why a key or a sealed value could not be used. Never carries key material or plaintext.
public enum KeyringError: Error, Equatable, Sendable {
    /// The blob is not a sealed value this code understands.
    case malformed
    /// The blob names a format version this code does not read.
    case unsupportedFormat(UInt8)
    /// No key of that version is known for this clinic.
    case unknownKeyVersion(UInt32)
    /// Authentication failed: wrong key, wrong context (another row, column or clinic), or tampered bytes.
    case authenticationFailed
    /// The key file is missing, unreadable, or readable by others.
    case keyFile(String)
    /// The wrapped key names a key-encryption key this provider does not hold.
    case unknownKeyEncryptionKey(String)
    /// The realm's root key is not in the key store: the realm was deleted (its keys destroyed).
    case realmKeysDestroyed
    /// The key store directory or one of its files could not be read or written.
    case keyStore(String)
    /// The key provider (KMS) refused or could not be reached; names the operation and status only.
    case keyProvider(String)
}
