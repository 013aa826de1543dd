import Crypto
import Foundation

/// What the ledger keeps of a client's address (review round 2, A10; DAO-5, DC-2): the network it
/// came from (an IPv4 /24 or an IPv6 /48), readable, and a keyed hash of the whole address for
/// matching, e.g. `203.0.113.0/24 h=6f1c0a9d2b7e4c13`. The same address in the same chain always
/// gives the same text, so "failed sign-ins by address" still groups them; without the key the
/// hash names no address, and it differs from chain to chain.
///
/// The key is derived (HKDF-SHA-256, its own label) from the checkpoint-signing key, which only
/// the key provider unwraps, like the chain key.
public struct AddressPseudonym: Sendable {
    let key: SymmetricKey

    public init(rawKey: Data) { self.key = SymmetricKey(data: rawKey) }

    public static func derived(from signer: CheckpointSigner) -> AddressPseudonym {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: signer.rawPrivateKey),
                                             salt: Data("clinickeep.audit".utf8),
                                             info: Data("clinickeep.audit.address-key.v\(signer.version)".utf8), outputByteCount: 32)
        return AddressPseudonym(rawKey: derived.withUnsafeBytes { Data($0) })
    }

    public func pseudonym(_ address: String, chain: UUID) -> String {
        var mac = HMAC<SHA256>(key: key)
        mac.update(data: withUnsafeBytes(of: chain.uuid) { Data($0) })
        mac.update(data: Data(address.utf8))
        let hash = Data(mac.finalize()).prefix(8).map { String(format: "%02x", $0) }.joined()
        guard let network = Self.network(of: address) else { return "h=" + hash }
        return network + " h=" + hash
    }

    /// The /24 of an IPv4 address or the /48 of an IPv6 one; nil for anything else.
    static func network(of address: String) -> String? {
        let v4 = address.split(separator: ".", omittingEmptySubsequences: false)
        if v4.count == 4, v4.allSatisfy({ UInt8($0) != nil }) {
            return "\(v4[0]).\(v4[1]).\(v4[2]).0/24"
        }
        guard address.contains(":"), let groups = expandedIPv6(address) else { return nil }
        return groups.prefix(3).map { String($0, radix: 16) }.joined(separator: ":") + "::/48"
    }

    /// The eight 16-bit groups of an IPv6 address (`::` expanded), or nil when it is not one.
    static func expandedIPv6(_ text: String) -> [UInt16]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var values: [UInt16] = []
            for piece in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard piece.count <= 4, let value = UInt16(piece, radix: 16) else { return nil }
                values.append(value)
            }
            return values
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
