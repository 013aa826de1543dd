import Crypto
import Foundation
import Vapor

/// A person's TOTP secret (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits — what every
/// authenticator app speaks). Codes come from Vapor's HOTP over the time-step counter, so the
/// caller learns which step matched and can refuse that step ever again.
struct TOTPSecret: Sendable {
    static let period: TimeInterval = 30
    /// One step either side, for clocks that drift and codes typed slowly.
    static let tolerance: Int64 = 1

    let bytes: Data

    static func generate() -> TOTPSecret {
        // 160 bits, the HMAC-SHA-1 block-friendly size RFC 4226 recommends.
        TOTPSecret(bytes: SymmetricKey(size: SymmetricKeySize(bitCount: 160)).withUnsafeBytes { Data($0) })
    }

    var base32: String { Base32.encode(bytes) }

    func otpauthURL(account: String, issuer: String = "ClinicKeep") -> String {
        var components = URLComponents()
        components.scheme = "otpauth"
        components.host = "totp"
        components.path = "/\(issuer):\(account)"
        components.queryItems = [
            .init(name: "secret", value: base32), .init(name: "issuer", value: issuer),
            .init(name: "algorithm", value: "SHA1"), .init(name: "digits", value: "6"), .init(name: "period", value: "30"),
        ]
        return components.string ?? ""
    }

    static func step(at time: Date) -> Int64 { Int64((time.timeIntervalSince1970 / period).rounded(.down)) }

    func code(forStep step: Int64) -> String {
        HOTP(key: SymmetricKey(data: bytes), digest: .sha1, digits: .six).generate(counter: UInt64(step))
    }

    /// The time step whose code this is, within the tolerance and newer than `after`; nil otherwise.
    func matchingStep(for code: String, at time: Date, after lastUsed: Int64?) -> Int64? {
        let digits = code.filter { !$0.isWhitespace }
        guard digits.count == 6, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else { return nil }
        let now = Self.step(at: time)
        var matched: Int64?
        // Every candidate is computed and compared in constant time, whichever matches.
        for step in (now - Self.tolerance)...(now + Self.tolerance) {
            if SecureToken.equal(self.code(forStep: step), digits), step > (lastUsed ?? Int64.min) { matched = step }
        }
        return matched
    }
}

/// RFC 4648 base32 without padding, as otpauth URLs carry secrets.
enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    /// Five bits a symbol, most significant first; `symbols` must hold 32 characters.
    static func encode(_ data: Data, symbols alphabet: [Character] = alphabet) -> String {
        var output = ""
        var buffer = 0, bits = 0
        for byte in data {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }

    static func decode(_ text: String) -> Data? {
        var output = Data()
        var buffer = 0, bits = 0
        for character in text.uppercased() where character != "=" {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = ((buffer << 5) | value) & 0xFFFF
            bits += 5
            if bits >= 8 {
                output.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return output
    }
}
