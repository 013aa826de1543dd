import Foundation

/// Where a sealed value lives: clinic, table, column and row. It becomes the AES-GCM
/// associated data, so a ciphertext copied into another row, column or clinic fails to open.
public struct SealContext: Sendable, Hashable {
    public let realm: UUID
    public let table: String
    public let column: String
    public let row: UUID

    public init(realm: UUID, table: String, column: String, row: UUID) {
        self.realm = realm
        self.table = table
        self.column = column
        self.row = row
    }

    /// Unambiguous bytes: fixed-size ids and length-prefixed names, after a domain label.
    var encoded: Data {
        associatedData(after: Data())
    }

    /// `prefix` followed by `encoded`, built in one buffer: this runs for every sealed value
    /// read or written, and the micro-benchmarks (bench/micro) count its allocations.
    func associatedData(after prefix: Data) -> Data {
        var bytes = Data(capacity: prefix.count + Self.label.count + 16 + 4 + table.utf8.count + 4 + column.utf8.count + 16)
        bytes.append(prefix)
        bytes.append(contentsOf: Self.label)
        realm.append(to: &bytes)
        bytes.appendUInt32(UInt32(table.utf8.count))
        bytes.append(contentsOf: table.utf8)
        bytes.appendUInt32(UInt32(column.utf8.count))
        bytes.append(contentsOf: column.utf8)
        row.append(to: &bytes)
        return bytes
    }

    private static let label = Array("clinickeep.field".utf8)
}

extension UUID {
    var bytes: Data { withUnsafeBytes(of: uuid) { Data($0) } }

    func append(to data: inout Data) { withUnsafeBytes(of: uuid) { data.append(contentsOf: $0) } }
}

extension Data {
    mutating func appendLengthPrefixed(_ value: Data) {
        appendUInt32(UInt32(value.count))
        append(value)
    }

    mutating func appendUInt32(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }

    func readUInt32(at offset: Int) -> UInt32 {
        let start = startIndex + offset
        return self[start..<start + 4].reduce(0) { ($0 << 8) | UInt32($1) }
    }
}
