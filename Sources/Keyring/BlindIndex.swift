import Crypto
import Foundation

/// What a blind index is computed over. The kind is mixed into the HMAC input so a phone
/// index can never equal an e-mail index of the same text.
public struct BlindIndexKind: RawRepresentable, Hashable, Sendable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let phone = BlindIndexKind(rawValue: "phone")
    public static let email = BlindIndexKind(rawValue: "email")
    public static let nameToken = BlindIndexKind(rawValue: "name-token")
    public static let medicareNumber = BlindIndexKind(rawValue: "medicare-number")
}

/// A realm's key for blind indexes: HMAC-SHA-256 of a normalised value.
///
/// What an index leaks: equality. Whoever reads the database learns which rows of one realm
/// share a phone, an e-mail, a government number or a name token, and so how common a token
/// is within that realm (frequency analysis on surnames). It does not learn the value, and
/// indexes of different realms or kinds cannot be compared, because each realm has its own key.
public struct BlindIndexKey: Sendable {
    public let version: KeyVersion
    let key: SymmetricKey

    public init(version: KeyVersion, key: SymmetricKey) {
        precondition(key.bitCount == 256, "index keys are 256-bit")
        self.version = version
        self.key = key
    }

    public static func generate(version: KeyVersion) -> BlindIndexKey {
        BlindIndexKey(version: version, key: SymmetricKey(size: .bits256))
    }

    public func index(_ normalisedValue: String, kind: BlindIndexKind) -> Data {
        var message = Data(kind.rawValue.utf8)
        message.append(0)
        message.append(Data(normalisedValue.utf8))
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    var rawBytes: Data { key.withUnsafeBytes { Data($0) } }
}
