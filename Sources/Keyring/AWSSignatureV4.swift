import Crypto
import Foundation

/// Credentials for signing AWS requests. Never printed: `description` names the key id only.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public let accessKeyID: String
    let secretAccessKey: String
    let sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret withheld)" }
}

/// AWS Signature Version 4 (docs.aws.amazon.com, "Create a signed AWS API request"): the
/// request's canonical form hashed with SHA-256, signed with HMAC-SHA-256 under a key derived
/// from the secret, the date, the region and the service. Built only from swift-crypto's HMAC and
/// SHA-256; the published example requests are its tests.
public struct AWSSignatureV4: Sendable {
    public let credentials: AWSCredentials
    public let region: String
    public let service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The headers to add to the request: `x-amz-date`, the session token when there is one,
    /// and `authorization`. `headers` must hold every header to be signed, `host` included.
    public func sign(method: String, path: String, query: String, headers: [(name: String, value: String)], body: Data,
                     date: Date) -> [(name: String, value: String)] {
        let amzDate = Self.timestamp(date)
        var signed = headers.map { (name: $0.name.lowercased(), value: Self.trimmed($0.value)) }
        var added = [(name: "x-amz-date", value: amzDate)]
        if let token = credentials.sessionToken { added.append((name: "x-amz-security-token", value: token)) }
        signed += added
        signed.sort { $0.name < $1.name }
        let signedHeaders = signed.map(\.name).joined(separator: ";")
        let canonical = canonicalRequest(method: method, path: path, query: query, headers: signed, signedHeaders: signedHeaders, body: body)
        let scope = "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
        let toSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n\(Self.hex(SHA256.hash(data: Data(canonical.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: signingKey(day: String(amzDate.prefix(8)))))
        added.append((name: "authorization",
                      value: "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"))
        return added
    }

    func canonicalRequest(method: String, path: String, query: String, headers: [(name: String, value: String)],
                          signedHeaders: String, body: Data) -> String {
        let canonicalHeaders = headers.map { "\($0.name):\($0.value)\n" }.joined()
        return [method, path.isEmpty ? "/" : path, Self.canonicalQuery(query), canonicalHeaders, signedHeaders,
                Self.hex(SHA256.hash(data: body))].joined(separator: "\n")
    }

    private func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data(("AWS4" + credentials.secretAccessKey).utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// Parameters sorted by name then value; they arrive already URI-encoded.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        return query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
