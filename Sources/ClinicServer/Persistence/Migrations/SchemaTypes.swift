import SQLKit

/// Column types that differ between the engines.
struct SchemaTypes {
    let kind: DatabaseKind
    var uuid: String { kind == .postgres ? "UUID" : "TEXT" }
    var bytes: String { kind == .postgres ? "BYTEA" : "BLOB" }
    let int64 = "BIGINT"
    let text = "TEXT"
}

extension SQLDatabase {
    var kind: DatabaseKind { dialect.name == "postgresql" ? .postgres : .sqlite }
    var types: SchemaTypes { SchemaTypes(kind: kind) }

    func execute(_ statements: [String]) async throws {
        for statement in statements { try await raw(SQLQueryString(statement)).run() }
    }
}
