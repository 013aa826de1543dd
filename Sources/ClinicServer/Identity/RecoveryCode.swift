import Crypto
import Foundation

/// Single-use codes for when the authenticator is lost: 80 random bits each, written as four
/// groups of four from an alphabet without look-alikes. With that much entropy a plain SHA-256
/// is a safe way to store them (nothing to brute-force), and it lets a code be found by hash.
enum RecoveryCode {
    static let count = 10
    private static let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789") // 32 symbols: 5 bits each

    static func generate() -> String {
        let bytes = SymmetricKey(size: SymmetricKeySize(bitCount: 80)).withUnsafeBytes { Data($0) }
        let symbols = Array(Base32.encode(bytes, symbols: alphabet))
        return stride(from: 0, to: 16, by: 4).map { String(symbols[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// Case, spaces and dashes do not matter when a code is typed back.
    static func normalised(_ typed: String) -> String? {
        let kept = typed.lowercased().filter { $0 != "-" && !$0.isWhitespace }
        guard kept.count == 16, kept.allSatisfy({ alphabet.contains($0) }) else { return nil }
        return kept
    }

    static func hash(_ normalisedCode: String) -> Data {
        Data(SHA256.hash(data: Data("clinickeep.recovery-code.v1\u{0}\(normalisedCode)".utf8)))
    }
}
