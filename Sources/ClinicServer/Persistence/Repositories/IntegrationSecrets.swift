import ClinicDomain
import Foundation
import Keyring
import SQLKit

/// A clinic's third-party credentials: sealed under the clinic's keys (bound to their row), listed
/// by kind and label only, opened only inside the server for the integration that needs them,
/// and every store, use and removal recorded in the clinic's audit chain.
struct IntegrationSecrets: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    static let table = "integration_secrets"

    struct Entry: Sendable, Equatable {
        let id: UUID
        let kind: IntegrationSecretKind
        let label: String
        let createdAt: Date
    }

    /// Stores a credential under its kind and label, replacing one of the same kind and label.
    func store(_ kind: IntegrationSecretKind, label: String, value: String) async throws -> Entry {
        let label = try IntegrationSecretRules.checkLabel(label)
        try IntegrationSecretRules.checkValue(value, kind: kind)
        let scope = self.scope, keyring = services.keyring
        let id = UUID(), now = Date().milliseconds
        try await services.store.transaction(realm: scope.realm) { tx in
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let replaced = try await tx.sql.raw("""
                DELETE FROM integration_secrets WHERE clinic_id = \(bind: scope.realm) AND kind = \(bind: kind.rawValue) AND label = \(bind: label)
                RETURNING id
                """).first()
            try await tx.sql.raw("""
                INSERT INTO integration_secrets (id, clinic_id, kind, label, secret, created_by, created_at_ms)
                VALUES (\(bind: id), \(bind: scope.realm), \(bind: kind.rawValue), \(bind: label),
                        \(bind: try keys.seal(value, table: Self.table, column: "secret", row: id).bytes), \(bind: scope.actor.rawValue), \(bind: now))
                """).run()
            try await Ledger.append(scope.event("integration_secret.store", resourceType: "integration_secret", resource: id,
                                                detail: "kind=\(kind.rawValue)" + (replaced == nil ? "" : " replaced=\(try replaced!.decode(column: "id", as: UUID.self))")), in: tx)
        }
        return Entry(id: id, kind: kind, label: label, createdAt: Date(milliseconds: now))
    }

    func list() async throws -> [Entry] {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            try await tx.sql.raw("""
                SELECT id, kind, label, created_at_ms FROM integration_secrets WHERE clinic_id = \(bind: scope.realm) ORDER BY kind, label
                """).all().compactMap { row in
                guard let kind = IntegrationSecretKind(rawValue: try row.decode(column: "kind", as: String.self)) else { return nil }
                return Entry(id: try row.decode(column: "id", as: UUID.self), kind: kind, label: try row.decode(column: "label", as: String.self),
                             createdAt: Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)))
            }
        }
    }

    /// The credential itself, for the server's own call to the third party; the use is recorded.
    func use(_ kind: IntegrationSecretKind, label: String) async throws -> String {
        let scope = self.scope, keyring = services.keyring
        let found = try await services.store.transaction(realm: scope.realm) { tx -> String? in
            guard let row = try await tx.sql.raw("""
                SELECT id, secret FROM integration_secrets WHERE clinic_id = \(bind: scope.realm) AND kind = \(bind: kind.rawValue) AND label = \(bind: label)
                """).first() else { return nil }
            let id = try row.decode(column: "id", as: UUID.self)
            let keys = try await keyring.keys(for: scope.realm, in: tx)
            let value = try keys.openRequiredColumn(row, table: Self.table, column: "secret", id: id)
            try await Ledger.append(scope.event("integration_secret.use", resourceType: "integration_secret", resource: id,
                                                detail: "kind=\(kind.rawValue)"), in: tx)
            return value
        }
        guard let found else { throw ClinicError.notFound }
        return found
    }

    func delete(_ id: UUID) async throws {
        let scope = self.scope
        let gone = try await services.store.transaction(realm: scope.realm) { tx -> Bool in
            let gone = try await tx.sql.raw("""
                DELETE FROM integration_secrets WHERE clinic_id = \(bind: scope.realm) AND id = \(bind: id) RETURNING id
                """).first() != nil
            try await Ledger.append(scope.event("integration_secret.delete", resourceType: "integration_secret", resource: id,
                                                outcome: gone ? .success : .failure), in: tx)
            return gone
        }
        guard gone else { throw ClinicError.notFound }
    }
}
