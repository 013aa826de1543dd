import AuditLedger
import Foundation
import SQLKit

struct AuditQuery: Sendable {
    var resource: UUID?
    var actor: UUID?
    var from: Date?
    var to: Date?
    var limit = 500
    /// The newest events first (a page shows what happened lately); oldest first otherwise.
    var newestFirst = false
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
            Self.limit(&sql, from: query.from, to: query.to)
            sql.appendInterpolation(unsafeRaw: query.newestFirst ? " ORDER BY sequence DESC LIMIT " : " ORDER BY sequence LIMIT ")
            sql.appendInterpolation(bind: query.limit)
            let entries = try await tx.sql.raw(sql).all().map(Ledger.entry(from:))
            try await Ledger.append(scope.event("audit.read", resourceType: query.resource == nil ? nil : "patient", resource: query.resource), in: tx)
            return entries
        }
    }

    /// Narrows a ledger query to events in a period (either end open).
    static func limit(_ sql: inout SQLQueryString, from: Date?, to: Date?) {
        if let from {
            sql.appendInterpolation(unsafeRaw: " AND occurred_at_ms >= ")
            sql.appendInterpolation(bind: from.milliseconds)
        }
        if let to {
            sql.appendInterpolation(unsafeRaw: " AND occurred_at_ms <= ")
            sql.appendInterpolation(bind: to.milliseconds)
        }
    }
}

/// Failed sign-ins from one address, counted over a clinic's members.
struct SignInFailures: Sendable {
    let address: String
    let failures: Int64
    let accounts: Int64
    let lastAt: Date
}

extension AuditQueries {
    /// Failed sign-ins and second factors of this clinic's members, by address, most first.
    /// They live in the identity chain (a person may belong to several clinics); attempts with
    /// an unknown e-mail name no member and are the operator's to see, not a clinic's.
    func signInFailures(from: Date?, to: Date?) async throws -> [SignInFailures] {
        let scope = self.scope
        return try await services.store.transaction(realm: IdentityRealm.id) { tx in
            var sql = SQLQueryString("""
                SELECT address, COUNT(*) AS failures, COUNT(DISTINCT actor_id) AS accounts, MAX(occurred_at_ms) AS last_at_ms
                FROM audit_events WHERE chain_id = \(bind: IdentityRealm.id) AND outcome = 'failure'
                AND action IN ('auth.login', 'auth.mfa') AND address IS NOT NULL
                AND actor_id IN (SELECT user_id FROM memberships WHERE clinic_id = \(bind: scope.realm))
                """)
            Self.limit(&sql, from: from, to: to)
            sql.appendInterpolation(unsafeRaw: " GROUP BY address ORDER BY failures DESC, address LIMIT 1000")
            let rows = try await tx.sql.raw(sql).all().map { row in
                SignInFailures(address: try row.decode(column: "address", as: String.self), failures: try row.decode(column: "failures", as: Int64.self),
                               accounts: try row.decode(column: "accounts", as: Int64.self),
                               lastAt: Date(milliseconds: try row.decode(column: "last_at_ms", as: Int64.self)))
            }
            // The asking is recorded in the clinic's own chain, in the same transaction.
            try await tx.enter(realm: scope.realm)
            try await Ledger.append(scope.event("audit.read", detail: "question=sign-in-failures"), in: tx)
            return rows
        }
    }
}
