import ClinicDomain
import Crypto
import Foundation
import Keyring
import Logging
import SQLKit

/// PostgreSQL reporting roles for BI tools: a role the operator created is given one clinic's
/// pseudonymised visits (`AnalyticsExport`) as a table in the `reporting` schema that only it
/// (and the server, which refreshes it) may read. Its pseudonyms are made under a key kept for
/// that grant, sealed with the clinic's keys, so a refreshed table joins with itself over time;
/// granting again makes a new key, so nothing read before can be joined to what comes after.
/// The role gets nothing else: no table of the application, no other clinic's table.
struct ReportingGrants: Sendable {
    let services: ClinicServices

    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// A role name a BI tool connects with: lower-case letters, digits and underscores, so the
    /// table named after it is an identifier without quoting surprises and within PostgreSQL's 63.
    static func checkedRole(_ text: String) throws -> String {
        guard text.count <= 28, text.first.map({ $0.isASCII && $0.isLowercase }) == true,
              text.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
            throw Refusal(description: "--role takes a PostgreSQL role name of 1 to 28 lower-case letters, digits and underscores, starting with a letter")
        }
        return text
    }

    /// `reporting.v_<clinic>_<role>`: one table per grant.
    static func table(role: String, clinic: ClinicID) -> String {
        "v_" + clinic.rawValue.uuidString.lowercased().replacingOccurrences(of: "-", with: "") + "_" + role
    }

    /// Makes (or renews) the grant and fills its table. Needs the tables' owner's connection.
    func grant(role: String, clinic: ClinicID, appRole: String?, context: RequestContext) async throws -> Int {
        guard services.store.kind == .postgres else {
            throw Refusal(description: "reporting roles are PostgreSQL roles: this server runs on SQLite (the analytics export is `analytics export`)")
        }
        let role = try Self.checkedRole(role)
        let table = Self.table(role: role, clinic: clinic)
        let keyring = services.keyring
        try await services.store.ownerTransaction(realm: clinic.rawValue) { tx in
            guard try await tx.sql.raw("SELECT id FROM clinics WHERE id = \(bind: clinic.rawValue) AND status = 'active'").first() != nil else {
                throw Refusal(description: "no active clinic \(clinic) on this database")
            }
            guard let found = try await tx.sql.raw("""
                SELECT rolsuper, rolbypassrls, rolname = current_user AS is_owner FROM pg_roles WHERE rolname = \(bind: role)
                """).first() else {
                throw Refusal(description: "no role \(role): create it first (CREATE ROLE \(role) LOGIN PASSWORD '…'), then grant")
            }
            // A member of the server's role or of pg_read_all_data could read far more than its table.
            let broad = try await tx.sql.raw("""
                SELECT pg_has_role(\(bind: role), 'pg_read_all_data', 'MEMBER') OR pg_has_role(\(bind: role), current_user, 'MEMBER')
                       OR (\(bind: appRole ?? "") <> '' AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = \(bind: appRole ?? ""))
                           AND pg_has_role(\(bind: role), \(bind: appRole ?? ""), 'MEMBER')) AS broad
                """).first()?.decode(column: "broad", as: Bool.self) ?? true
            guard try !found.decode(column: "rolsuper", as: Bool.self), try !found.decode(column: "rolbypassrls", as: Bool.self),
                  try !found.decode(column: "is_owner", as: Bool.self), role != appRole, !broad else {
                throw Refusal(description: "\(role) is a superuser, bypasses row-level security, reads all data or is (a member of) one of the server's own roles: give reporting a role of its own")
            }
            // A `reporting` schema someone else made would let them swap a table for their own.
            if let owner = try await tx.sql.raw("""
                SELECT nspowner::regrole::text = current_user AS ours FROM pg_namespace WHERE nspname = 'reporting'
                """).first(), try !owner.decode(column: "ours", as: Bool.self) {
                throw Refusal(description: "the schema reporting exists and belongs to another role: drop it or give it to the tables' owner first")
            }
            var statements: [SQLQueryString] = [
                "CREATE SCHEMA IF NOT EXISTS reporting",
                "REVOKE ALL ON SCHEMA reporting FROM PUBLIC",
                "DROP TABLE IF EXISTS reporting.\(ident: table)",
                """
                CREATE TABLE reporting.\(ident: table) (patient TEXT NOT NULL, age_band TEXT NOT NULL, sex TEXT NOT NULL, region TEXT NOT NULL,
                    month TEXT NOT NULL, appointment_type TEXT NOT NULL, practitioner TEXT NOT NULL, outcome TEXT NOT NULL, invoiced TEXT NOT NULL)
                """,
                "REVOKE ALL ON reporting.\(ident: table) FROM PUBLIC",
                "GRANT USAGE ON SCHEMA reporting TO \(ident: role)",
                "GRANT SELECT ON reporting.\(ident: table) TO \(ident: role)",
            ]
            if let appRole {
                statements += ["GRANT USAGE ON SCHEMA reporting TO \(ident: appRole)",
                               "GRANT SELECT, INSERT, DELETE ON reporting.\(ident: table) TO \(ident: appRole)"]
            }
            for statement in statements { try await tx.sql.raw(statement).run() }
            let keys = try await keyring.keys(for: clinic.rawValue, in: tx)
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            let sealed = try keys.seal(key.base64EncodedString(), table: "reporting_grants", column: "grant_key", row: clinic.rawValue).bytes
            try await tx.sql.raw("DELETE FROM reporting_grants WHERE role_name = \(bind: role) AND clinic_id = \(bind: clinic.rawValue)").run()
            try await tx.sql.raw("""
                INSERT INTO reporting_grants (role_name, clinic_id, grant_key, created_at_ms) VALUES
                (\(bind: role), \(bind: clinic.rawValue), \(bind: sealed), \(bind: Date().milliseconds))
                """).run()
            try await Ledger.append(context.event(chain: clinic.rawValue, action: "reporting.grant", detail: "role=\(role)"), in: tx)
        }
        return try await refresh(role: role, clinic: clinic, context: context)
    }

    /// Refreshes every grant's table (the scheduler inside `serve`); answers how many.
    func refreshAll(context: RequestContext, logger: Logger) async throws -> Int {
        guard services.store.kind == .postgres else { return 0 }
        // Grants are rows of their clinic's realm: each clinic's are read in its own (deleted
        // clinics too, whose grants are withdrawn below).
        var grants: [(String, ClinicID)] = []
        for row in try await services.store.global.raw("SELECT id FROM clinics").all() {
            let clinic = ClinicID(try row.decode(column: "id", as: UUID.self))
            grants += try await services.store.transaction(realm: clinic.rawValue) { tx in
                try await tx.sql.raw("SELECT role_name FROM reporting_grants WHERE clinic_id = \(bind: clinic.rawValue)").all().map {
                    (try $0.decode(column: "role_name", as: String.self), clinic)
                }
            }
        }
        var refreshed = 0
        for (role, clinic) in grants {
            do {
                _ = try await refresh(role: role, clinic: clinic, context: context)
                refreshed += 1
            } catch let error as ClinicError where error.status == 404 {
                // A deleted clinic: nothing it held may still be read, here either.
                try await withdraw(role: role, clinic: clinic)
            } catch {
                // One grant that cannot be refreshed (its key retired, say) holds up no other.
                logger.warning("reporting table not refreshed: grant it again", metadata: [
                    "role": .string(role), "clinic": .string(clinic.description),
                    "error_type": .string(String(reflecting: type(of: error))),
                ])
            }
        }
        return refreshed
    }

    /// A deleted clinic's grant and its table's rows.
    private func withdraw(role: String, clinic: ClinicID) async throws {
        let table = Self.table(role: role, clinic: clinic)
        try await services.store.transaction(realm: clinic.rawValue) { tx in
            try await tx.sql.raw("DELETE FROM reporting.\(ident: table)").run()
            try await tx.sql.raw("DELETE FROM reporting_grants WHERE role_name = \(bind: role) AND clinic_id = \(bind: clinic.rawValue)").run()
        }
    }

    /// The grant's rows made again under its key, replacing the table's in one transaction: a
    /// reader sees the old rows or the new, never half. Only finished months, with ages as on the
    /// day of the grant: a row never appears the hour its visit was marked, and an age band never
    /// moves on a birthday, either of which would date a pseudonym's visit or birth.
    func refresh(role: String, clinic: ClinicID, context: RequestContext) async throws -> Int {
        let keyring = services.keyring
        let (sealed, key, granted, zone) = try await services.store.transaction(realm: clinic.rawValue) { tx -> (Data, Data, Date, TimeZone) in
            guard let row = try await tx.sql.raw("""
                SELECT g.grant_key, g.created_at_ms, c.time_zone FROM reporting_grants g JOIN clinics c ON c.id = g.clinic_id
                WHERE g.role_name = \(bind: role) AND g.clinic_id = \(bind: clinic.rawValue) AND c.status = 'active'
                """).first() else { throw ClinicError.notFound }
            let keys = try await keyring.keys(for: clinic.rawValue, in: tx)
            let opened = try keys.openColumn(row, table: "reporting_grants", column: "grant_key", id: clinic.rawValue)
            guard let opened, let key = Data(base64Encoded: opened) else { throw ClinicError.integrityFailure }
            return (try row.decode(column: "grant_key", as: Data.self), key,
                    Date(milliseconds: try row.decode(column: "created_at_ms", as: Int64.self)),
                    ClinicTimeZone(storedIdentifier: try row.decode(column: "time_zone", as: String.self)).zone)
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let monthStart = calendar.dateInterval(of: .month, for: Date())?.start ?? Date()
        let result = try await AnalyticsExport(clinic: clinic, context: context, services: services)
            .rows(k: services.settings.analyticsK, agesOn: granted, before: monthStart, key: SymmetricKey(data: key), action: "reporting.refresh")
        let table = Self.table(role: role, clinic: clinic)
        let rows = Array(result.rows.dropFirst())
        try await services.store.transaction(realm: clinic.rawValue) { tx in
            // Granted again meanwhile: these rows were made under the old key and must not mix.
            // (Reporting roles exist on PostgreSQL only.)
            guard let current = try await tx.sql.raw("""
                SELECT grant_key FROM reporting_grants WHERE role_name = \(bind: role) AND clinic_id = \(bind: clinic.rawValue) FOR UPDATE
                """).first(), try current.decode(column: "grant_key", as: Data.self) == sealed else { return }
            try await tx.sql.raw("DELETE FROM reporting.\(ident: table)").run()
            for start in stride(from: 0, to: rows.count, by: 500) {
                var insert: SQLQueryString = "INSERT INTO reporting.\(ident: table) VALUES "
                for (position, row) in rows[start..<min(start + 500, rows.count)].enumerated() {
                    insert = insert + (position == 0 ? "(" : ", (") + "\(binds: row))"
                }
                try await tx.sql.raw(insert).run()
            }
            try await tx.sql.raw("""
                UPDATE reporting_grants SET refreshed_at_ms = \(bind: Date().milliseconds)
                WHERE role_name = \(bind: role) AND clinic_id = \(bind: clinic.rawValue)
                """).run()
        }
        return rows.count
    }
}
