import Foundation

/// The exact bytes an entry's hash covers. Every field is tagged and length-prefixed, and an
/// absent field is distinct from an empty one, so no two different entries encode alike.
enum CanonicalEncoding {
    static let label = Data("clinickeep.audit.v1".utf8)
    /// Keyed entries: the key's version is part of what the MAC covers.
    static let keyedLabel = Data("clinickeep.audit.v2".utf8)

    static func encode(sequence: Int64, event: AuditEvent, keyVersion: UInt32? = nil) -> Data {
        var out = keyVersion == nil ? label : keyedLabel
        field(&out, 1, bigEndian(UInt64(bitPattern: sequence)))
        field(&out, 2, uuid(event.chain))
        field(&out, 3, bigEndian(UInt64(bitPattern: event.occurredAtMilliseconds)))
        field(&out, 4, event.actor.map(uuid))
        field(&out, 5, Data(event.action.utf8))
        field(&out, 6, event.resourceType.map { Data($0.utf8) })
        field(&out, 7, event.resource.map(uuid))
        field(&out, 8, Data(event.outcome.rawValue.utf8))
        field(&out, 9, event.address.map { Data($0.utf8) })
        field(&out, 10, event.requestID.map { Data($0.utf8) })
        field(&out, 11, event.detail.map { Data($0.utf8) })
        if let keyVersion { field(&out, 12, bigEndian32(keyVersion)) }
        return out
    }

    private static func field(_ out: inout Data, _ tag: UInt8, _ value: Data?) {
        out.append(tag)
        guard let value else {
            out.append(contentsOf: [0xff, 0xff, 0xff, 0xff])
            return
        }
        out.append(bigEndian32(UInt32(value.count)))
        out.append(value)
    }

    // Shared with the signed statements (checkpoints, retention cuts), which lay out their fields the same way.
    static func uuid(_ id: UUID) -> Data { withUnsafeBytes(of: id.uuid) { Data($0) } }

    static func bigEndian(_ value: UInt64) -> Data { withUnsafeBytes(of: value.bigEndian) { Data($0) } }

    static func bigEndian32(_ value: UInt32) -> Data { withUnsafeBytes(of: value.bigEndian) { Data($0) } }
}
