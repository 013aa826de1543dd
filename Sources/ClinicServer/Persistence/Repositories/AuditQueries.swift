import AuditLedger
import Foundation
import SQLKit

struct AuditQuery: Sendable {
    var resource: UUID?
    var actor: UUID?
    var from: Date?
    var to: Date?
    var limit = 500
}

/// Questions asked of one clinic's ledger; asking is itself recorded.
struct AuditQueries: Sendable {
    let scope: ClinicScope
    let services: ClinicServices

    func events(_ query: AuditQuery) async throws -> [LedgerEntry] {
        let scope = self.scope
        return try await services.store.transaction(realm: scope.realm) { tx in
            var sql = SQLQueryString("SELECT \(unsafeRaw: Ledger.entryColumns) FROM audit_events WHERE chain_id = \(bind: scope.realm)")
            if let resource = query.resource {
                // Read directly, or shown in a list or search (whose events name the ids they returned).
                sql.appendInterpolation(unsafeRaw: " AND (resource_id = ")
                sql.appendInterpolation(bind: resource)
                sql.appendInterpolation(unsafeRaw: " OR detail LIKE ")
                sql.appendInterpolation(bind: "%" + resource.uuidString.lowercased() + "%")
                sql.appendInterpolation(unsafeRaw: ")")
            }
            if let actor = query.actor {
                sql.appendInterpolation(unsafeRaw: " AND actor_id = ")
                sql.appendInterpolation(bind: actor)
            }
            if let from = query.from {
                sql.appendInterpolation(unsafeRaw: " AND occurred_at_ms >= ")
                sql.appendInterpolation(bind: from.milliseconds)
            }
            if let to = query.to {
                sql.appendInterpolation(unsafeRaw: " AND occurred_at_ms <= ")
                sql.appendInterpolation(bind: to.milliseconds)
            }
            sql.appendInterpolation(unsafeRaw: " ORDER BY sequence LIMIT ")
            sql.appendInterpolation(bind: query.limit)
            let entries = try await tx.sql.raw(sql).all().map(Ledger.entry(from:))
            try await Ledger.append(scope.event("audit.read", resourceType: query.resource == nil ? nil : "patient", resource: query.resource), in: tx)
            return entries
        }
    }
}
