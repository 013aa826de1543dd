import ClinicDomain
import Foundation
import Keyring
import SQLKit

extension RealmKeys {
    /// Opens one sealed column of a stored row. A value that does not open in its own row was
    /// altered or moved: it is an integrity failure and is never shown.
    func openColumn(_ row: any SQLRow, table: String, column: String, id: UUID) throws -> String? {
        guard let bytes = try row.decode(column: column, as: Data?.self) else { return nil }
        do {
            return try open(try SealedField(bytes: bytes), table: table, column: column, row: id)
        } catch {
            throw ClinicError.integrityFailure
        }
    }

    /// As `openColumn`, for a column that is never empty.
    func openRequiredColumn(_ row: any SQLRow, table: String, column: String, id: UUID) throws -> String {
        guard let value = try openColumn(row, table: table, column: column, id: id) else { throw ClinicError.integrityFailure }
        return value
    }
}
