import Crypto
import Foundation

/// One HTTPS exchange with the KMS endpoint, made by the caller's HTTP client: Keyring holds no
/// network code of its own.
public struct KMSExchange: Sendable {
    public let url: URL
    public let headers: [(name: String, value: String)]
    public let body: Data
}

public typealias KMSTransport = @Sendable (KMSExchange) async throws -> (status: Int, body: Data)

/// The AWS KMS key provider: the key-encryption key never leaves KMS. Root keys come from
/// GenerateDataKey, and are wrapped and unwrapped with Encrypt and Decrypt (JSON 1.1 protocol,
/// Signature Version 4), with the `WrapContext` as KMS encryption context, so KMS itself refuses
/// to unwrap a key for another realm, purpose or version, and logs every use in CloudTrail.
///
/// `keyID` is the KMS key (id, ARN or alias) new wraps use; it is stored beside each wrapped key.
/// Decrypt names the key it expects, and only a key the operator configured: the current one or
/// one of `previousKeyIDs` (while `keys rewrap` moves keys off it). A stored row that names any
/// other key is refused before KMS is asked, and KMS itself refuses a ciphertext of another key,
/// so a blob wrapped under some other key the server's credentials can use is never opened.
public struct AWSKMSProvider: RewrappableKeyProvider {
    public let keyID: String
    public let previousKeyIDs: [String]
    public let endpoint: URL
    let signer: AWSSignatureV4
    let transport: KMSTransport

    public init(keyID: String, previousKeyIDs: [String] = [], region: String, endpoint: URL?, credentials: AWSCredentials,
                transport: @escaping KMSTransport) throws {
        let url = endpoint ?? URL(string: "https://kms.\(region).amazonaws.com/")!
        // Never in the clear to anything but a local test server.
        guard url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(url.host ?? "")) else {
            throw KeyringError.keyProvider("the KMS endpoint must be https (http only on loopback)")
        }
        self.keyID = keyID
        self.previousKeyIDs = previousKeyIDs
        self.endpoint = url
        self.signer = AWSSignatureV4(credentials: credentials, region: region, service: "kms")
        self.transport = transport
    }

    public var currentKeyID: String { keyID }

    public func wrap(_ keyBytes: Data, context: WrapContext) async throws -> WrappedKey {
        let answer = try await call("Encrypt", ["KeyId": keyID, "Plaintext": keyBytes.base64EncodedString(),
                                                "EncryptionContext": Self.encryptionContext(context)])
        guard let blob = (answer["CiphertextBlob"] as? String).flatMap({ Data(base64Encoded: $0) }) else { throw Self.malformedAnswer }
        return WrappedKey(bytes: blob, keyID: keyID)
    }

    public func unwrap(_ wrapped: Data, keyID: String, context: WrapContext) async throws -> Data {
        guard keyID == self.keyID || previousKeyIDs.contains(keyID) else {
            throw KeyringError.keyProvider("a stored key names KMS key \(keyID), which is neither CLINICKEEP_KMS_KEY_ID nor in CLINICKEEP_KMS_PREVIOUS_KEY_IDS")
        }
        let answer = try await call("Decrypt", ["CiphertextBlob": wrapped.base64EncodedString(), "KeyId": keyID,
                                                "EncryptionContext": Self.encryptionContext(context)])
        guard let plaintext = (answer["Plaintext"] as? String).flatMap({ Data(base64Encoded: $0) }) else { throw Self.malformedAnswer }
        return plaintext
    }

    public func generateKey(context: WrapContext) async throws -> (key: SymmetricKey, wrapped: WrappedKey) {
        let answer = try await call("GenerateDataKey", ["KeyId": keyID, "KeySpec": "AES_256",
                                                        "EncryptionContext": Self.encryptionContext(context)])
        guard let plaintext = (answer["Plaintext"] as? String).flatMap({ Data(base64Encoded: $0) }), plaintext.count == 32,
              let blob = (answer["CiphertextBlob"] as? String).flatMap({ Data(base64Encoded: $0) })
        else { throw Self.malformedAnswer }
        return (SymmetricKey(data: plaintext), WrappedKey(bytes: blob, keyID: keyID))
    }

    /// KMS keys are made and retired in KMS: the operator points `CLINICKEEP_KMS_KEY_ID` at a
    /// new key, runs `keys rewrap`, then disables the old key there.
    public func beginRewrap() async throws -> [String] { [] }
    public func finishRewrap(retiring: [String]) async throws {}

    static func encryptionContext(_ context: WrapContext) -> [String: String] {
        ["clinickeep:realm": context.realm.uuidString.lowercased(), "clinickeep:purpose": context.purpose.rawValue,
         "clinickeep:version": String(context.version.rawValue)]
    }

    private static let malformedAnswer = KeyringError.keyProvider("KMS answered something that is not a KMS answer")

    private func call(_ action: String, _ body: [String: Any]) async throws -> [String: Any] {
        let payload = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        var host = endpoint.host ?? ""
        if let port = endpoint.port { host += ":\(port)" }
        let path = endpoint.path.isEmpty ? "/" : endpoint.path
        let headers: [(name: String, value: String)] = [
            ("content-type", "application/x-amz-json-1.1"), ("host", host), ("x-amz-target", "TrentService." + action),
        ]
        let signature = signer.sign(method: "POST", path: path, query: "", headers: headers, body: payload, date: Date())
        let (status, data) = try await transport(KMSExchange(url: endpoint, headers: headers + signature, body: payload))
        let answer = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard status == 200 else {
            // The error's type only: KMS messages can name keys and accounts.
            let type = (answer["__type"] as? String).map { String($0.split(separator: "#").last ?? "") } ?? "no error type"
            throw KeyringError.keyProvider("KMS \(action) answered \(status) (\(type))")
        }
        return answer
    }
}
