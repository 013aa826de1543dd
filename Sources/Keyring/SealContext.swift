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
        var bytes = Data("clinickeep.field".utf8)
        bytes.append(realm.bytes)
        bytes.appendLengthPrefixed(Data(table.utf8))
        bytes.appendLengthPrefixed(Data(column.utf8))
        bytes.append(row.bytes)
        return bytes
    }
}

extension UUID {
    var bytes: Data { withUnsafeBytes(of: uuid) { Data($0) } }
}

extension Data {
    mutating func appendLengthPrefixed(_ value: Data) {
        appendUInt32(UInt32(value.count))
        append(value)
    }

    mutating func appendUInt32(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)])
    }

    func readUInt32(at offset: Int) -> UInt32 {
        let start = startIndex + offset
        return self[start..<start + 4].reduce(0) { ($0 << 8) | UInt32($1) }
    }
}
