import Crypto
import Foundation
import Testing
@testable import Keyring

@Suite("AWS Signature Version 4")
struct AWSSignatureV4Tests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
    static let headers: [(name: String, value: String)] = [
        ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Host", "iam.amazonaws.com"),
    ]

    // The worked example of AWS's documentation ("Create a signed AWS API request": IAM ListUsers).
    @Test("the documented IAM ListUsers example signs to the documented signature")
    func documentedExample() throws {
        let signer = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "iam")
        let added = signer.sign(method: "GET", path: "/", query: "Version=2010-05-08&Action=ListUsers", headers: Self.headers,
                                body: Data(), date: Self.date)
        let authorization = try #require(added.first { $0.name == "authorization" }?.value)
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        #expect(added.first { $0.name == "x-amz-date" }?.value == "20150830T123600Z")
    }

    @Test("the documented example's canonical request hashes to the documented value")
    func canonicalRequest() {
        let signer = AWSSignatureV4(credentials: Self.credentials, region: "us-east-1", service: "iam")
        let headers = [("content-type", "application/x-www-form-urlencoded; charset=utf-8"), ("host", "iam.amazonaws.com"),
                       ("x-amz-date", "20150830T123600Z")].map { (name: $0.0, value: $0.1) }
        let canonical = signer.canonicalRequest(method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08", headers: headers,
                                                signedHeaders: "content-type;host;x-amz-date", body: Data())
        #expect(AWSSignatureV4.hex(SHA256.hash(data: Data(canonical.utf8))) == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
    }

    @Test("a session token is sent and signed; the secret is never in a description")
    func sessionToken() throws {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "token-1")
        let added = AWSSignatureV4(credentials: credentials, region: "ap-southeast-2", service: "kms")
            .sign(method: "POST", path: "/", query: "", headers: Self.headers, body: Data("{}".utf8), date: Self.date)
        #expect(added.first { $0.name == "x-amz-security-token" }?.value == "token-1")
        #expect(try #require(added.first { $0.name == "authorization" }?.value).contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,"))
        #expect(!"\(credentials)".contains("wJalr"))
    }
}

/// Security review round 2, A8: Decrypt named no key, so KMS opened any ciphertext the server's
/// credentials could, whichever key a stored row came from.
@Suite("KMS provider: the keys it asks to decrypt with")
struct KMSDecryptKeyTests {
    final class Sent: @unchecked Sendable {
        private let lock = NSLock()
        private var bodies: [[String: Any]] = []
        func add(_ body: [String: Any]) { lock.lock(); bodies.append(body); lock.unlock() }
        var all: [[String: Any]] { lock.lock(); defer { lock.unlock() }; return bodies }
    }

    func provider(_ sent: Sent) throws -> AWSKMSProvider {
        try AWSKMSProvider(keyID: "alias/current", previousKeyIDs: ["alias/previous"], region: "ap-southeast-2",
                           endpoint: URL(string: "http://127.0.0.1:9/"), credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret"),
                           transport: { exchange in
                               sent.add((try? JSONSerialization.jsonObject(with: exchange.body)) as? [String: Any] ?? [:])
                               let answer = ["Plaintext": Data(repeating: 1, count: 32).base64EncodedString()]
                               return (200, try JSONSerialization.data(withJSONObject: answer))
                           })
    }

    // POR-1: keys never cross a network in the clear
    @Test("the KMS endpoint is https, or http only to this machine")
    func endpointOverTLS() throws {
        func provider(_ endpoint: String) throws -> AWSKMSProvider {
            try AWSKMSProvider(keyID: "alias/current", region: "ap-southeast-2", endpoint: URL(string: endpoint),
                               credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret"),
                               transport: { _ in (500, Data()) })
        }
        for clear in ["http://kms.example/", "http://10.0.0.5:4566/", "ftp://127.0.0.1/"] {
            #expect(throws: KeyringError.self, "\(clear)") { _ = try provider(clear) }
        }
        for allowed in ["https://kms.ap-southeast-2.amazonaws.com/", "http://127.0.0.1:4566/", "http://localhost:4566/"] {
            #expect(try provider(allowed).endpoint.absoluteString == allowed)
        }
    }

    @Test("Decrypt names the configured key the row was wrapped by; a key not configured is refused before KMS is asked")
    func decryptNamesItsKey() async throws {
        let sent = Sent()
        let kms = try provider(sent)
        let context = WrapContext(realm: UUID(), purpose: .root, version: .first)
        _ = try await kms.unwrap(Data([1, 2, 3]), keyID: "alias/current", context: context)
        _ = try await kms.unwrap(Data([1, 2, 3]), keyID: "alias/previous", context: context)
        #expect(sent.all.map { $0["KeyId"] as? String } == ["alias/current", "alias/previous"])
        await #expect(throws: KeyringError.self) { _ = try await kms.unwrap(Data([1, 2, 3]), keyID: "arn:aws:kms:elsewhere", context: context) }
        #expect(sent.all.count == 2)
    }
}
