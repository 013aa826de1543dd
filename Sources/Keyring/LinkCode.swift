import Crypto
import Foundation

/// A code that proves a link was made by this server for one purpose and one subject (an
/// unsubscribe link for one patient): HMAC-SHA-256 under the realm's index key, over the
/// purpose and the subject. The purpose is part of the message, so a code made for one purpose
/// never passes for another, and never equals a blind index (those use their own kinds).
extension RealmKeys {
    public func linkCode(purpose: String, subject: String) -> Data {
        indexKey.linkCode(purpose: purpose, subject: subject)
    }

    /// Whether `code` was made by any live index key of the realm (a link made before a key
    /// rotation still works until that key version is retired). Compared in constant time.
    public func isValidLinkCode(_ code: Data, purpose: String, subject: String) -> Bool {
        ([indexKey] + olderIndexKeys).contains { $0.isValidLinkCode(code, purpose: purpose, subject: subject) }
    }
}

extension BlindIndexKey {
    private static func message(purpose: String, subject: String) -> Data {
        var message = Data("link:".utf8)
        message.append(Data(purpose.utf8))
        message.append(0)
        message.append(Data(subject.utf8))
        return message
    }

    func linkCode(purpose: String, subject: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Self.message(purpose: purpose, subject: subject), using: key))
    }

    func isValidLinkCode(_ code: Data, purpose: String, subject: String) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: Self.message(purpose: purpose, subject: subject), using: key)
    }
}
